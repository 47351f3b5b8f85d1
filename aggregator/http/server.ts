import Fastify, { type FastifyInstance } from 'fastify'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { Alerting } from '../alerts/alerting.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { fleetViews, nodeViewOf, type NodeView } from '../fleet/view.ts'
import { AdminAuth } from './admin-auth.ts'
import { registerAlertRoutes } from './alert-routes.ts'
import { errorHandler, notFoundHandler } from './errors.ts'
import { serveEvents } from './events.ts'
import { parseHostPort as parseHostPortFlag } from '../../shared/host-port.ts'
import { registerPage } from './page.ts'

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
  /** Adds fields kept outside the fleet state (the store's uptime) to each node view. */
  extendNode?: (view: NodeView, scope: 'fleet' | 'node') => NodeView
  /** More routes (history), registered after the core ones. */
  routes?: Array<(app: FastifyInstance) => void>
  /** Alerts and maintenance (GET /api/v1/alerts, /api/v1/maintenance, and fields in /api/v1/fleet). */
  alerting?: Alerting
  /** Guards the admin routes; without it they answer 403. */
  adminAuth?: AdminAuth
  logger?: Logger
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
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, routerOptions: { maxParamLength: 200 }, return503OnClosing: true, forceCloseConnections: true })
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  app.addHook('onSend', async (_request, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v)
  })

  const fleetDocument = (): unknown => {
    const { nodes, summary } = fleetViews(fleet, now())
    const doc = { aggregator: info(), generatedAt: new Date(now()).toISOString(), summary, nodes: nodes.map((n) => extend(n, 'fleet')) }
    return options.alerting?.decorateFleet(doc, now()) ?? doc
  }

  if (options.alerting !== undefined && options.logger !== undefined) {
    registerAlertRoutes(app, { alerting: options.alerting, auth: options.adminAuth ?? new AdminAuth(undefined), now, logger: options.logger })
  }

  app.get('/api/v1/fleet', async () => fleetDocument())

  app.get<{ Params: { peerId: string } }>('/api/v1/nodes/:peerId', async (request) => {
    const { peerId } = request.params
    const view = nodeViewOf(fleet, peerId, now())
    if (view === undefined) throw new HeartbeatError(ErrorCodes.NODE_NOT_FOUND, `no node with peer id ${peerId}`)
    return extend(view, 'node')
  })

  const alerting = options.alerting
  app.get('/api/v1/events', serveEvents(fleet, fleetDocument, () => fleetViews(fleet, now()).summary, {
    now,
    ...(alerting === undefined
      ? {}
      : {
          // Node events carry the node's window as the snapshot's views do.
          decorateNode: (view: NodeView) => ({ ...view, maintenance: alerting.nodeMaintenanceView(view.peerId, now()) }),
          alerts: { subscribe: (listener) => alerting.subscribe(listener), document: () => alerting.feedDocument(now()) },
        }),
  }))

  registerPage(app, { logger: options.logger })

  for (const register of options.routes ?? []) register(app)

  return app
}

/** Parses HOST:PORT (IPv6 as [::1]:8080). */
export function parseHostPort (text: string): { host: string, port: number } {
  return parseHostPortFlag(text, '--http')
}
