import { createHash, randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type Clock, systemClock, type Timer } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { AdminAuth } from './admin-auth.ts'

/**
 * Who a request is: the admin (the --admin-token-file token), a viewer (the
 * --viewer-token-file token), or nobody. A browser cannot keep sending a
 * header, and EventSource cannot send one at all, so the page trades a token
 * once (POST /api/v1/session) for a session cookie.
 *
 * Sessions are random ids held here with their role and expiry, not signed
 * values: signing out (or the expiry) really ends a session, since nothing
 * outside this map can vouch for it; a restart ends every session (nothing
 * to rotate, no key to keep); and a cookie says nothing (no role, no time)
 * to whoever reads it. The cost is that sessions live in one process: each
 * aggregator behind a load balancer has its own (sign in again there).
 *
 * A cookie never grants the admin routes: those take the bearer token. The
 * one exception is what the page itself offers an admin session (removing a
 * node), and only from the page's own origin (see sameOrigin).
 */

export type Role = 'admin' | 'viewer'

/** The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Path=/. */
export const SESSION_COOKIE = 'hb_session'
/** A session lasts this long from sign-in (an on-call shift), then the page asks for the token again. */
export const SESSION_TTL_MS = 12 * 3_600_000
/** Sessions held at once; signing in beyond this ends the oldest (a flood of sign-ins cannot grow memory). */
export const MAX_SESSIONS = 10_000
/** Expired sessions are swept (and their live feeds closed) this often. */
export const SESSION_SWEEP_MS = 60_000
/** Random bytes in a session id (256 bits: not guessable). */
const SESSION_ID_BYTES = 32

interface Session {
  role: Role
  /** Monotonic ms. */
  expiresAt: number
  /** Wall-clock ms, for display. */
  expiresAtWall: number
  /** Live feeds opened with this session: closed when it ends, so they stop getting details. */
  streams: Set<ServerResponse>
}

export interface SessionInfo {
  role: Role
  expiresAt: string
}

/** Reads one cookie from a Cookie header (RFC 6265 pairs; the first of a name wins). */
export function readCookie (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() !== name) continue
    const value = part.slice(eq + 1).trim()
    return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value
  }
  return undefined
}

