import type { Instant } from '../../shared/clock.ts'
import { restoredRecord, type SavedNode } from '../fleet/restore.ts'
import { dateTime } from '../fleet/status.ts'
import type { NodeRecord, NodeStatus, RemoteHolding, StatusVerdict } from '../fleet/types.ts'
import type { MemberRow } from './backend.ts'
import { MEMBER_SILENT_MS } from './constants.ts'
import type { RowAges } from './roster-codec.ts'

/**
 * Other aggregators' rows of a shared store, judged (pure). A row carries
 * its holder's verdict; it stands while its holder keeps renewing its lease
 * row. When the holder stops reporting, its live nodes (healthy, degraded,
 * unhealthy) turn stale with the reason, so nothing is shown healthy on the
 * word of an aggregator that is gone. See docs/store.md.
 *
 * Time: no two machines' wall clocks are compared here. What another
 * aggregator did (renewed its lease, stopped, started a run) is stamped by
 * the database's clock; each stamp is placed once on this aggregator's
 * monotonic clock, by how long before the database's own "now" of the same
 * read it was (`sight`), and judged there: a renewal not seen for
 * MEMBER_SILENT_MS of this aggregator's monotonic time is a silent holder,
 * whatever any wall clock does meanwhile. A row's last beat and head change
 * are placed the same way (`remoteTimes`): their ages on the holder's
 * monotonic clock when it wrote the row, plus the row's age on the
 * database's clock.
 */

export type MemberState = 'reporting' | 'silent' | 'stopped'

/** Another aggregator's lease row as this one has seen it, its times placed on this aggregator's monotonic clock. */
export interface MemberSighting {
  member: MemberRow
  /** Monotonic: its last renewal, its clean stop, the start of its run. */
  renewedMono: number
  stoppedMono: number | undefined
  startedMono: number
}

/** A time of the database's clock on this aggregator's monotonic clock: as long before `readMono` as it was before the read's `dbNow` (never after it). */
export function dbTimeToMono (dbTime: number, dbNow: number, readMono: number): number {
  return readMono - Math.max(0, dbNow - dbTime)
}

/**
 * A lease row read at monotonic `readMono` (the database's clock said
 * `dbNow`): a stamp already placed keeps its place, so only a new renewal,
 * a new stop or a new run moves anything.
 */
export function sight (previous: MemberSighting | undefined, member: MemberRow, dbNow: number, readMono: number): MemberSighting {
  const run = previous !== undefined && previous.member.runId === member.runId ? previous : undefined
  const renewedMono = run !== undefined && run.member.renewedAt === member.renewedAt
    ? run.renewedMono
    : Math.max(run?.renewedMono ?? Number.NEGATIVE_INFINITY, dbTimeToMono(member.renewedAt, dbNow, readMono))
  let stoppedMono: number | undefined
  if (member.stoppedAt !== undefined) {
    stoppedMono = run?.stoppedMono !== undefined && run.member.stoppedAt === member.stoppedAt ? run.stoppedMono : dbTimeToMono(member.stoppedAt, dbNow, readMono)
  }
  const startedMono = run !== undefined && run.member.startedAt === member.startedAt ? run.startedMono : dbTimeToMono(member.startedAt, dbNow, readMono)
  return { member, renewedMono, stoppedMono, startedMono }
}

/**
 * A member's state at monotonic `nowMono`. A silent member is one whose
 * renewal has not been seen for `silentMs` while this aggregator could read
 * the store all along (since `readingSinceMono`): right after a store
 * outage nobody is judged until everyone has had the time to renew.
 */
export function memberState (sighting: MemberSighting, nowMono: number, readingSinceMono: number | undefined, silentMs: number = MEMBER_SILENT_MS): MemberState {
  if (sighting.member.stoppedAt !== undefined) return 'stopped'
  if (nowMono - sighting.renewedMono > silentMs && readingSinceMono !== undefined && nowMono - readingSinceMono > silentMs) return 'silent'
  return 'reporting'
}

/** What a row said, kept to judge it again when its holder's state changes. */
export interface RemoteRow {
  peerId: string
  holder: string
  writer: string
  writeSeq: number
  status: NodeStatus
  reason: string
  /** The holder's wall stamps: the node's last beat (said in a reason) and since when it has had its status (shown). */
  lastSeen: number
  statusSince: number
  /** Written while its holder had not heard from it since restarting. */
  restored: boolean
}

const LIVE: ReadonlySet<NodeStatus> = new Set(['healthy', 'degraded', 'unhealthy'])

