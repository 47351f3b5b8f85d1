import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { FLEET_PAGE_MAX_LIMIT } from '../constants.ts'
import { NODE_STATUSES, type NodeStatus } from '../fleet/types.ts'
import { compareNodeViews, type NodeView } from '../fleet/view.ts'

/**
 * GET /api/v1/fleet's filters and pages (pure): which nodes, and which slice
 * of them in the document's order (display name, then peer id).
 */
export interface FleetQuery {
  statuses?: ReadonlySet<NodeStatus>
  networks?: ReadonlySet<string>
  /** Lower-cased; matched anywhere in the nickname or the peer id. */
  text?: string
  limit?: number
  offset?: number
  /** The cursor's node: the page starts after it. */
  after?: SortKey
  /** The query in one canonical form: the same answer has the same key. */
  key: string
}

export type SortKey = Pick<NodeView, 'displayName' | 'peerId'>

type Query = Record<string, string | string[] | undefined>

const PARAMS = ['status', 'network', 'q', 'limit', 'offset', 'cursor'] as const
const MAX_TEXT_CHARS = 256
const MAX_CURSOR_CHARS = 2_048

function single (query: Query, name: string): string | undefined {
  const value = query[name]
  if (Array.isArray(value)) throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `${name} is given more than once`)
  return value === undefined || value === '' ? undefined : value
}

function list (text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  return items.length === 0 ? undefined : items
}

function wholeNumber (text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined
  const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `invalid ${name} "${text.slice(0, 32)}": expected a whole number from ${min} to ${max}`)
  }
  return n
}

/** Cursors are opaque to clients: base64url of the JSON [displayName, peerId] of the last node of the page before. */
export function encodeFleetCursor (key: SortKey): string {
  return Buffer.from(JSON.stringify([key.displayName, key.peerId])).toString('base64url')
}

export function decodeFleetCursor (text: string): SortKey {
  let parsed: unknown
  try {
    parsed = text.length <= MAX_CURSOR_CHARS && /^[A-Za-z0-9_-]+$/.test(text) ? JSON.parse(Buffer.from(text, 'base64url').toString()) : undefined
  } catch {
    parsed = undefined
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') {
    throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, 'invalid cursor: pass back the nextCursor of a previous page')
  }
  return { displayName: parsed[0], peerId: parsed[1] }
}

/**
 * The filters and page a request asks for, or undefined for the whole
 * document. Unknown parameters are ignored (a cache-buster changes nothing);
 * a bad value, an unknown status, a parameter given twice, or `offset`
 * with `cursor` is a 400.
 */
export function parseFleetQuery (query: Query | undefined): FleetQuery | undefined {
  if (query === undefined || !PARAMS.some((name) => query[name] !== undefined)) return undefined
  const statuses = list(single(query, 'status'))
  for (const status of statuses ?? []) {
    if (!(NODE_STATUSES as readonly string[]).includes(status)) {
      throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `unknown status "${status.slice(0, 32)}": expected some of ${NODE_STATUSES.join(', ')}`)
    }
  }
  const networks = list(single(query, 'network'))
  const rawText = single(query, 'q')
  if (rawText !== undefined && rawText.length > MAX_TEXT_CHARS) throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `q is longer than ${MAX_TEXT_CHARS} characters`)
  const text = rawText?.toLowerCase()
  const limit = wholeNumber(single(query, 'limit'), 'limit', 1, FLEET_PAGE_MAX_LIMIT)
  const offset = wholeNumber(single(query, 'offset'), 'offset', 0, 1e9)
  const cursor = single(query, 'cursor')
  if (offset !== undefined && cursor !== undefined) throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, 'give offset or cursor, not both')
  const after = cursor === undefined ? undefined : decodeFleetCursor(cursor)
  const sortedStatuses = statuses === undefined ? undefined : [...new Set(statuses)].sort()
  const sortedNetworks = networks === undefined ? undefined : [...new Set(networks)].sort()
  const key = JSON.stringify([sortedStatuses ?? null, sortedNetworks ?? null, text ?? null, limit ?? null, offset ?? null, cursor ?? null])
  return {
    statuses: sortedStatuses === undefined ? undefined : new Set(sortedStatuses as NodeStatus[]),
    networks: sortedNetworks === undefined ? undefined : new Set(sortedNetworks),
    text,
    limit,
    offset,
    after,
    key,
  }
}

/** What a page of the query holds: the matched nodes in it, how many matched in all, and the cursor for the next page. */
export interface FleetPage<T> {
  items: T[]
  matched: number
  nextCursor: string | null
}

/**
 * Applies a query to nodes already in the document's order. `search` gives a
 * node's lower-cased nickname and peer id (cached by the caller).
 */
export function selectPage<T> (ordered: readonly T[], view: (item: T) => NodeView, search: (item: T) => string, query: FleetQuery): FleetPage<T> {
  const { statuses, networks, text } = query
  const matches = (item: T): boolean => {
    const v = view(item)
    if (statuses !== undefined && !statuses.has(v.status)) return false
    if (networks !== undefined && !networks.has(v.network)) return false
    return text === undefined || search(item).includes(text)
  }
  // The cursor's place in the order, whether or not its node is still there.
  const start = query.after === undefined ? 0 : firstAfter(ordered, view, query.after)
  const skip = query.offset ?? 0
  const limit = query.limit ?? Number.POSITIVE_INFINITY
  const items: T[] = []
  let matched = 0
  let seenFromStart = 0
  let last: T | undefined
  let more = false
  for (let i = 0; i < ordered.length; i++) {
    const item = ordered[i] as T
    if (!matches(item)) continue
    matched++
    if (i < start) continue
    if (seenFromStart++ < skip) continue
    if (items.length < limit) {
      items.push(item)
      last = item
    } else {
      more = true
    }
  }
  return { items, matched, nextCursor: more && last !== undefined ? encodeFleetCursor(view(last)) : null }
}

/** Index of the first node after `key` in the order (binary search). */
function firstAfter<T> (ordered: readonly T[], view: (item: T) => NodeView, key: SortKey): number {
  let low = 0
  let high = ordered.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (compareNodeViews(view(ordered[mid] as T), key) <= 0) low = mid + 1
    else high = mid
  }
  return low
}
