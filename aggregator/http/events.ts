import type { FastifyReply, FastifyRequest } from 'fastify'
import { EVENTS_FLUSH_MS, EVENTS_KEEPALIVE_MS } from '../constants.ts'
import type { FleetState, StatusChange } from '../fleet/fleet-state.ts'
import { nodeViewOf } from '../fleet/view.ts'

/**
 * GET /api/v1/events: server-sent events. First a `snapshot` (the whole
 * fleet), then per-node deltas (`node`), batched per flush interval so a
 * busy fleet costs one write per node per interval, and `status` on each
 * status change; `forgotten` when a long-silent node leaves the view.
 */
export function serveEvents (fleet: FleetState, snapshot: () => unknown, now: () => number) {
  return (request: FastifyRequest, reply: FastifyReply): void => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    const write = (event: string, data: unknown): void => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    }
    res.write('retry: 2000\n\n')
    write('snapshot', snapshot())

    const dirty = new Set<string>()
    const statusChanges: StatusChange[] = []
    const forgotten = new Set<string>()
    const unsubscribe = fleet.subscribe({
      onNodeChanged: (peerId) => { dirty.add(peerId) },
      onStatusChanged: (change) => { statusChanges.push(change) },
      onNodeForgotten: (peerId) => { dirty.delete(peerId); forgotten.add(peerId) },
    })
    const flush = setInterval(() => {
      const at = now()
      for (const peerId of dirty) {
        const view = nodeViewOf(fleet, peerId, at)
        if (view !== undefined) write('node', view)
      }
      dirty.clear()
      for (const change of statusChanges.splice(0)) write('status', { ...change, at: new Date(change.at).toISOString() })
      for (const peerId of forgotten) write('forgotten', { peerId })
      forgotten.clear()
    }, EVENTS_FLUSH_MS)
    const keepalive = setInterval(() => { res.write(': keepalive\n\n') }, EVENTS_KEEPALIVE_MS)
    const close = (): void => {
      clearInterval(flush)
      clearInterval(keepalive)
      unsubscribe()
    }
    request.raw.on('close', close)
    res.on('error', close)
  }
}