export interface JudgeContext {
  /** The holder's lease row as seen, if known, and its state now. */
  sighting: MemberSighting | undefined
  state: MemberState | undefined
  /** This aggregator's monotonic clock now. */
  nowMono: number
  /** A holder that started less than this ago is still getting its agents back. */
  reconnectGraceMs: number
}

/**
 * The verdict this aggregator shows for a remote row, and whether the node
 * is still expected back after its holder's restart. Reasons state absolute
 * times (the database's stamps of the holder's renewals and stops, the
 * holder's stamp of the node's last beat), never ages: a verdict changes
 * when something happens, not as time passes.
 */
export function judgeRemoteRow (row: RemoteRow, context: JudgeContext): { verdict: StatusVerdict, restored: boolean, own: boolean } {
  const own: StatusVerdict = { status: row.status, reason: row.reason }
  const { sighting, state, nowMono } = context
  const young = sighting !== undefined && nowMono - sighting.startedMono < context.reconnectGraceMs
  // Down, stale or stopped already say the node is not there: a gone holder changes nothing.
  if (!LIVE.has(row.status)) return { verdict: own, restored: row.restored && young && state === 'reporting', own: true }
  if (sighting === undefined) return { verdict: { status: 'stale', reason: `their aggregator ${row.holder} is not known to the store` }, restored: false, own: false }
  const { member } = sighting
  if (state === 'stopped') {
    // A clean stop is most often a restart or a rolling update: its agents get the time to come back before anything alerts.
    const stoppedFor = nowMono - (sighting.stoppedMono ?? sighting.renewedMono)
    return {
      verdict: { status: 'stale', reason: `their aggregator ${row.holder} stopped reporting at ${dateTime(member.stoppedAt ?? member.renewedAt)}` },
      restored: stoppedFor < context.reconnectGraceMs,
      own: false,
    }
  }
  if (state === 'silent') {
    return { verdict: { status: 'stale', reason: `their aggregator ${row.holder} stopped reporting; its last lease renewal was at ${dateTime(member.renewedAt)}` }, restored: false, own: false }
  }
  // Written by a run of the holder that is gone: the holder restarted and has not heard from the node since.
  if (member.runId !== row.writer) {
    return { verdict: { status: 'stale', reason: `not heard from since their aggregator ${row.holder} restarted; last heartbeat ${dateTime(row.lastSeen)}` }, restored: young, own: false }
  }
  return { verdict: own, restored: false, own: true }
}

/** A row's last beat and head change on this aggregator's monotonic clock. */
export interface RemoteTimes {
  lastSeenMono: number
  lastHeadChangeMono: number
}

/**
 * Places a row's times on this aggregator's monotonic clock at `now`, never
 * in the future: the ages the holder measured on its monotonic clock when
 * it built the row, plus how long ago the database stamped the row by its
 * own clock (`dbNow`: the database's clock now, as this aggregator
 * estimates it from its last lease renewal). A row without those (written
 * by an older version) falls back to the holder's wall stamps against the
 * database's clock: still not this aggregator's wall clock, so a step of it
 * moves nothing.
 */
export function remoteTimes (saved: SavedNode, written: { ages: RowAges | undefined, writtenAt: number | undefined }, dbNow: number, nowMono: number): RemoteTimes {
  const { ages, writtenAt } = written
  if (ages !== undefined && writtenAt !== undefined) {
    const rowAge = Math.max(0, dbNow - writtenAt)
    return { lastSeenMono: nowMono - rowAge - ages.beatMs, lastHeadChangeMono: nowMono - rowAge - ages.headMs }
  }
  return { lastSeenMono: dbTimeToMono(saved.lastSeen, dbNow, nowMono), lastHeadChangeMono: dbTimeToMono(saved.lastHeadChange, dbNow, nowMono) }
}

/** A read-only record for a node another aggregator holds. */
export function remoteRecord (saved: SavedNode, connected: boolean, holding: RemoteHolding, times: RemoteTimes, now: Instant): NodeRecord {
  return { ...restoredRecord(saved, now), ...times, restored: false, connected, remote: holding }
}

/** Whether two holdings show the same thing (no need to tell the fleet). */
export function sameHolding (a: RemoteHolding | undefined, b: RemoteHolding): boolean {
  return a !== undefined && a.holder === b.holder && a.verdict.status === b.verdict.status && a.verdict.reason === b.verdict.reason &&
    (a.restored === true) === (b.restored === true) && a.since === b.since
}
