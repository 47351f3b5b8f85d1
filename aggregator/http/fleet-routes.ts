import { createHash } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import type { FastifyRequest } from 'fastify'
import { type Clock, instantOf } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { exposeNode } from '../fleet/exposure.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { nodeViewOf } from '../fleet/view.ts'
import { CachedBody, negotiateEncoding, sendCached } from './cached-body.ts'
import { type AlertsFeedSource, serveEvents } from './events.ts'
import { DEFAULT_FEED_LIMITS, FeedStats, type FeedLimits } from './feed-guard.ts'
import { type AggregatorInfo, FleetDocuments } from './fleet-documents.ts'
import { parseFleetQuery } from './fleet-query.ts'
import { FleetViewCache } from './fleet-view-cache.ts'
import type { HttpRegistry } from './registry.ts'
import { TIME_MOVED_FIELDS } from './view-delta.ts'

export type { AggregatorInfo } from './fleet-documents.ts'

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
 * The fleet's views: GET /api/v1/fleet (the fleet document, whole or
 * filtered and paged), GET /api/v1/fleet/health, GET /api/v1/nodes/:peerId
 * and GET /api/v1/events (the live feed, which starts with the same
 * document). Every node view leaves through one path: the registry's
 * decorator chain, then cut to what the caller may see. The list views are
 * built once per change (FleetViewCache, FleetDocuments) and served as cached
 * bytes with an ETag, compressed when the client takes it. Returns what
 * stops the cache from listening.
 */
export function registerFleetRoutes (http: HttpRegistry, options: FleetRoutesOptions): { close: () => void } {
  const { fleet, clock, info, details } = options
  const cache = new FleetViewCache({ fleet, clock, decorate: (view, at) => http.decorate(view, 'fleet', at) })
  const documents = new FleetDocuments({ cache, fleet, clock, info, fields: (nodes, at) => http.fleetFields(nodes, at) })
  const alerts = options.feed?.alerts
  // A notice without peer ids may concern anything (remote nodes, a field): every view is rebuilt.
  const unsubscribeChanges = http.onChanged((change) => { cache.invalidate(change.peerIds) })
  // The alert set and windows are fleet fields; a node whose own window changed is a node change.
  const unsubscribeAlerts = alerts?.subscribe((change) => { cache.invalidate(change.peerIds) })

  http.route<{ Querystring: Record<string, string | string[] | undefined> }>({
    method: 'GET',
    path: '/api/v1/fleet',
    query: '?status=&network=&q=&limit=&cursor=|offset=',
    summary: 'the fleet as JSON (filters and pages optional)',
    handler: async (request, reply) => {
      const query = parseFleetQuery(request.query)
      const showDetails = details(request)
      const body = query === undefined ? documents.fleet(showDetails, negotiateEncoding(request.headers['accept-encoding'])) : documents.query(showDetails, query)
      return await sendCached(request, reply, body)
    },
  })

  http.route({
    method: 'GET',
    path: '/api/v1/fleet/health',
    summary: 'the fleet\'s health as application/health+json (IETF draft)',
    handler: async (request, reply) => await sendCached(request, reply, documents.health(details(request), negotiateEncoding(request.headers['accept-encoding']))),
  })

  http.route<{ Params: { peerId: string } }>({
    method: 'GET',
    path: '/api/v1/nodes/:peerId',
    summary: 'one node',
    handler: async (request, reply) => {
      const { peerId } = request.params
      if (fleet.get(peerId) !== undefined) await http.prepare(peerId)
      const at = instantOf(clock)
      const view = nodeViewOf(fleet, peerId, at)
      if (view === undefined) throw new HeartbeatError(ErrorCodes.NODE_NOT_FOUND, `no node with peer id ${peerId}`)
      // Built fresh (its uptime and what time moves are exact here, unlike the list's). The ETag is weak: it names
      // the view but for what time alone moves (phi, the head's age), so a client that holds it is spared the body.
      const exposed = exposeNode(http.decorate(view, 'node', at), details(request), fleet.get(peerId)?.remoteAddr)
      const bytes = Buffer.from(JSON.stringify(exposed))
      const timeless: Record<string, unknown> = { ...exposed }
      for (const key of TIME_MOVED_FIELDS) delete timeless[key]
      const tag = createHash('sha1').update(JSON.stringify(timeless)).digest('base64url').slice(0, 22)
      return await sendCached(request, reply, new CachedBody(bytes, tag, 'application/json; charset=utf-8', 200, true))
    },
  })

  const events = serveEvents({ fleet, cache, documents }, {
    clock,
    limits: options.feed?.limits ?? DEFAULT_FEED_LIMITS,
    stats: options.feed?.stats ?? new FeedStats(),
    details,
    alerts,
  })
  const bindStream = options.feed?.bindStream
  http.route({
    method: 'GET',
    path: '/api/v1/events',
    query: '?delta=1|batch=1',
    summary: 'live feed (server-sent events)',
    // A feed opened with a page session closes when that session ends: it must stop carrying details.
    handler: bindStream === undefined ? events : (request, reply) => { events(request, reply); bindStream(request, reply.raw) },
  })

  return {
    close: () => {
      unsubscribeChanges()
      unsubscribeAlerts?.()
      documents.close()
      cache.close()
    },
  }
}
