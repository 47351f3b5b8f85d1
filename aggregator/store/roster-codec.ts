import { validateHeartbeat } from '../../shared/heartbeat.ts'
import type { SavedNode } from '../fleet/restore.ts'
import { NODE_STATUSES, type NodeStatus } from '../fleet/types.ts'
import type { RosterRow } from './backend.ts'

/** How a node stands, as its holder wrote it beside its record. */
export interface RowVerdict {
  status: NodeStatus
  reason: string
  since: number
  /** The aggregator holding the node's connection (or that held it last). */
  holder: string
  connected: boolean
  /** Brought back after the holder restarted and not heard from since. */
  restored: boolean
}

/**
 * How long before the row was built the node last beat and its head last
 * changed, on the writer's monotonic clock: what other aggregators of a
 * shared store place the node's times by (store/remote-rows.ts), so no
 * reader compares its wall clock with the writer's.
 */
export interface RowAges {
  beatMs: number
  headMs: number
}

/** A roster row for a node's latest state. */
export function encodeRosterRow (saved: SavedNode, verdict: RowVerdict, ages?: RowAges): RosterRow {
  return {
    peerId: saved.peerId,
    nickname: saved.beat.nickname,
    firstSeen: saved.firstSeen,
    lastSeen: saved.lastSeen,
    lastBeat: JSON.stringify(saved.beat),
    extras: JSON.stringify({
      protocol: saved.protocol,
      beats: saved.beats,
      seqGaps: saved.seqGaps,
      remoteAddr: saved.remoteAddr,
      lastHeadChange: saved.lastHeadChange,
      skewMs: saved.skewMs,
      restored: verdict.restored,
      ...(ages === undefined ? {} : { ages: { beatMs: Math.max(0, Math.round(ages.beatMs)), headMs: Math.max(0, Math.round(ages.headMs)) } }),
    }),
    status: verdict.status,
    reason: verdict.reason,
    statusSince: verdict.since,
    holder: verdict.holder,
    connected: verdict.connected,
  }
}

export interface DecodedRosterRow {
  saved: SavedNode
  status: NodeStatus | undefined
  /** The holder wrote it while the node was not heard from since the holder's restart. */
  restored: boolean
  /** The writer's ages of the node's times when it built the row; undefined in rows written without them. */
  ages: RowAges | undefined
}

/**
 * Reads a roster row back, checking the heartbeat as strictly as one off the
 * wire: a damaged row is refused (undefined) rather than shown.
 */
export function decodeRosterRow (row: RosterRow): DecodedRosterRow | undefined {
  let beat: unknown
  let extras: unknown
  try {
    beat = JSON.parse(row.lastBeat)
    extras = JSON.parse(row.extras)
  } catch {
    return undefined
  }
  const checked = validateHeartbeat(beat)
  if (!checked.ok || typeof extras !== 'object' || extras === null || !Number.isFinite(row.firstSeen) || !Number.isFinite(row.lastSeen)) return undefined
  const e = extras as Record<string, unknown>
  const num = (v: unknown, fallback: number): number => typeof v === 'number' && Number.isFinite(v) ? v : fallback
  return {
    saved: {
      peerId: row.peerId,
      protocol: e.protocol === 'legacy' ? 'legacy' : 'v2',
      firstSeen: row.firstSeen,
      lastSeen: row.lastSeen,
      beat: checked.heartbeat,
      beats: num(e.beats, 0),
      seqGaps: num(e.seqGaps, 0),
      remoteAddr: typeof e.remoteAddr === 'string' ? e.remoteAddr : undefined,
      lastHeadChange: num(e.lastHeadChange, row.lastSeen),
      skewMs: typeof e.skewMs === 'number' && Number.isFinite(e.skewMs) ? e.skewMs : null,
    },
    status: (NODE_STATUSES as readonly string[]).includes(row.status) ? row.status as NodeStatus : undefined,
    restored: e.restored === true,
    ages: agesOf(e.ages),
  }
}

function agesOf (value: unknown): RowAges | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { beatMs, headMs } = value as Record<string, unknown>
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0
  return ok(beatMs) && ok(headMs) ? { beatMs, headMs } : undefined
}
