import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ErrorCodes, UsageError } from '../../shared/errors.ts'
import { showsDetails, type DetailsMode } from '../fleet/exposure.ts'

/**
 * The HTTP side of the security story beyond the tokens (admin-auth.ts, viewer-auth.ts):
 * who sees details, and which other origins may read the API (none unless
 * configured).
 */

/**
 * Whether a request sees component details and remote addresses under `mode`
 * (--details): authorized is whoever `roleOf` knows (the admin or viewer
 * token, or a page session: viewer-auth.ts).
 */
export function detailsDecider (mode: DetailsMode, auth: { roleOf: (request: FastifyRequest) => unknown }): (request: FastifyRequest) => boolean {
  return (request) => showsDetails(mode, auth.roleOf(request) !== undefined)
}

/** Checks an origin given to --cors-origin: `*` or scheme://host[:port]. */
export function parseCorsOrigin (text: string): string {
  const value = text.trim()
  if (value === '*') return value
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid --cors-origin "${text}": expected * or an origin such as https://ops.example.com`)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== value.replace(/\/$/, '')) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid --cors-origin "${text}": expected * or an origin such as https://ops.example.com (no path)`)
  }
  return url.origin
}

/**
 * CORS for read-only cross-origin use of the API, off unless origins are
 * configured: browsers on other origins get no Access-Control-Allow-Origin
 * and cannot read answers. Never with credentials.
 */
export function registerCors (app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return
  const any = origins.includes('*')
  const allowed = new Set(origins)
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin
    if (origin === undefined || (!any && !allowed.has(origin))) return
    void reply.header('access-control-allow-origin', any ? '*' : origin)
    if (!any) void reply.header('vary', 'Origin')
    if (request.method === 'OPTIONS') {
      void reply.header('access-control-allow-methods', 'GET, HEAD')
      void reply.header('access-control-allow-headers', 'authorization')
      void reply.header('access-control-max-age', '600')
      await reply.status(204).send()
      return reply
    }
    return undefined
  })
  // Preflight requests must reach the hook above rather than the 404 handler.
  app.options('*', async (_request, reply) => await reply.status(204).send())
}
