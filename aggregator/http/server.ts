import Fastify, { type FastifyInstance } from 'fastify'
import { bindError } from '../../shared/bind-error.ts'
import { hostPort, httpUrlFor } from '../../shared/host-port.ts'
import { mountRoute } from '../../shared/http-route.ts'
import {
  HTTP_BODY_LIMIT_BYTES, HTTP_HEADERS_TIMEOUT_MS, HTTP_KEEP_ALIVE_TIMEOUT_MS, HTTP_MAX_HEADER_BYTES, HTTP_REQUEST_TIMEOUT_MS, HTTP_TIMEOUT_CHECK_MS,
} from '../constants.ts'
import type { Part } from '../parts.ts'
import { AdminAuth } from './admin-auth.ts'
import { errorHandler, notFoundHandler } from './errors.ts'
import type { AggregatorRoute, HttpRegistry } from './registry.ts'
import { registerCors } from './security.ts'

export interface HttpServerOptions {
  /** Every route (HttpRegistry.routes); admin ones are mounted behind their own guard, else `adminAuth`. */
  routes: ReadonlyArray<AggregatorRoute<any>>
  /** Guards the admin routes; without a token they answer 403. */
  adminAuth?: AdminAuth
  /** Origins allowed to read the API cross-origin; none by default. */
  corsOrigins?: readonly string[]
  /** The slow-client deadlines (docs/security.md); the constants when absent (tests shorten them). */
  timeouts?: Partial<HttpTimeouts>
}

/**
 * How long a client may take, enforced by Node's HTTP server: a request whose
 * headers (or whole request) are late is answered 408 and its connection
 * closed, at most `checkEveryMs` after the deadline. They bound receiving a
 * request only: a response may last as long as it needs (the live feed).
 */
export interface HttpTimeouts {
  headersMs: number
  requestMs: number
  keepAliveMs: number
  checkEveryMs: number
}

export const DEFAULT_HTTP_TIMEOUTS: Readonly<HttpTimeouts> = Object.freeze({
  headersMs: HTTP_HEADERS_TIMEOUT_MS,
  requestMs: HTTP_REQUEST_TIMEOUT_MS,
  keepAliveMs: HTTP_KEEP_ALIVE_TIMEOUT_MS,
  checkEveryMs: HTTP_TIMEOUT_CHECK_MS,
})

/** Headers on every answer: no sniffing, no framing, nothing loaded from elsewhere. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
}

/**
 * The aggregator's fastify app: bounded requests, the security headers, CORS
 * when configured, one error mapping (errors.ts), and the registered routes.
 */
export function buildHttpServer (options: HttpServerOptions): FastifyInstance {
  const auth = options.adminAuth ?? new AdminAuth(undefined)
  const timeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...options.timeouts }
  const app = Fastify({
    logger: false,
    bodyLimit: HTTP_BODY_LIMIT_BYTES,
    // headersTimeout and the checking interval exist only as server options; fastify sets the other two itself.
    http: {
      maxHeaderSize: HTTP_MAX_HEADER_BYTES,
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: timeouts.checkEveryMs,
    },
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    forceCloseConnections: true,
  })
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  app.addHook('onSend', async (_request, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v)
  })
  registerCors(app, options.corsOrigins ?? [])
  const admin = auth.guard()
  for (const route of options.routes) mountRoute(app, route, route.guard ?? (route.admin === true ? admin : undefined))
  return app
}

export interface HttpPartOptions extends Omit<HttpServerOptions, 'routes'> {
  registry: HttpRegistry
  host: string
  port: number
}

/** The HTTP server as a part: listens on start with every route the parts registered; closes on stop. */
export function httpPart (options: HttpPartOptions): Part & { readonly url: string, readonly listening: boolean } {
  let app: FastifyInstance | undefined
  let url = ''
  return {
    name: 'http',
    get url () { return url },
    get listening () { return app?.server.listening ?? false },
    async start () {
      app = buildHttpServer({ ...options, routes: options.registry.routes })
      try {
        await app.listen({ host: options.host, port: options.port })
      } catch (err) {
        await app.close().catch(() => {})
        app = undefined
        throw bindError({ flag: '--http', address: hostPort(options.host, options.port), port: options.port }, err, 'heartbeat-aggregator')
      }
      const address = app.server.address()
      url = httpUrlFor(options.host, typeof address === 'object' && address !== null ? address.port : options.port)
    },
    async stop () {
      await app?.close()
    },
  }
}

export type { AggregatorInfo } from './fleet-routes.ts'
