import type { NodeStatus } from '../fleet/types.ts'
import { UPTIME_WINDOWS_MS } from './constants.ts'

/**
 * Uptime, from status changes (pure).
 *
 * Definition: a node is up while its status is `healthy` or `degraded` (it is
 * doing its job, perhaps imperfectly); `unhealthy`, `stale`, `down` and
 * `stopped` count as not up. Uptime over a window is up time divided by the
 * time the aggregator watched the node in that window: time before the node
 * was first seen and time the aggregator itself was not running count neither
 * way, so an aggregator restart does not make a node look up or down.
 */
export function isUp (status: NodeStatus): boolean {
  return status === 'healthy' || status === 'degraded'
}

export interface StatusPoint {
  /** Aggregator clock, ms. */
  at: number
  status: NodeStatus
}

export interface Interval {
  start: number
  end: number
}

export interface UptimeInput {
  from: number
  to: number
  /** The status in force at `from` (the last change before it); undefined when the node was not known yet. */
  initial: NodeStatus | undefined
  /** Changes, sorted by time; those at or before `from` only update the initial status. */
  changes: readonly StatusPoint[]
  /** When the aggregator was watching, sorted and not overlapping. */
  observed: readonly Interval[]
}

/** Up time / watched time in [from, to]; null when the node was never watched in the window. */
export function uptimeRatio (input: UptimeInput): number | null {
  const { from, to, observed } = input
  let status = input.initial
  let segmentStart = from
  let up = 0
  let known = 0
  const close = (end: number): void => {
    if (status === undefined || end <= segmentStart) return
    const watched = overlap(segmentStart, end, observed)
    known += watched
    if (isUp(status)) up += watched
  }
  for (const change of input.changes) {
    if (change.at > to) break
    if (change.at > from) {
      close(change.at)
      segmentStart = change.at
    }
    status = change.status
  }
  close(to)
  return known > 0 ? up / known : null
}

function overlap (start: number, end: number, intervals: readonly Interval[]): number {
  let total = 0
  for (const i of intervals) {
    const s = Math.max(start, i.start)
    const e = Math.min(end, i.end)
    if (e > s) total += e - s
  }
  return total
}

export type UptimeWindow = keyof typeof UPTIME_WINDOWS_MS
/** Ratios in [0, 1] per window, null where the node was not watched. */
export type Uptime = Record<UptimeWindow, number | null>

/**
 * Uptime over the last hour, day and week, from the status in force a week
 * ago (`before`) and the changes since then.
 */
export function uptimeWindows (input: { now: number, before: NodeStatus | undefined, changes: readonly StatusPoint[], observed: readonly Interval[] }): Uptime {
  const out = {} as Uptime
  for (const [name, span] of Object.entries(UPTIME_WINDOWS_MS) as Array<[UptimeWindow, number]>) {
    const ratio = uptimeRatio({ from: input.now - span, to: input.now, initial: input.before, changes: input.changes, observed: input.observed })
    out[name] = ratio === null ? null : Math.round(ratio * 10_000) / 10_000
  }
  return out
}

/** The longest window: how far back uptime needs changes. */
export const LONGEST_UPTIME_WINDOW_MS = Math.max(...Object.values(UPTIME_WINDOWS_MS))
