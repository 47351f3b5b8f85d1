import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../../shared/log.ts'
import { errorMessage } from '../../shared/errors.ts'
import { readCodeFile, RUNNING_FROM_SOURCES } from '../../shared/package-files.ts'
import { PAGE_ROUTES } from '../web/assets.ts'
import type { HttpRegistry } from './registry.ts'

/** A file the page needs, held in memory (the whole page is about 100 KiB). */
interface Asset {
  body: Buffer
  type: string
  etag: string
}

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fleet health</title></head><body>
<h1>Fleet health</h1><p>The fleet page is missing ${RUNNING_FROM_SOURCES
  ? 'and could not be built here; see the aggregator\'s log, and run <code>npm run build:page</code> in the clone'
  : 'from this installation; see the aggregator\'s log, and reinstall it'}. The data is at <a href="/api/v1/fleet">/api/v1/fleet</a>.</p></body></html>`

function loadAssets (): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  for (const [url, route] of Object.entries(PAGE_ROUTES)) {
    const body = readCodeFile(route.file)
    assets.set(url, { body, type: route.type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` })
  }
  return assets
}

/**
 * GET / and /assets/*: the fleet page. `load` (at start) reads it into
 * memory; run from the sources (a clone), it first rebuilds the bundle when it
 * is missing or older than its sources (esbuild, well under a second), while
 * dist/ and the single executables serve the bundle they ship. Answers carry
 * an ETag and `no-cache`, so a browser revalidates cheaply and never runs a
 * stale page after an upgrade.
 */
export class FleetPage {
  private readonly logger: Logger | undefined
  private assets: Map<string, Asset> | undefined

  constructor (logger?: Logger) {
    this.logger = logger
  }

  async load (): Promise<void> {
    if (RUNNING_FROM_SOURCES) await this.refreshBundle()
    try {
      this.assets = loadAssets()
    } catch (err) {
      this.logger?.error({ err: errorMessage(err) }, 'the fleet page is missing; GET / says what to do')
    }
  }

  routes (http: HttpRegistry): void {
    for (const [url, route] of Object.entries(PAGE_ROUTES)) {
      http.route({ method: 'GET', path: url, summary: route.summary ?? 'an asset of the page', hidden: route.summary === undefined, handler: this.serve(url) })
    }
  }

  /** In a clone: esbuild, a development tool, is loaded only here. */
  private async refreshBundle (): Promise<void> {
    try {
      const { ensurePageBuilt } = await import('../web/build.ts')
      const outcome = await ensurePageBuilt()
      if (outcome.rebuilt) this.logger?.info({ reason: outcome.reason, ms: outcome.result.ms, bytes: outcome.result.bytes }, 'fleet page built')
    } catch (err) {
      // A clone without its development tools may still hold a usable bundle: say why, serve what is there.
      this.logger?.warn({ err: errorMessage(err) }, 'could not build the fleet page; serving the bundle on disk, if any')
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
