import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../../shared/log.ts'
import { errorMessage } from '../../shared/errors.ts'
import { BUNDLE_FILES, DIST_DIR, ensurePageBuilt, WEB_ROOT } from '../web/build.ts'
import type { HttpRegistry } from './registry.ts'

/** A file the page needs, held in memory (the whole page is about 100 KiB). */
interface Asset {
  body: Buffer
  type: string
  etag: string
}

/** URL path -> where the file is and what it is. Nothing else is served: no directory walking. */
const ASSET_SOURCES: Record<string, { path: string, type: string, summary?: string }> = {
  '/': { path: join(WEB_ROOT, 'index.html'), type: 'text/html; charset=utf-8', summary: 'the fleet page' },
  '/assets/app.js': { path: join(DIST_DIR, BUNDLE_FILES.script), type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { path: join(DIST_DIR, BUNDLE_FILES.style), type: 'text/css; charset=utf-8' },
  '/assets/favicon.svg': { path: join(WEB_ROOT, 'favicon.svg'), type: 'image/svg+xml' },
}

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fleet health</title></head><body>
<h1>Fleet health</h1><p>The fleet page is not built and could not be built here; see the aggregator's log. Run <code>npm run build:page</code> in the installation. The data is at <a href="/api/v1/fleet">/api/v1/fleet</a>.</p></body></html>`

async function loadAssets (): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>()
  for (const [url, source] of Object.entries(ASSET_SOURCES)) {
    const body = await readFile(source.path)
    assets.set(url, { body, type: source.type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` })
  }
  return assets
}

/**
 * GET / and /assets/*: the fleet page. `load` (at start) rebuilds the bundle
 * when it is missing or older than its sources (esbuild, well under a
 * second), then reads it into memory. Answers carry an ETag and `no-cache`,
 * so a browser revalidates cheaply and never runs a stale page after an
 * upgrade.
 */
export class FleetPage {
  private readonly logger: Logger | undefined
  private assets: Map<string, Asset> | undefined

  constructor (logger?: Logger) {
    this.logger = logger
  }

  async load (): Promise<void> {
    try {
      const outcome = await ensurePageBuilt()
      if (outcome.rebuilt) this.logger?.info({ reason: outcome.reason, ms: outcome.result.ms, bytes: outcome.result.bytes }, 'fleet page built')
    } catch (err) {
      // A read-only installation may still hold a usable bundle: say why, serve what is there.
      this.logger?.warn({ err: errorMessage(err) }, 'could not build the fleet page; serving the bundle on disk, if any')
    }
    try {
      this.assets = await loadAssets()
    } catch (err) {
      this.logger?.error({ err: errorMessage(err) }, 'the fleet page is missing; GET / explains how to build it')
    }
  }

  routes (http: HttpRegistry): void {
    for (const [url, source] of Object.entries(ASSET_SOURCES)) {
      http.route({ method: 'GET', path: url, summary: source.summary ?? 'an asset of the page', hidden: source.summary === undefined, handler: this.serve(url) })
    }
  }

  private serve (url: string) {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const asset = this.assets?.get(url)
      if (asset === undefined) return await reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE)
      void reply.header('cache-control', 'no-cache').header('etag', asset.etag)
      if (request.headers['if-none-match'] === asset.etag) return await reply.status(304).send()
      return await reply.type(asset.type).send(asset.body)
    }
  }
}
