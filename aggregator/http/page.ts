import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../../shared/log.ts'
import { errorMessage } from '../../shared/errors.ts'
import { readCodeFile, RUNNING_FROM_SOURCES } from '../../shared/package-files.ts'
import { PAGE_ROUTES } from '../web/assets.ts'

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

/** In a clone: rebuilds the bundle when it is missing or older than its sources (esbuild, a development tool, is loaded only here). */
async function refreshBundle (logger: Logger | undefined): Promise<void> {
  try {
    const { ensurePageBuilt } = await import('../web/build.ts')
    const outcome = await ensurePageBuilt()
    if (outcome.rebuilt) logger?.info({ reason: outcome.reason, ms: outcome.result.ms, bytes: outcome.result.bytes }, 'fleet page built')
  } catch (err) {
    // A clone without its development tools may still hold a usable bundle: say why, serve what is there.
    logger?.warn({ err: errorMessage(err) }, 'could not build the fleet page; serving the bundle on disk, if any')
  }
}

/**
 * GET / and /assets/*: the fleet page, read into memory at start. Run from
 * the sources (a clone), the bundle is first rebuilt when it is missing or
 * older than its sources (esbuild, well under a second); dist/ and the single
 * executables serve the bundle they ship. Answers carry an ETag and
 * `no-cache`, so a browser revalidates cheaply and never runs a stale page
 * after an upgrade.
 */
export function registerPage (app: FastifyInstance, options: { logger?: Logger } = {}): void {
  const { logger } = options
  app.register(async (scope) => {
    let assets: Map<string, Asset> | undefined
    if (RUNNING_FROM_SOURCES) await refreshBundle(logger)
    try {
      assets = loadAssets()
    } catch (err) {
      logger?.error({ err: errorMessage(err) }, 'the fleet page is missing; GET / says what to do')
    }

    const serve = (url: string) => async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const asset = assets?.get(url)
      if (asset === undefined) return await reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE)
      void reply.header('cache-control', 'no-cache').header('etag', asset.etag)
      if (request.headers['if-none-match'] === asset.etag) return await reply.status(304).send()
      return await reply.type(asset.type).send(asset.body)
    }
    for (const url of Object.keys(PAGE_ROUTES)) scope.get(url, serve(url))
  })
}
