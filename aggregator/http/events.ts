import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type Clock, instantOf, systemClock, type Timer } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { EVENTS_FLUSH_MS, EVENTS_KEEPALIVE_MS, EVENTS_RETRY_MS, EVENTS_SUMMARY_MS } from '../constants.ts'
import { exposeNode } from '../fleet/exposure.ts'
import type { FleetState, StatusChange } from '../fleet/fleet-state.ts'
import { nodeViewOf, type NodeView } from '../fleet/view.ts'
import { DEFAULT_FEED_LIMITS, feedClientVerdict, FeedStats, type FeedLimits } from './feed-guard.ts'

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
  /** The node-view decorator chain the snapshot's views went through too (HttpRegistry.decorate). */
  decorateNode?: (view: NodeView) => NodeView
  /** Firing alerts and maintenance, sent as `alerts` events when they change. */
  alerts?: AlertsFeedSource
}

interface Client {
  /** Takes `nodes` batches instead of one `node` event per node. */
  batch: boolean
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

/**
 * GET /api/v1/events: server-sent events. Each client first gets a
 * `snapshot` (the whole fleet document), then:
 * - `node`: one node's view, when it changed (at most one per node per flush);
 *   with `?batch=1` a client gets one `nodes` event (an array of views) per
 *   flush instead, which a browser parses in one go when thousands change at once;
 * - `remove` `{peerId}`: a node left the view;
 * - `status` `{peerId, from, to, reason, at}`: a node's status changed;
 * - `summary`: the fleet summary, at most once per summary interval while something changes;
 * - `alerts` `{alerts: {firing, pending}, maintenance}`: the snapshot's two
 *   alerting fields again, when the alert set or a maintenance window changed
 *   (the alerting shell says when: at most once per rule evaluation, and at
 *   once for an operator's change); a node whose own window changed is also
 *   sent again as a `node` event;
 * - `ping` `{at}`: the aggregator's clock, every keepalive interval, so clients
 *   can tell a quiet feed from a dead one and keep relative times honest.
 *
 * One subscription to the fleet and one timer serve every client, and each
 * event is serialised once per shape (single or batch, with or without
 * details: --details) and written to all clients of that shape: a page more
 * costs a socket write per event, not another walk over the fleet.
 *
 * Bounded: at most `maxClients` at once (503 beyond); a client whose socket
 * stays full for `maxBackpressureMs`, or for which more than its byte bound
 * waits unsent, is dropped (what waits for it is the aggregator's memory).
 */
export function serveEvents (fleet: FleetState, snapshot: (details: boolean) => unknown, summary?: () => unknown, options: LiveFeedOptions = {}) {
  const flushMs = options.flushMs ?? EVENTS_FLUSH_MS
  const pingMs = options.pingMs ?? EVENTS_KEEPALIVE_MS
  const summaryMs = options.summaryMs ?? EVENTS_SUMMARY_MS
  const clock = options.clock ?? systemClock
  /** Intervals (backpressure, the summary's pace) on the monotonic clock; the wall clock only for the times shown. */
  const now = clock.monotonic
  const limits = options.limits ?? DEFAULT_FEED_LIMITS
  const stats = options.stats ?? new FeedStats()
  const clients = new Map<ServerResponse, Client>()
  const decorate = options.decorateNode ?? ((view: NodeView): NodeView => view)
  const alertsSource = options.alerts
  const dirty = new Set<string>()
  const statusChanges: StatusChange[] = []
  let summaryDue = false
  let lastSummaryAt = 0
  let alertsDue = false
  /** The last `alerts` frame written, so a notice that changed nothing visible sends nothing. */
  let lastAlertsFrame: string | undefined
  let unsubscribe: (() => void) | undefined
  let unsubscribeAlerts: (() => void) | undefined
  let flushTimer: Timer | undefined
  let pingTimer: Timer | undefined

  const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
  const send = (res: ServerResponse, client: Client, text: string): void => {
    client.written += Buffer.byteLength(text)
    if (!res.write(text)) client.backpressureSince ??= now()
  }
  const broadcast = (text: string, only?: (client: Client) => boolean): void => {
    for (const [res, client] of clients) if (only === undefined || only(client)) send(res, client, text)
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

  const flush = (): void => {
    dropSlowClients()
    if (dirty.size > 0 || statusChanges.length > 0) summaryDue = true
    if (dirty.size > 0) {
      // Serialise each shape only if someone takes it.
      const shapes = [false, true].filter((details) => [...clients.values()].some((c) => c.details === details))
      const wantSingle = (details: boolean): boolean => [...clients.values()].some((c) => !c.batch && c.details === details)
      const single = new Map<boolean, string>(shapes.map((d) => [d, '']))
      const batch = new Map<boolean, unknown[]>(shapes.map((d) => [d, []]))
      const removed: string[] = []
      const at = instantOf(clock)
      for (const peerId of dirty) {
        const view = nodeViewOf(fleet, peerId, at)
        if (view === undefined) {
          removed.push(frame('remove', { peerId }))
          continue
        }
        const remoteAddr = fleet.get(peerId)?.remoteAddr
        const decorated = decorate(view)
        for (const details of shapes) {
          const exposed = exposeNode(decorated, details, remoteAddr)
          batch.get(details)?.push(exposed)
          if (wantSingle(details)) single.set(details, (single.get(details) ?? '') + frame('node', exposed))
        }
      }
      dirty.clear()
      for (const details of shapes) {
        const text = single.get(details) ?? ''
        if (text !== '') broadcast(text, (c) => !c.batch && c.details === details)
        const views = batch.get(details) ?? []
        if (views.length > 0 && [...clients.values()].some((c) => c.batch && c.details === details)) broadcast(frame('nodes', views), (c) => c.batch && c.details === details)
      }
      for (const text of removed) broadcast(text)
    }
    for (const change of statusChanges.splice(0)) broadcast(frame('status', { ...change, at: new Date(change.at).toISOString() }))
    if (summary !== undefined && summaryDue && now() - lastSummaryAt >= summaryMs) {
      summaryDue = false
      lastSummaryAt = now()
      broadcast(frame('summary', summary()))
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
    unsubscribe = fleet.subscribe({
      onNodeChanged: (peerId) => { dirty.add(peerId) },
      onStatusChanged: (change) => { statusChanges.push(change) },
      // Gone from the state: the next flush finds no record and sends `remove`.
      onNodeForgotten: (peerId) => { dirty.add(peerId) },
    })
    unsubscribeAlerts = alertsSource?.subscribe((change) => {
      alertsDue = true
      // Only nodes in the view: an operator may silence a peer id that never reported.
      for (const peerId of change.peerIds) if (fleet.get(peerId) !== undefined) dirty.add(peerId)
    })
    flushTimer = clock.every(flushMs, flush)
    pingTimer = clock.every(pingMs, () => {
      dropSlowClients()
      broadcast(frame('ping', { at: new Date(clock.wall()).toISOString() }))
    })
  }
  const stopWatching = (): void => {
    unsubscribe?.()
    unsubscribe = undefined
    unsubscribeAlerts?.()
    unsubscribeAlerts = undefined
    alertsDue = false
    flushTimer?.cancel()
    pingTimer?.cancel()
    flushTimer = undefined
    pingTimer = undefined
    dirty.clear()
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
    const query = request.query as Record<string, unknown> | undefined
    const client: Client = { batch: query?.batch === '1' || query?.batch === 'true', details, backpressureSince: undefined, snapshotBytes: 0, written: 0, consumedAtCheck: 0 }
    send(res, client, `retry: ${EVENTS_RETRY_MS}\n\n`)
    const first = frame('snapshot', snapshot(details))
    client.snapshotBytes = Buffer.byteLength(first)
    send(res, client, first)
    if (clients.size === 0) startWatching()
    clients.set(res, client)
    stats.clients = clients.size
    const close = (): void => { remove(res) }
    request.raw.on('close', close)
    res.on('close', close)
    res.on('error', close)
    res.on('drain', () => { client.backpressureSince = undefined })
  }
}
