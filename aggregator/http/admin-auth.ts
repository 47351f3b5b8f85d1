import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCodes, HeartbeatError, UsageError } from '../../shared/errors.ts'

/** Shorter tokens are refused: they could be guessed. */
export const MIN_ADMIN_TOKEN_LENGTH = 16

/**
 * The admin API's bearer token. Compared in constant time over SHA-256
 * digests, so neither the token's content nor its length leaks through
 * timing. Without a token the admin API is off.
 */
export class AdminAuth {
  private readonly digest: Buffer | undefined

  constructor (token: string | undefined) {
    this.digest = token === undefined ? undefined : sha256(token)
  }

  get enabled (): boolean {
    return this.digest !== undefined
  }

  /** True when the Authorization header carries the token as `Bearer <token>`. */
  verify (authorization: string | undefined): boolean {
    if (this.digest === undefined || authorization === undefined) return false
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)
    if (match === null) return false
    return timingSafeEqual(sha256(match[1] as string), this.digest)
  }

  /** A fastify preHandler for admin routes: 403 when the admin API is off, 401 without the right token. */
  guard () {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (!this.enabled) throw new HeartbeatError(ErrorCodes.ADMIN_DISABLED, 'the admin API is off: start the aggregator with --admin-token-file')
      if (!this.verify(request.headers.authorization)) {
        void reply.header('www-authenticate', 'Bearer realm="heartbeat-aggregator"')
        throw new HeartbeatError(ErrorCodes.UNAUTHORIZED, 'missing or wrong bearer token')
      }
    }
  }
}

function sha256 (text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/**
 * Reads a token from --admin-token-file (or --viewer-token-file): the whole file, surrounding
 * whitespace trimmed. Returns whether others may read the file, for the
 * caller to warn about (Kubernetes mounts secrets 0644 unless told
 * otherwise, so this is a warning, not a refusal).
 */
export async function readAdminTokenFile (path: string, flag = '--admin-token-file'): Promise<{ token: string, readableByOthers: boolean }> {
  let text: string
  let mode: number
  try {
    mode = (await stat(path)).mode
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `cannot read ${flag} ${path}: ${(err as Error).message}`)
  }
  const token = text.trim()
  if (token.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT,
      `${flag} ${path} must hold one token of at least ${MIN_ADMIN_TOKEN_LENGTH} characters without spaces (e.g. openssl rand -hex 32 > ${path})`)
  }
  return { token, readableByOthers: process.platform !== 'win32' && (mode & 0o004) !== 0 }
}
