import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type Clock, systemClock, type Timer } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { EVENTS_FLUSH_MS, EVENTS_KEEPALIVE_MS, EVENTS_RETRY_MS, EVENTS_SUMMARY_MS } from '../constants.ts'
import { exposeNode } from '../fleet/exposure.ts'
import type { FleetState, StatusChange } from '../fleet/fleet-state.ts'
import { DEFAULT_FEED_LIMITS, feedClientVerdict, FeedStats, type FeedLimits } from './feed-guard.ts'
import type { FleetDocuments } from './fleet-documents.ts'
import { commaJoined, entryJson, type FleetViewCache, type NodeEntry } from './fleet-view-cache.ts'
import { deltaOf, type NodeChange } from './view-delta.ts'

/** Where the `alerts` event comes from (the Alerting shell): change notices and the document to send. */
export interface AlertsFeedSource {
  /** Calls back when the alert set or maintenance changed; `peerIds`: nodes whose own window changed. Returns the unsubscribe function. */
  subscribe (listener: (change: { alerts: boolean, peerIds: readonly string[] }) => void): () => void
  /** The `alerts` event's data. Built only after a change notice. */
  document (): unknown
}

export interface LiveFeedOptions {
  flushMs?: number
  pingMs?: number
  summaryMs?: number
  /** The flush and keepalive timers and the feed's bounds (monotonic), and the times events carry (wall clock). */
  clock?: Clock
  /** How many clients, and when a client that stops reading is dropped. */
  limits?: FeedLimits
  stats?: FeedStats
  /** Whether a client sees component details and remote addresses (decided once, at connect). */
  details?: (request: FastifyRequest) => boolean
  /** Firing alerts and maintenance, sent as `alerts` events when they change. */
  alerts?: AlertsFeedSource
}

/** What the feed sends: the cached node views (and their changes) and the fleet documents built from them. */
export interface LiveFeedSource {
  /** Status changes (the `status` events). */
  fleet: Pick<FleetState, 'subscribe'>
  cache: FleetViewCache
  documents: FleetDocuments
}

/** How a client takes node changes: one `node` event per node, one `nodes` array per flush, or one `delta` per flush. */
type Shape = 'node' | 'nodes' | 'delta'

interface Client {
  shape: Shape
  /** Sees component details and remote addresses. */
  details: boolean
  /** Since when the client has kept its socket full without reading any of it. */
  backpressureSince: number | undefined
  /** Bytes written to it so far, and how many it had read at the last check: progress, not a full drain, is what counts. */
  written: number
  consumedAtCheck: number
  /** Bytes of the snapshot it got first. */
  snapshotBytes: number
}

/** The shape a client asked for: `?delta=1` (the page), `?batch=1`, or one event per node (the default, as before deltas). */
function shapeOf (query: Record<string, unknown> | undefined): Shape {
  const on = (name: string): boolean => query?.[name] === '1' || query?.[name] === 'true'
  return on('delta') ? 'delta' : on('batch') ? 'nodes' : 'node'
}

const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

/**
 * GET /api/v1/events: server-sent events. Each client first gets a
 * `snapshot` (the whole fleet document, the cached bytes of GET
 * /api/v1/fleet), then, per flush, the nodes that changed, in the shape it
 * asked for:
 * - `delta` (`?delta=1`, the page): one event per flush, `{nodes, changes}`:
 *   `nodes` holds whole views (a node new to the feed, or one that lost a
 *   field), `changes` holds `{peerId, ...the fields that changed}` since the
 *   feed last spoke of that node. Each delta's SSE id is the one before plus
 *   one and the snapshot's id is the last delta it already holds, so a
 *   client that sees a gap knows to reconnect for a fresh snapshot;
 * - `nodes` (`?batch=1`): one event per flush, an array of whole views;
 * - `node` (the default): one whole view per changed node;
 * and, to every client:
 * - `remove` `{peerId}`: a node left the view;
 * - `status` `{peerId, from, to, reason, at}`: a node's status changed;
 * - `summary`: the fleet summary, at most once per summary interval while something changes;
 * - `alerts` `{alerts: {firing, pending}, maintenance}`: the snapshot's two
 *   alerting fields again, when the alert set or a maintenance window changed
 *   (the alerting shell says when: at most once per rule evaluation, and at
 *   once for an operator's change); a node whose own window changed is also
 *   sent again as a node change;
 * - `ping` `{at}`: the aggregator's clock, every keepalive interval, so clients
 *   can tell a quiet feed from a dead one and keep relative times honest.
 *
 * One subscription to the fleet and one timer serve every client; node views
 * are built once per change (FleetViewCache) and each event is serialised
 * once per shape and exposure (with or without details: --details) and
 * written to all clients of that kind: a page more costs a socket write per
 * event, not another walk over the fleet.
 *
 * Bounded: at most `maxClients` at once (503 beyond); a client whose socket
 * stays full for `maxBackpressureMs`, or for which more than its byte bound
 * waits unsent, is dropped (what waits for it is the aggregator's memory).
 */
