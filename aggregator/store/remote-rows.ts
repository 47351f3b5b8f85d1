import { formatDuration } from '../../shared/duration.ts'
import { restoredRecord, type SavedNode } from '../fleet/restore.ts'
import type { NodeRecord, NodeStatus, RemoteHolding, StatusVerdict } from '../fleet/types.ts'
import type { MemberRow } from './backend.ts'
import { MEMBER_SILENT_MS } from './constants.ts'

/**
 * Other aggregators' rows of a shared store, judged (pure). A row carries
 * its holder's verdict; it stands while its holder keeps renewing its lease
 * row. When the holder stops reporting, its live nodes (healthy, degraded,
 * unhealthy) turn stale with the reason, so nothing is shown healthy on the
 * word of an aggregator that is gone. See docs/store.md.
 */

export type MemberState = 'reporting' | 'silent' | 'stopped'

/**
 * A member's state on the database's clock at `now`. A silent member is one
 * that has not renewed for MEMBER_SILENT_MS while this aggregator could read
 * the store all along (`readingSince`): right after a store outage nobody is
 * judged until everyone has had the time to renew.
 */
export function memberState (member: MemberRow, now: number, readingSince: number | undefined, silentMs: number = MEMBER_SILENT_MS): MemberState {
  if (member.stoppedAt !== undefined) return 'stopped'
  if (now - member.renewedAt > silentMs && readingSince !== undefined && now - readingSince > silentMs) return 'silent'
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
  lastSeen: number
  /** Written while its holder had not heard from it since restarting. */
  restored: boolean
}

const LIVE: ReadonlySet<NodeStatus> = new Set(['healthy', 'degraded', 'unhealthy'])

export interface JudgeContext {
  /** The holder's lease row, if known. */
  member: MemberRow | undefined
  state: MemberState | undefined
  /** Database clock now (leases are judged on it). */
  dbNow: number
  /** This aggregator's wall clock now (rows' times are their holder's wall clock). */
  wallNow: number
  /** A holder that started less than this ago is still getting its agents back. */
  reconnectGraceMs: number
}

/** The verdict this aggregator shows for a remote row, and whether the node is still expected back after its holder's restart. */
export function judgeRemoteRow (row: RemoteRow, context: JudgeContext): { verdict: StatusVerdict, restored: boolean } {
  const own: StatusVerdict = { status: row.status, reason: row.reason }
  const { member, state, dbNow, wallNow } = context
  const young = member !== undefined && wallNow - member.startedAt < context.reconnectGraceMs
  // Down, stale or stopped already say the node is not there: a gone holder changes nothing.
  if (!LIVE.has(row.status)) return { verdict: own, restored: row.restored && young && state === 'reporting' }
  if (member === undefined) return { verdict: { status: 'stale', reason: `their aggregator ${row.holder} is not known to the store` }, restored: false }
  if (state === 'stopped') {
    // A clean stop is most often a restart or a rolling update: its agents get the time to come back before anything alerts.
    const stoppedFor = dbNow - (member.stoppedAt ?? member.renewedAt)
    return { verdict: { status: 'stale', reason: `their aggregator ${row.holder} stopped reporting ${ago(stoppedFor)}` }, restored: stoppedFor < context.reconnectGraceMs }
  }
  if (state === 'silent') {
    return { verdict: { status: 'stale', reason: `their aggregator ${row.holder} stopped reporting ${ago(dbNow - member.renewedAt)}` }, restored: false }
  }
  // Written by a run of the holder that is gone: the holder restarted and has not heard from the node since.
  if (member.runId !== row.writer) {
    return { verdict: { status: 'stale', reason: `not heard from since their aggregator ${row.holder} restarted; last heartbeat ${ago(wallNow - row.lastSeen)}` }, restored: young }
  }
  return { verdict: own, restored: false }
}

/** A read-only record for a node another aggregator holds. */
export function remoteRecord (saved: SavedNode, connected: boolean, holding: RemoteHolding): NodeRecord {
  return { ...restoredRecord(saved), restored: false, connected, remote: holding }
}

/** Whether two holdings show the same thing (no need to tell the fleet). */
export function sameHolding (a: RemoteHolding | undefined, b: RemoteHolding): boolean {
  return a !== undefined && a.holder === b.holder && a.verdict.status === b.verdict.status && a.verdict.reason === b.verdict.reason && (a.restored === true) === (b.restored === true)
}

function ago (ms: number): string {
  const rounded = ms < 10_000 ? Math.round(Math.max(0, ms) / 100) * 100 : Math.round(ms / 1000) * 1000
  return `${formatDuration(rounded)} ago`
}
