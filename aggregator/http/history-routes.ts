import type { Clock } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { NodeView } from '../fleet/view.ts'
import {
  DEFAULT_FLEET_HISTORY_LIMIT, DEFAULT_NODE_HISTORY_WINDOW_MS, MAX_FLEET_HISTORY_LIMIT,
} from '../store/constants.ts'
import type { FleetStore, LogCursor, StoredTransition, Uptime } from '../store/index.ts'
import type { HttpRegistry, NodeDecorator } from './registry.ts'

/** The latest time a Date can hold (ms). */
const MAX_TIME_MS = 8.64e15
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

type Query = Record<string, string | string[] | undefined>

function single (query: Query, name: string): string | undefined {
  const value = query[name]
  if (Array.isArray(value)) throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `${name} is given more than once`)
  return value === undefined || value === '' ? undefined : value
}

/** A time in a query: ISO 8601 (2025-01-31T12:00:00Z) or milliseconds since the epoch. */
export function parseTimeParam (text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined
  let ms = Number.NaN
  if (/^\d{1,16}$/.test(text)) ms = Number(text)
  else if (ISO_DATE.test(text)) ms = Date.parse(text)
  if (!Number.isFinite(ms) || ms > MAX_TIME_MS) {
    throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `invalid ${name} "${text.slice(0, 64)}": expected an ISO 8601 time (2025-01-31T12:00:00Z) or milliseconds since the epoch`)
  }
  return ms
}

/** The window of a history query: [since, until], since defaulting to `defaultSpan` before until. */
export function parseRange (query: Query, now: number, defaultSpan: number): { since: number, until: number } {
  const until = parseTimeParam(single(query, 'until'), 'until') ?? now
  const since = parseTimeParam(single(query, 'since'), 'since') ?? Math.max(0, until - defaultSpan)
  if (since > until) throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, 'since is after until')
  return { since, until }
}

export function parseLimit (text: string | undefined): number {
  if (text === undefined) return DEFAULT_FLEET_HISTORY_LIMIT
  const n = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isInteger(n) || n < 1 || n > MAX_FLEET_HISTORY_LIMIT) {
    throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `invalid limit "${text.slice(0, 32)}": expected a whole number from 1 to ${MAX_FLEET_HISTORY_LIMIT}`)
  }
  return n
}

/** Cursors are opaque to clients: base64url of "at.id" of the last change of the previous page. */
export function encodeCursor (cursor: LogCursor): string {
  return Buffer.from(`${cursor.at}.${cursor.id}`).toString('base64url')
}

export function parseCursor (text: string | undefined): LogCursor | undefined {
  if (text === undefined) return undefined
  const decoded = /^[A-Za-z0-9_-]{1,64}$/.test(text) ? Buffer.from(text, 'base64url').toString() : ''
  const match = /^(\d{1,16})\.(\d{1,16})$/.exec(decoded)
  if (match === null) throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, 'invalid cursor: pass back the nextCursor of a previous answer')
  return { at: Number(match[1]), id: Number(match[2]) }
}

const iso = (ms: number): string => new Date(ms).toISOString()

function changeView (t: StoredTransition): { at: string, from: string | null, to: string, reason: string } {
  return { at: iso(t.at), from: t.from, to: t.to, reason: t.reason }
}

export interface HistoryRoutesOptions {
  /** The open store (the store part opens it on start, before any request). */
  store: () => FleetStore
  fleet: FleetState
  clock: Clock
}

/**
 * GET /api/v1/nodes/:peerId/history (one node's heights and status changes)
 * and GET /api/v1/history (the fleet's status changes, newest first, paged).
 */
export function registerHistoryRoutes (http: HttpRegistry, options: HistoryRoutesOptions): void {
  const { fleet, clock } = options
  http.route<{ Params: { peerId: string }, Querystring: Query }>({
    method: 'GET',
    path: '/api/v1/nodes/:peerId/history',
    query: '?since=&until=',
    summary: 'one node\'s heights and status changes',
    handler: async (request) => {
      const store = options.store()
      const { peerId } = request.params
      const { since, until } = parseRange(request.query, clock.wall(), DEFAULT_NODE_HISTORY_WINDOW_MS)
      if (fleet.get(peerId) === undefined && !(await store.knows(peerId))) throw new HeartbeatError(ErrorCodes.NODE_NOT_FOUND, `no node with peer id ${peerId}`)
      const [history, uptime] = await Promise.all([store.nodeHistory(peerId, since, until), store.uptime(peerId)])
      const atSince = history.statusAtSince
      return {
        peerId,
        since: iso(since),
        until: iso(until),
        heights: history.heights.map((h) => ({ at: iso(h.at), height: h.height, head: h.head })),
        heightBucketMs: history.bucketMs,
        statuses: history.statuses.map(changeView),
        statusesTruncated: history.statusesTruncated,
        statusAtSince: atSince === undefined ? null : { status: atSince.to, reason: atSince.reason, since: iso(atSince.at) },
        uptime,
      }
    },
  })

  http.route<{ Querystring: Query }>({
    method: 'GET',
    path: '/api/v1/history',
    query: '?since=&until=&limit=&cursor=',
    summary: 'the fleet\'s status changes, newest first, paged',
    handler: async (request) => {
      const { since, until } = parseRange(request.query, clock.wall(), Number.POSITIVE_INFINITY)
      const limit = parseLimit(single(request.query, 'limit'))
      const cursor = parseCursor(single(request.query, 'cursor'))
      const page = await options.store().fleetHistory(since, until, limit, cursor)
      return {
        since: iso(since),
        until: iso(until),
        changes: page.changes.map((t) => ({ id: t.id, peerId: t.peerId, nickname: t.nickname, ...changeView(t) })),
        nextCursor: page.next === undefined ? null : encodeCursor(page.next),
      }
    },
  })
}

/** Adds `uptime` to node views: fresh for one node (prepared before its route answers), from a short cache for lists. */
export function withUptime (store: () => FleetStore | undefined): NodeDecorator {
  return (view, scope) => {
    const open = store()
    if (open === undefined) return view
    const uptime: Uptime = open.uptimeFor(view.peerId, scope)
    const extended: NodeView & { uptime: Uptime } = { ...view, uptime }
    return extended
  }
}