export function serveEvents (source: LiveFeedSource, options: LiveFeedOptions = {}) {
  const { fleet, cache, documents } = source
  const flushMs = options.flushMs ?? EVENTS_FLUSH_MS
  const pingMs = options.pingMs ?? EVENTS_KEEPALIVE_MS
  const summaryMs = options.summaryMs ?? EVENTS_SUMMARY_MS
  const clock = options.clock ?? systemClock
  /** Intervals (backpressure, the summary's pace) on the monotonic clock; the wall clock only for the times shown. */
  const now = clock.monotonic
  const limits = options.limits ?? DEFAULT_FEED_LIMITS
  const stats = options.stats ?? new FeedStats()
  const clients = new Map<ServerResponse, Client>()
  const alertsSource = options.alerts
  const statusChanges: StatusChange[] = []
  /** The id of the last `delta` event. */
  let deltaSeq = 0
  let summaryDue = false
  let lastSummaryAt = 0
  let alertsDue = false
  /** The last `alerts` frame written, so a notice that changed nothing visible sends nothing. */
  let lastAlertsFrame: string | undefined
  let unsubscribe: (() => void) | undefined
  let unsubscribeAlerts: (() => void) | undefined
  let flushTimer: Timer | undefined
  let pingTimer: Timer | undefined

  const send = (res: ServerResponse, client: Client, chunk: string | Buffer): void => {
    client.written += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
    if (!res.write(chunk)) client.backpressureSince ??= now()
  }
  const broadcast = (chunk: string | Buffer, only?: (client: Client) => boolean): void => {
    for (const [res, client] of clients) if (only === undefined || only(client)) send(res, client, chunk)
  }
  /** Drops every client that stopped reading. */
  const dropSlowClients = (): void => {
    const at = now()
    for (const [res, client] of clients) {
      // A busy feed may never drain completely while the client keeps reading: any progress restarts the clock.
      const consumed = client.written - res.writableLength
      if (consumed > client.consumedAtCheck && client.backpressureSince !== undefined) client.backpressureSince = at
      client.consumedAtCheck = consumed
      const state = { buffered: res.writableLength, backpressureSince: client.backpressureSince, snapshotBytes: client.snapshotBytes }
      if (feedClientVerdict(state, at, limits) === 'ok') continue
      stats.dropped++
      remove(res)
      res.destroy()
    }
  }

  /** The node events of one flush for the clients of one exposure. */
  const sendNodes = (changed: ReadonlyArray<[NodeEntry, NodeChange]>, details: boolean): void => {
    const wants = new Set<Shape>()
    for (const c of clients.values()) if (c.details === details) wants.add(c.shape)
    const to = (shape: Shape) => (c: Client): boolean => c.details === details && c.shape === shape
    if (wants.has('node')) {
      const parts: Buffer[] = []
      for (const [entry] of changed) parts.push(NODE_OPEN, entryJson(entry, details), EVENT_CLOSE)
      broadcast(Buffer.concat(parts), to('node'))
    }
    if (wants.has('nodes')) broadcast(Buffer.concat([NODES_OPEN, ...commaJoined(changed.map(([entry]) => entryJson(entry, details))), ARRAY_EVENT_CLOSE]), to('nodes'))
    if (wants.has('delta')) {
      const whole: Buffer[] = []
      const partial: Buffer[] = []
      for (const [entry, change] of changed) {
        if (change === 'full') whole.push(entryJson(entry, details))
        else if (change !== 'removed') {
          const delta = deltaOf(exposeNode(entry.view, details, entry.remoteAddr), change, details)
          // Only what this exposure does not show changed (component details): nothing to say.
          if (Object.keys(delta).length > 1) partial.push(Buffer.from(JSON.stringify(delta)))
        }
      }
      broadcast(Buffer.concat([
        Buffer.from(`event: delta\nid: ${deltaSeq}\ndata: {"nodes":[`), ...commaJoined(whole), Buffer.from('],"changes":['), ...commaJoined(partial), ARRAY_OBJECT_EVENT_CLOSE,
      ]), to('delta'))
    }
  }

  const flush = (): void => {
    dropSlowClients()
    cache.refresh()
    const changes = cache.takeChanges()
    if (changes.size > 0 || statusChanges.length > 0) summaryDue = true
    const removed: string[] = []
    const changed: Array<[NodeEntry, NodeChange]> = []
    for (const [peerId, change] of changes) {
      const entry = change === 'removed' ? undefined : cache.entry(peerId)
      if (entry === undefined) removed.push(peerId)
      else changed.push([entry, change])
    }
    if (changed.length > 0) {
      // Every delta client gets every delta id, whichever its exposure: a gap means a lost event.
      deltaSeq++
      for (const details of [false, true]) sendNodes(changed, details)
    }
    for (const peerId of removed) broadcast(frame('remove', { peerId }))
    for (const change of statusChanges.splice(0)) broadcast(frame('status', { ...change, at: new Date(change.at).toISOString() }))
    if (summaryDue && now() - lastSummaryAt >= summaryMs) {
      summaryDue = false
      lastSummaryAt = now()
      broadcast(frame('summary', documents.summary()))
    }
    if (alertsDue && alertsSource !== undefined) {
      alertsDue = false
      const text = frame('alerts', alertsSource.document())
      if (text !== lastAlertsFrame) {
        lastAlertsFrame = text
        broadcast(text)
      }
    }
  }

  // The fleet is watched only while someone is listening.
  const startWatching = (): void => {
    cache.trackChanges(true)
    unsubscribe = fleet.subscribe({ onStatusChanged: (change) => { statusChanges.push(change) } })
    // A node whose own window changed is invalidated in the view cache by the fleet routes; here only the `alerts` event.
    unsubscribeAlerts = alertsSource?.subscribe(() => { alertsDue = true })
    flushTimer = clock.every(flushMs, flush)
    pingTimer = clock.every(pingMs, () => {
      dropSlowClients()
      broadcast(frame('ping', { at: new Date(clock.wall()).toISOString() }))
    })
  }
  const stopWatching = (): void => {
    cache.trackChanges(false)
    unsubscribe?.()
    unsubscribe = undefined
    unsubscribeAlerts?.()
    unsubscribeAlerts = undefined
    alertsDue = false
    flushTimer?.cancel()
    pingTimer?.cancel()
    flushTimer = undefined
    pingTimer = undefined
    statusChanges.length = 0
  }
  const remove = (res: ServerResponse): void => {
    if (!clients.delete(res)) return
    stats.clients = clients.size
    if (clients.size === 0) stopWatching()
  }

  return (request: FastifyRequest, reply: FastifyReply): void => {
    if (clients.size >= limits.maxClients) {
      stats.refused++
      throw new HeartbeatError(ErrorCodes.FEED_FULL, `the live feed has ${limits.maxClients} clients already; try again later`)
    }
    const details = options.details?.(request) ?? false
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      // Headers hooks set on the reply (CORS) would be lost with hijack().
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'x-content-type-options': 'nosniff',
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    // The newcomer's snapshot may be newer than the last `alerts` frame: a change notice still pending must be sent even if it looks like that frame.
    lastAlertsFrame = undefined
    const client: Client = { shape: shapeOf(request.query as Record<string, unknown> | undefined), details, backpressureSince: undefined, snapshotBytes: 0, written: 0, consumedAtCheck: 0 }
    send(res, client, `retry: ${EVENTS_RETRY_MS}\n\n`)
    // The first client: every view is brought up to date before changes are noted, so none of them counts as a change after the snapshot.
    if (clients.size === 0) {
      cache.refresh()
      startWatching()
    }
    // The snapshot holds every view built until now: never older than a delta already sent.
    const snapshot = documents.snapshot(details, cache.generation)
    const open = client.shape === 'delta' ? `event: snapshot\nid: ${deltaSeq}\ndata: ` : 'event: snapshot\ndata: '
    client.snapshotBytes = Buffer.byteLength(open) + snapshot.bytes.length + EVENT_CLOSE.length
    res.cork()
    send(res, client, open)
    send(res, client, snapshot.bytes)
    send(res, client, EVENT_CLOSE)
    res.uncork()
    clients.set(res, client)
    stats.clients = clients.size
    const close = (): void => { remove(res) }
    request.raw.on('close', close)
    res.on('close', close)
    res.on('error', close)
    res.on('drain', () => { client.backpressureSince = undefined })
  }
}

const NODE_OPEN = Buffer.from('event: node\ndata: ')
const NODES_OPEN = Buffer.from('event: nodes\ndata: [')
const EVENT_CLOSE = Buffer.from('\n\n')
const ARRAY_EVENT_CLOSE = Buffer.from(']\n\n')
const ARRAY_OBJECT_EVENT_CLOSE = Buffer.from(']}\n\n')
