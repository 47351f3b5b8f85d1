import Fastify, { type FastifyInstance } from 'fastify'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { Alerting } from '../alerts/alerting.ts'
import { HTTP_BODY_LIMIT_BYTES, HTTP_MAX_HEADER_BYTES, HTTP_REQUEST_TIMEOUT_MS } from '../constants.ts'
import { DEFAULT_DETAILS_MODE, exposeNode, type DetailsMode, type ExposedNodeView } from '../fleet/exposure.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { fleetViews, nodeViewOf, type FleetSummary, type NodeView } from '../fleet/view.ts'
import { AdminAuth } from './admin-auth.ts'
import { registerAlertRoutes } from './alert-routes.ts'
import { errorHandler, notFoundHandler } from './errors.ts'
import { serveEvents } from './events.ts'
import { DEFAULT_FEED_LIMITS, FeedStats, type FeedLimits } from './feed-guard.ts'
import { detailsDecider, registerCors } from './security.ts'
import { parseHostPort as parseHostPortFlag } from '../../shared/host-port.ts'
import { registerPage } from './page.ts'
import { ViewerAuth } from './viewer-auth.ts'

export interface AggregatorInfo {
  peerId: string
  multiaddrs: string[]
  version: string
  startedAt: string
}

export interface HttpServerOptions {
  fleet: FleetState
  info: () => AggregatorInfo
  now: () => number
  /** Exposure, admin and live-feed limits; the defaults show no details and have no admin. */
  security?: HttpSecurityOptions
  /** Adds fields kept outside the fleet state (the store's uptime) to each node view. */
  extendNode?: (view: NodeView, scope: 'fleet' | 'node') => NodeView
  /** More routes (history), registered after the core ones. */
  routes?: Array<(app: FastifyInstance) => void>
  /** Alerts and maintenance (GET /api/v1/alerts, /api/v1/maintenance, and fields in /api/v1/fleet). */
  alerting?: Alerting
  /** Guards the admin routes (alerts, maintenance, security); without it they answer 403. */
  adminAuth?: AdminAuth
  /** Who is signed in (tokens and page sessions): decides --details when-authorized. */
  viewerAuth?: ViewerAuth
  logger?: Logger
}

export interface HttpSecurityOptions {
  /** Who sees component details and remote addresses (default when-authorized; the admin is who holds adminAuth's token). */
  details?: DetailsMode
  /** Origins allowed to read the API cross-origin; none by default. */
  corsOrigins?: readonly string[]
  feed?: FeedLimits
  feedStats?: FeedStats
  /** What GET /api/v1/admin/security shows (admin only). */
  adminSnapshot?: () => unknown
  /** POST /api/v1/admin/reload-peers: what SIGHUP does (admin only). */
  reloadPeers?: () => Promise<unknown>
}

/** Headers on every answer: no sniffing, no framing, nothing loaded from elsewhere. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
}

export function buildHttpServer (options: HttpServerOptions): FastifyInstance {
  const { fleet, info, now } = options
  const extend = options.extendNode ?? ((view: NodeView) => view)
  const security = options.security ?? {}
  const auth = options.adminAuth ?? new AdminAuth(undefined)
  const viewers = options.viewerAuth ?? new ViewerAuth({ admin: auth })
  const detailsMode = security.details ?? DEFAULT_DETAILS_MODE
  const app = Fastify({
    logger: false,
    bodyLimit: HTTP_BODY_LIMIT_BYTES,
    http: { maxHeaderSize: HTTP_MAX_HEADER_BYTES },
    requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    forceCloseConnections: true,
  })
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  app.addHook('onSend', async (_request, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v)
  })

  registerCors(app, security.corsOrigins ?? [])
  /** Whether this caller sees component details and remote addresses (--details). */
  const detailsFor = detailsDecider(detailsMode, viewers)
  app.addHook('onClose', async () => { viewers.stop() })
  /** Every node view leaves through here: extended (store), then cut to what the caller may see. */
  const expose = (view: NodeView, scope: 'fleet' | 'node', details: boolean): ExposedNodeView =>
    exposeNode(extend(view, scope), details, fleet.get(view.peerId)?.remoteAddr)
  const exposedNodes = (details: boolean): { nodes: ExposedNodeView[], summary: FleetSummary } => {
    const { nodes, summary } = fleetViews(fleet, now())
    return { nodes: nodes.map((n) => expose(n, 'fleet', details)), summary }
  }

  if (options.alerting !== undefined && options.logger !== undefined) {
    registerAlertRoutes(app, { alerting: options.alerting, auth, now, logger: options.logger })
  }

  const fleetDocument = (details: boolean): unknown => {
    const { nodes, summary } = exposedNodes(details)
    const doc = { aggregator: info(), generatedAt: new Date(now()).toISOString(), summary, nodes }
    return options.alerting?.decorateFleet(doc, now()) ?? doc
  }

  app.get('/api/v1/fleet', async (request) => fleetDocument(detailsFor(request)))

  app.get<{ Params: { peerId: string } }>('/api/v1/nodes/:peerId', async (request) => {
    const { peerId } = request.params
    const view = nodeViewOf(fleet, peerId, now())
    if (view === undefined) throw new HeartbeatError(ErrorCodes.NODE_NOT_FOUND, `no node with peer id ${peerId}`)
    return expose(view, 'node', detailsFor(request))
  })

  const alerting = options.alerting
  const events = serveEvents(fleet, fleetDocument, () => fleetViews(fleet, now()).summary, {
    now,
    limits: security.feed ?? DEFAULT_FEED_LIMITS,
    stats: security.feedStats,
    details: detailsFor,
    ...(alerting === undefined
      ? {}
      : {
          // Node events carry the node's window as the snapshot's views do.
          decorateNode: (view: NodeView) => ({ ...view, maintenance: alerting.nodeMaintenanceView(view.peerId, now()) }),
          alerts: { subscribe: (listener) => alerting.subscribe(listener), document: () => alerting.feedDocument(now()) },
        }),
  })
  // A feed opened with a page session closes when that session ends: it must stop carrying details.
  app.get('/api/v1/events', (request, reply) => { events(request, reply); viewers.bindStream(request, reply.raw) })

  app.get('/api/v1/admin/security', { preHandler: auth.guard() }, async () => security.adminSnapshot?.() ?? {})
  app.post('/api/v1/admin/reload-peers', { preHandler: auth.guard() }, async () => await security.reloadPeers?.() ?? {})

  registerPage(app, { logger: options.logger })

  for (const register of options.routes ?? []) register(app)

  return app
}

/** Parses HOST:PORT (IPv6 as [::1]:8080). */
export function parseHostPort (text: string): { host: string, port: number } {
  return parseHostPortFlag(text, '--http')
}
