// Reads GET /api/v1/nodes/:peerId/history: heights for the chart, status
// changes for the timeline, the node's uptime. Anything unreadable is left
// out (the page does with less rather than fail).
import { parseTime } from './format.ts'
import type { NodeStatus, Uptime } from './types.ts'

export interface HeightPoint {
  time: number
  height: number
}

/** One status change (aggregator clock, ms); `from` null for a node's first status, undefined when the answer did not say. */
export interface HistoryChange {
  at: number
  from: NodeStatus | null | undefined
  to: NodeStatus
  reason: string
}

export interface NodeHistoryPage {
  heights: HeightPoint[]
  /** Oldest first. */
  statuses: HistoryChange[]
  /** More changes fell in the range than the answer carries (the latest are given). */
  truncated: boolean
  /** The change in force at the start of the range (an older one), if any. */
  atSince: HistoryChange | undefined
  uptime: Uptime | undefined
}

const LIST_KEYS = ['heights', 'samples', 'points', 'history'] as const
const TIME_KEYS = ['at', 'time', 't', 'timestamp'] as const

function sampleList (body: unknown): unknown[] {
  if (Array.isArray(body)) return body
  if (isRecord(body)) {
    for (const key of LIST_KEYS) {
      const value = body[key]
      if (Array.isArray(value)) return value
    }
  }
  return []
}

function timeOf (sample: Record<string, unknown>): number {
  for (const key of TIME_KEYS) {
    const value = sample[key]
    if (typeof value === 'number') return value
    if (typeof value === 'string') return parseTime(value)
  }
  return Number.NaN
}

export function parseHeightHistory (body: unknown): HeightPoint[] {
  const points: HeightPoint[] = []
  for (const sample of sampleList(body)) {
    if (!isRecord(sample)) continue
    const height = sample.height
    const time = timeOf(sample)
    if (typeof height === 'number' && Number.isFinite(height) && Number.isFinite(time)) points.push({ time, height })
  }
  return points
}

function change (value: unknown): HistoryChange | undefined {
  if (!isRecord(value) || typeof value.to !== 'string') return undefined
  const at = parseTime(value.at)
  if (!Number.isFinite(at)) return undefined
  return { at, from: value.from === null ? null : typeof value.from === 'string' ? value.from as NodeStatus : undefined, to: value.to as NodeStatus, reason: typeof value.reason === 'string' ? value.reason : '' }
}

function readUptime (value: unknown): Uptime | undefined {
  if (!isRecord(value)) return undefined
  const ratio = (v: unknown): number | null => typeof v === 'number' && Number.isFinite(v) ? v : null
  return { hour: ratio(value.hour), day: ratio(value.day), week: ratio(value.week) }
}

export function parseNodeHistory (body: unknown): NodeHistoryPage {
  const record = isRecord(body) ? body : {}
  const statuses = (Array.isArray(record.statuses) ? record.statuses : []).map(change).filter((c): c is HistoryChange => c !== undefined).sort((a, b) => a.at - b.at)
  const since = isRecord(record.statusAtSince) ? record.statusAtSince : undefined
  const atSince = since === undefined ? undefined : change({ at: since.since, to: since.status, reason: since.reason })
  return { heights: parseHeightHistory(body), statuses, truncated: record.statusesTruncated === true, atSince, uptime: readUptime(record.uptime) }
}

export { readUptime }

/**
 * A node's status timeline, newest first: pages of the history API (older
 * and older) merged with the changes the live feed reports, each change once.
 */
export class StatusTimeline {
  private readonly byKey = new Map<string, HistoryChange>()
  /** Whether the aggregator may hold changes older than the oldest here. */
  hasOlder = false

  get size (): number {
    return this.byKey.size
  }

  /** The oldest change held (where the next "load older" starts). */
  get oldest (): number | undefined {
    let oldest: number | undefined
    for (const c of this.byKey.values()) if (oldest === undefined || c.at < oldest) oldest = c.at
    return oldest
  }

  /** Adds changes; one already held keeps its place (a `from` learnt later fills it in). Returns how many were new. */
  add (changes: Iterable<HistoryChange>): number {
    let added = 0
    for (const c of changes) {
      const key = `${c.at}|${c.to}`
      const known = this.byKey.get(key)
      if (known === undefined) added++
      if (known === undefined || (known.from === undefined && c.from !== undefined)) this.byKey.set(key, c)
    }
    return added
  }

  /** The first page of the history API. */
  addFirstPage (page: NodeHistoryPage): void {
    this.add(page.statuses)
    if (page.atSince !== undefined) this.add([page.atSince])
    this.hasOlder = page.truncated || page.atSince !== undefined
  }

  /** An older page (until = the oldest held): no new change means the start of the record. */
  addOlderPage (page: NodeHistoryPage): void {
    const added = this.add(page.statuses)
    this.hasOlder = page.truncated && added > 0
  }

  newestFirst (): HistoryChange[] {
    return [...this.byKey.values()].sort((a, b) => b.at - a.at)
  }
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
