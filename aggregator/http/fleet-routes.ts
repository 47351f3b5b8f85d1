import type { ServerResponse } from 'node:http'
import type { FastifyRequest } from 'fastify'
import { type Clock, type Instant, instantOf } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { exposeNode, type ExposedNodeView } from '../fleet/exposure.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { fleetViews, nodeViewOf, type NodeView } from '../fleet/view.ts'
import { type AlertsFeedSource, serveEvents } from './events.ts'
import { DEFAULT_FEED_LIMITS, FeedStats, type FeedLimits } from './feed-guard.ts'
import type { HttpRegistry, NodeScope } from './registry.ts'

export interface AggregatorInfo {
  peerId: string
  multiaddrs: string[]
  version: string
  startedAt: string
}

export interface FleetRoutesOptions {
  fleet: FleetState
  clock: Clock
  info: () => AggregatorInfo
  /** Whether a request sees component details and remote addresses (--details). */
  details: (request: FastifyRequest) => boolean
  feed?: {
    limits?: FeedLimits
    stats?: FeedStats
    alerts?: AlertsFeedSource
    /** Ties a feed to the page session it was opened with, which closes it when the session ends (ViewerAuth.bindStream). */
    bindStream?: (request: FastifyRequest, res: ServerResponse) => void
  }
}

/**
 * The fleet's views: GET /api/v1/fleet (the fleet document), GET
 * /api/v1/nodes/:peerId and GET /api/v1/events (the live feed, which starts
 * with the same document). Every node view leaves through one path: the
 * registry's decorator chain, then cut to what the caller may see.
 */
export function registerFleetRoutes (http: HttpRegistry, options: FleetRoutesOptions): void {
  const { fleet, clock, info, details } = options
  const now = (): Instant => instantOf(clock)
  const expose = (view: NodeView, scope: NodeScope, at: Instant, showDetails: boolean): ExposedNodeView =>
    exposeNode(http.decorate(view, scope, at), showDetails, fleet.get(view.peerId)?.remoteAddr)

  const fleetDocument = (showDetails: boolean): unknown => {
    const at = now()
    const { nodes, summary } = fleetViews(fleet, at)
    const exposed = nodes.map((n) => expose(n, 'fleet', at, showDetails))
    return { aggregator: info(), generatedAt: new Date(at.wall).toISOString(), summary, nodes: exposed, ...http.fleetFields(exposed, at) }
  }

  http.route({ method: 'GET', path: '/api/v1/fleet', summary: 'the fleet as JSON', handler: async (request) => fleetDocument(details(request)) })

  http.route<{ Params: { peerId: string } }>({
    method: 'GET',
    path: '/api/v1/nodes/:peerId',
    summary: 'one node',
    handler: async (request) => {
      const { peerId } = request.params
      if (fleet.get(peerId) !== undefined) await http.prepare(peerId)
      const at = now()
      const view = nodeViewOf(fleet, peerId, at)
      if (view === undefined) throw new HeartbeatError(ErrorCodes.NODE_NOT_FOUND, `no node with peer id ${peerId}`)
      return expose(view, 'node', at, details(request))
    },
  })

  const events = serveEvents(fleet, fleetDocument, () => fleetViews(fleet, now()).summary, {
    clock,
    limits: options.feed?.limits ?? DEFAULT_FEED_LIMITS,
    stats: options.feed?.stats ?? new FeedStats(),
    details,
    // Node events carry what the snapshot's views carry.
    decorateNode: (view) => http.decorate(view, 'fleet', now()),
    alerts: options.feed?.alerts,
  })
  const bindStream = options.feed?.bindStream
  http.route({
    method: 'GET',
    path: '/api/v1/events',
    summary: 'live feed (server-sent events)',
    // A feed opened with a page session closes when that session ends: it must stop carrying details.
    handler: bindStream === undefined ? events : (request, reply) => { events(request, reply); bindStream(request, reply.raw) },
  })
}
