import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { EVENTS_FLUSH_MS, EVENTS_KEEPALIVE_MS } from '../constants.ts'
import { exposeNode } from '../fleet/exposure.ts'
import type { FleetState, StatusChange } from '../fleet/fleet-state.ts'
import { nodeViewOf } from '../fleet/view.ts'
import { DEFAULT_FEED_LIMITS, feedClientVerdict, FeedStats, type FeedLimits } from './feed-guard.ts'

export interface EventsOptions {
  limits?: FeedLimits
  stats?: FeedStats
  now?: () => number
  /** Whether this client sees component details and remote addresses (decided once, at connect). */
  details?: (request: FastifyRequest) => boolean
}

/**
 * GET /api/v1/events: server-sent events. First a `snapshot` (the whole
 * fleet), then per-node deltas (`node`), batched per flush interval so a
 * busy fleet costs one write per node per interval, and `status` on each
 * status change; `forgotten` when a long-silent node leaves the view.
 *
 * Bounded: at most `maxClients` at once (503 beyond). While a client's
 * socket is full, nothing more is written to it: node deltas coalesce (one
 * per node, the latest wins) and status changes queue. A client is dropped
 * when its socket stays full for `maxBackpressureMs`, or too much waits for
 * it (bytes or queued changes).
 */
export function serveEvents (fleet: FleetState, snapshot: (details: boolean) => unknown, options: EventsOptions = {}) {
  const limits = options.limits ?? DEFAULT_FEED_LIMITS
  const stats = options.stats ?? new FeedStats()
  const now = options.now ?? Date.now
  return (request: FastifyRequest, reply: FastifyReply): void => {
    if (stats.clients >= limits.maxClients) {
      stats.refused++
      throw new HeartbeatError(ErrorCodes.FEED_FULL, `the live feed has ${limits.maxClients} clients already; try again later`)
    }
    const details = options.details?.(request) ?? false
    stats.clients++
    reply.hijack()
    const res = reply.raw
    let open = true
    let backpressureSince: number | undefined
    let snapshotBytes = 0
    const dirty = new Set<string>()
    const statusChanges: StatusChange[] = []
    const forgotten = new Set<string>()

    const close = (): void => {
      if (!open) return
      open = false
      stats.clients--
      clearInterval(flush)
      clearInterval(keepalive)
      unsubscribe()
      dirty.clear()
      forgotten.clear()
      statusChanges.length = 0
    }
    /** Drops a client that does not read; true when it was dropped. */
    const dropIfSlow = (): boolean => {
      const state = { buffered: res.writableLength, pendingEvents: statusChanges.length + forgotten.size, backpressureSince, snapshotBytes }
      if (feedClientVerdict(state, now(), limits) === 'ok') return false
      stats.dropped++
      close()
      res.destroy()
      return true
    }
    const send = (text: string): void => {
      if (!open) return
      if (!res.write(text)) backpressureSince ??= now()
    }
    const write = (event: string, data: unknown): number => {
      const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
      send(text)
      return text.length
    }

    const unsubscribe = fleet.subscribe({
      onNodeChanged: (peerId) => { dirty.add(peerId) },
      onStatusChanged: (change) => { statusChanges.push(change) },
      onNodeForgotten: (peerId) => { dirty.delete(peerId); forgotten.add(peerId) },
    })
    const flush = setInterval(() => {
      if (dropIfSlow() || backpressureSince !== undefined) return
      const at = now()
      for (const peerId of dirty) {
        const view = nodeViewOf(fleet, peerId, at)
        if (view !== undefined) write('node', exposeNode(view, details, fleet.get(peerId)?.remoteAddr))
      }
      dirty.clear()
      for (const change of statusChanges.splice(0)) write('status', { ...change, at: new Date(change.at).toISOString() })
      for (const peerId of forgotten) write('forgotten', { peerId })
      forgotten.clear()
    }, EVENTS_FLUSH_MS)
    const keepalive = setInterval(() => {
      if (!dropIfSlow() && backpressureSince === undefined) send(': keepalive\n\n')
    }, EVENTS_KEEPALIVE_MS)
    request.raw.on('close', close)
    res.on('close', close)
    res.on('error', close)
    res.on('drain', () => { backpressureSince = undefined })

    res.writeHead(200, {
      // Headers hooks set on the reply (CORS) would be lost with hijack().
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'x-content-type-options': 'nosniff',
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    send('retry: 2000\n\n')
    snapshotBytes = write('snapshot', snapshot(details))
  }
}
