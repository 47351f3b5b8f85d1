import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCodes, HeartbeatError, UsageError } from '../../shared/errors.ts'
import { MIN_ADMIN_TOKEN_LENGTH } from '../constants.ts'
import { showsDetails, type DetailsMode } from '../fleet/exposure.ts'

/**
 * The HTTP side of the security story: who is an admin (a bearer token,
 * compared in constant time), and which other origins may read the API (none
 * unless configured).
 */

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

/** Checks `Authorization: Bearer <token>` against the admin token. */
export class AdminAuth {
  private readonly digest: Buffer | undefined

  constructor (token: string | undefined) {
    this.digest = token === undefined ? undefined : sha256(token)
  }

  /** False when no admin token is configured: then nobody is an admin. */
  get enabled (): boolean {
    return this.digest !== undefined
  }

  /**
   * True when the header carries the admin token. Both sides are hashed
   * first, so the comparison takes the same time whatever the guess and
   * whatever its length.
   */
  isAuthorized (authorization: string | undefined): boolean {
    if (this.digest === undefined || authorization === undefined) return false
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)
    if (match === null) return false
    return timingSafeEqual(sha256(match[1] as string), this.digest)
  }

  /** A fastify preHandler for admin routes: 403 when admin is off, 401 without the token. */
  requireAdmin () {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (!this.enabled) throw new HeartbeatError(ErrorCodes.FORBIDDEN, 'admin endpoints are off: start the aggregator with --admin-token-file')
      if (!this.isAuthorized(request.headers.authorization)) {
        void reply.header('www-authenticate', 'Bearer realm="heartbeat-aggregator"')
        throw new HeartbeatError(ErrorCodes.UNAUTHORIZED, 'admin endpoint: send Authorization: Bearer <admin token>')
      }
    }
  }
}

/** Whether a request sees component details and remote addresses under `mode` (--details). */
export function detailsDecider (mode: DetailsMode, auth: AdminAuth): (request: FastifyRequest) => boolean {
  return (request) => showsDetails(mode, auth.isAuthorized(request.headers.authorization))
}

/**
 * Reads the admin token file: the whole file, trimmed. Like a key file it
 * must not be readable by group or others, and a short token is refused.
 */
export async function loadAdminToken (path: string): Promise<string> {
  let text: string
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `--admin-token-file ${path} is not a regular file`)
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new UsageError(ErrorCodes.INSECURE_KEY_FILE,
        `--admin-token-file ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`)
    }
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `cannot read --admin-token-file ${path}: ${(err as Error).message}`)
  }
  const token = text.trim()
  if (token.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `--admin-token-file ${path}: the token must be one word of at least ${MIN_ADMIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`)
  }
  return token
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