function sha256 (text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

export interface ViewerAuthOptions {
  admin: AdminAuth
  /** The --viewer-token-file token; without it only the admin token signs in. */
  viewerToken?: string
  /** The URL people reach the page at (--public-url): its origin counts as the page's own, and https there makes cookies Secure. */
  publicUrl?: string
  clock?: Clock
  ttlMs?: number
  maxSessions?: number
  /** Random bytes (injected for tests). */
  random?: (size: number) => Buffer
}

export class ViewerAuth {
  readonly ttlMs: number
  private readonly admin: AdminAuth
  /** The viewer token's check: the same bearer comparison (constant time over digests) as the admin token's. */
  private readonly viewer: AdminAuth
  private readonly publicOrigin: string | undefined
  private readonly publicHttps: boolean
  private readonly clock: Clock
  private readonly maxSessions: number
  private readonly random: (size: number) => Buffer
  /** Keyed by the SHA-256 of the id: the map holds nothing a memory dump could replay as a cookie. */
  private readonly sessions = new Map<string, Session>()
  private sweeper: Timer | undefined

  constructor (options: ViewerAuthOptions) {
    this.admin = options.admin
    this.viewer = new AdminAuth(options.viewerToken)
    let publicUrl: URL | undefined
    try {
      publicUrl = options.publicUrl === undefined ? undefined : new URL(options.publicUrl)
    } catch {
      publicUrl = undefined
    }
    this.publicOrigin = publicUrl?.origin
    this.publicHttps = publicUrl?.protocol === 'https:'
    this.clock = options.clock ?? systemClock
    this.ttlMs = options.ttlMs ?? SESSION_TTL_MS
    this.maxSessions = options.maxSessions ?? MAX_SESSIONS
    this.random = options.random ?? randomBytes
  }

  /** Whether any token can sign in (the admin's or the viewers'). */
  get enabled (): boolean {
    return this.admin.enabled || this.viewer.enabled
  }

  /** The role a bearer token grants: the admin token wins (it can do all a viewer can). */
  roleOfToken (authorization: string | undefined): Role | undefined {
    if (this.admin.verify(authorization)) return 'admin'
    return this.viewer.verify(authorization) ? 'viewer' : undefined
  }

  /** The live session a request's cookie names, if any. */
  private sessionOf (request: FastifyRequest): { key: string, session: Session } | undefined {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE)
    if (id === undefined || id === '' || id.length > 128) return undefined
    const key = sha256(id).toString('base64url')
    const session = this.sessions.get(key)
    if (session === undefined) return undefined
    if (this.clock.monotonic() >= session.expiresAt) {
      this.end(key, session)
      return undefined
    }
    return { key, session }
  }

  /** Who the request is: a bearer token first, else a session cookie. */
  roleOf (request: FastifyRequest): Role | undefined {
    return this.roleOfToken(request.headers.authorization) ?? this.sessionOf(request)?.session.role
  }

  /** The request's session, as GET /api/v1/session shows it. */
  session (request: FastifyRequest): SessionInfo | undefined {
    const found = this.sessionOf(request)
    return found === undefined ? undefined : { role: found.session.role, expiresAt: new Date(found.session.expiresAtWall).toISOString() }
  }

  /** Opens a session for `role`; returns the cookie value and when it ends. */
  open (role: Role): { id: string, info: SessionInfo } {
    this.startSweeping()
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.entries().next().value
      if (oldest === undefined) break
      this.end(oldest[0], oldest[1])
    }
    const id = this.random(SESSION_ID_BYTES).toString('base64url')
    const expiresAtWall = this.clock.wall() + this.ttlMs
    this.sessions.set(sha256(id).toString('base64url'), { role, expiresAt: this.clock.monotonic() + this.ttlMs, expiresAtWall, streams: new Set() })
    return { id, info: { role, expiresAt: new Date(expiresAtWall).toISOString() } }
  }

  /** Ends the request's session (sign out); true when there was one. */
  close (request: FastifyRequest): boolean {
    const found = this.sessionOf(request)
    if (found === undefined) return false
    this.end(found.key, found.session)
    return true
  }

  /** Sessions held now. */
  get size (): number {
    return this.sessions.size
  }

  /**
   * Ties a live feed to the session it was opened with: when the session
   * ends (sign out, expiry), the feed is closed, so it stops carrying
   * details; the page reconnects and gets what a stranger gets.
   */
  bindStream (request: FastifyRequest, res: ServerResponse): void {
    if (this.roleOfToken(request.headers.authorization) !== undefined) return
    const found = this.sessionOf(request)
    if (found === undefined || res.destroyed) return
    found.session.streams.add(res)
    res.once('close', () => { found.session.streams.delete(res) })
  }

  /** The Set-Cookie value for a new session (Secure when the page is reached over https). */
  cookie (request: FastifyRequest, id: string): string {
    return `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${Math.floor(this.ttlMs / 1000)}; HttpOnly; SameSite=Strict${this.secure(request) ? '; Secure' : ''}`
  }

  /** The Set-Cookie value that deletes the cookie. */
  clearCookie (request: FastifyRequest): string {
    return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${this.secure(request) ? '; Secure' : ''}`
  }

  /**
   * Whether the browser reached us over https: directly, through a proxy
   * that says so (X-Forwarded-Proto; a client lying about it only makes its
   * own cookie stricter), or per --public-url.
   */
  private secure (request: FastifyRequest): boolean {
    const forwarded = request.headers['x-forwarded-proto']
    const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase()
    return request.protocol === 'https' || proto === 'https' || this.publicHttps
  }

  /**
   * CSRF check for state-changing requests: a browser sends Origin on every
   * POST and DELETE, so one from another site is refused. It must match the
   * Host the request was sent to, or --public-url's origin (behind a proxy
   * that rewrites Host). `required`: refuse a request without Origin too
   * (what a cookie authenticates; a script with a bearer token sends none).
   */
  sameOrigin (request: FastifyRequest, required: boolean): boolean {
    const origin = request.headers.origin
    if (origin === undefined) return !required
    if (origin === 'null') return false
    if (this.publicOrigin !== undefined && origin === this.publicOrigin) return true
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      return false
    }
    const host = request.headers.host
    return host !== undefined && url.host === host.toLowerCase()
  }

  /** Throws a 403 unless sameOrigin holds. */
  checkOrigin (request: FastifyRequest, required: boolean): void {
    if (!this.sameOrigin(request, required)) {
      throw new HeartbeatError(ErrorCodes.FORBIDDEN_ORIGIN, 'cross-site request refused: send it from the page itself (same origin), or with a bearer token and no Origin header')
    }
  }

  /**
   * A fastify preHandler for what an admin may do from the page: the admin
   * bearer token, or a session opened with it, from the page's own origin.
   */
  adminGuard () {
    return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (!this.admin.enabled) throw new HeartbeatError(ErrorCodes.ADMIN_DISABLED, 'the admin API is off: start the aggregator with --admin-token-file')
      if (request.headers.authorization !== undefined) {
        if (this.admin.verify(request.headers.authorization)) return
      } else {
        const found = this.sessionOf(request)
        if (found?.session.role === 'admin') {
          this.checkOrigin(request, true)
          return
        }
      }
      void reply.header('www-authenticate', 'Bearer realm="heartbeat-aggregator"')
      throw new HeartbeatError(ErrorCodes.UNAUTHORIZED, 'needs the admin bearer token, or a page session signed in with it')
    }
  }

  /** Ends every session and stops the sweeper (the server is closing). */
  stop (): void {
    this.sweeper?.cancel()
    this.sweeper = undefined
    for (const [key, session] of [...this.sessions]) this.end(key, session)
  }

  /** Drops expired sessions (and closes their feeds). */
  sweep (): void {
    const now = this.clock.monotonic()
    for (const [key, session] of [...this.sessions]) if (now >= session.expiresAt) this.end(key, session)
    if (this.sessions.size === 0) {
      this.sweeper?.cancel()
      this.sweeper = undefined
    }
  }

  private startSweeping (): void {
    this.sweeper ??= this.clock.every(SESSION_SWEEP_MS, () => { this.sweep() }, { unref: true })
  }

  private end (key: string, session: Session): void {
    this.sessions.delete(key)
    for (const res of session.streams) res.destroy()
    session.streams.clear()
  }
}
