import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { DetailsMode } from '../fleet/exposure.ts'
import type { HttpRegistry } from './registry.ts'
import type { ViewerAuth } from './viewer-auth.ts'

export interface SessionRoutesOptions {
  auth: ViewerAuth
  /** --details, for the page to say what signing in shows. */
  details: DetailsMode
  logger?: Logger
}

/**
 * Signing the page in (docs/security.md, "Signing in"):
 *   GET    /api/v1/session  whether this browser is signed in, as what, until when; whether sign-in is on
 *   POST   /api/v1/session  Authorization: Bearer <viewer or admin token> -> session cookie
 *   DELETE /api/v1/session  signs out (the session ends here, not only in the browser)
 * State-changing requests from another origin are refused (CSRF), on top of
 * the cookie's SameSite=Strict.
 */
export function registerSessionRoutes (http: HttpRegistry, options: SessionRoutesOptions): void {
  const { auth, details, logger } = options

  http.route({
    method: 'GET',
    path: '/api/v1/session',
    summary: 'whether this browser is signed in (page sign-in), as what, until when',
    handler: async (request, reply) => {
      void reply.header('cache-control', 'no-store')
      const session = auth.session(request)
      return {
        signedIn: session !== undefined,
        role: session?.role ?? null,
        expiresAt: session?.expiresAt ?? null,
        signIn: auth.enabled,
        details,
      }
    },
  })

  http.route({
    method: 'POST',
    path: '/api/v1/session',
    summary: 'sign the page in: Authorization: Bearer <viewer or admin token> sets a session cookie',
    handler: async (request, reply) => {
      auth.checkOrigin(request, false)
      if (!auth.enabled) throw new HeartbeatError(ErrorCodes.SIGNIN_DISABLED, 'sign-in is off: start the aggregator with --viewer-token-file (or --admin-token-file)')
      const role = auth.roleOfToken(request.headers.authorization)
      if (role === undefined) {
        logger?.warn({ remote: request.ip }, 'sign-in refused: wrong or missing token')
        void reply.header('www-authenticate', 'Bearer realm="heartbeat-aggregator"')
        throw new HeartbeatError(ErrorCodes.UNAUTHORIZED, 'missing or wrong token: send Authorization: Bearer <viewer or admin token>')
      }
      const { id, info } = auth.open(role)
      logger?.info({ role, remote: request.ip, expiresAt: info.expiresAt }, 'page signed in')
      return await reply.status(201).header('cache-control', 'no-store').header('set-cookie', auth.cookie(request, id)).send({ signedIn: true, ...info })
    },
  })

  http.route({
    method: 'DELETE',
    path: '/api/v1/session',
    summary: 'sign out: the session ends here, and live feeds opened with it close',
    handler: async (request, reply) => {
      auth.checkOrigin(request, false)
      const ended = auth.close(request)
      if (ended) logger?.info({ remote: request.ip }, 'page signed out')
      return await reply.header('cache-control', 'no-store').header('set-cookie', auth.clearCookie(request)).send({ signedIn: false, ended })
    },
  })
}
