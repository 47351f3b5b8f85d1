import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { EVENTS_FLUSH_MS, EVENTS_KEEPALIVE_MS, EVENTS_RETRY_MS, EVENTS_SUMMARY_MS } from '../constants.ts'
import type { FleetState, StatusChange } from '../fleet/fleet-state.ts'
import { nodeViewOf, type NodeView } from '../fleet/view.ts'

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
  now?: () => number
  /** Adds what the snapshot's node views carry beyond the fleet state (the node's maintenance window). */
  decorateNode?: (view: NodeView) => unknown
  /** Firing alerts and maintenance, sent as `alerts` events when they change. */
  alerts?: AlertsFeedSource
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
 * event is serialised once and written to all of them: a page more costs a
 * socket write per event, not another walk over the fleet.
 */
export function serveEvents (fleet: FleetState, snapshot: () => unknown, summary?: () => unknown, options: LiveFeedOptions = {}) {
  const flushMs = options.flushMs ?? EVENTS_FLUSH_MS
  const pingMs = options.pingMs ?? EVENTS_KEEPALIVE_MS
  const summaryMs = options.summaryMs ?? EVENTS_SUMMARY_MS
  const now = options.now ?? Date.now
  const decorate = options.decorateNode ?? ((view: NodeView): unknown => view)
  const alertsSource = options.alerts
  /** Connected clients, and whether each takes `nodes` batches. */
  const clients = new Map<ServerResponse, { batch: boolean }>()
  const dirty = new Set<string>()
  const statusChanges: StatusChange[] = []
  let summaryDue = false
  let lastSummaryAt = 0
  let alertsDue = false
  /** The last `alerts` frame written, so a notice that changed nothing visible sends nothing. */
  let lastAlertsFrame: string | undefined
  let unsubscribe: (() => void) | undefined
  let unsubscribeAlerts: (() => void) | undefined
  let flushTimer: NodeJS.Timeout | undefined
  let pingTimer: NodeJS.Timeout | undefined

  const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
  const broadcast = (text: string, only?: (client: { batch: boolean }) => boolean): void => {
    for (const [res, client] of clients) if (only === undefined || only(client)) res.write(text)
  }

  const flush = (): void => {
    if (dirty.size > 0 || statusChanges.length > 0) summaryDue = true
    if (dirty.size > 0) {
      // Serialise each shape only if someone takes it.
      const wantSingle = [...clients.values()].some((c) => !c.batch)
      let single = ''
      const batch: unknown[] = []
      const removed: string[] = []
      for (const peerId of dirty) {
        const view = nodeViewOf(fleet, peerId, now())
        if (view === undefined) {
          removed.push(frame('remove', { peerId }))
          continue
        }
        const decorated = decorate(view)
        batch.push(decorated)
        if (wantSingle) single += frame('node', decorated)
      }
      dirty.clear()
      if (single !== '') broadcast(single, (c) => !c.batch)
      if (batch.length > 0 && [...clients.values()].some((c) => c.batch)) broadcast(frame('nodes', batch), (c) => c.batch)
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
    flushTimer = setInterval(flush, flushMs)
    pingTimer = setInterval(() => { broadcast(frame('ping', { at: new Date(now()).toISOString() })) }, pingMs)
  }
  const stopWatching = (): void => {
    unsubscribe?.()
    unsubscribe = undefined
    unsubscribeAlerts?.()
    unsubscribeAlerts = undefined
    alertsDue = false
    clearInterval(flushTimer)
    clearInterval(pingTimer)
    dirty.clear()
    statusChanges.length = 0
  }

  return (request: FastifyRequest, reply: FastifyReply): void => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    res.write(`retry: ${EVENTS_RETRY_MS}\n\n`)
    res.write(frame('snapshot', snapshot()))
    // The newcomer's snapshot may be newer than the last `alerts` frame: a change notice still pending must be sent even if it looks like that frame.
    lastAlertsFrame = undefined
    if (clients.size === 0) startWatching()
    const query = request.query as Record<string, unknown> | undefined
    clients.set(res, { batch: query?.batch === '1' || query?.batch === 'true' })
    const close = (): void => {
      if (!clients.delete(res)) return
      if (clients.size === 0) stopWatching()
    }
    request.raw.on('close', close)
    res.on('close', close)
    res.on('error', close)
  }
}
