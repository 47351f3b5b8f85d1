import { type Clock, instantOf, type Timer } from '../../shared/clock.ts'
import { errorMessage } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { RemoteHolding } from '../fleet/types.ts'
import type { ClusterBackend, MemberInfo, RosterCursor, StoredRosterRow, Writer } from './backend.ts'
import { MEMBER_FORGET_MS, MEMBER_RENEW_MS, REMOTE_POLL_MAX_ROWS, REMOTE_POLL_MS, REMOTE_RESYNC_MS, RECONNECT_GRACE_MS } from './constants.ts'
import {
  judgeRemoteRow, type MemberSighting, memberState, type MemberState, remoteRecord, type RemoteRow, remoteTimes, sameHolding, sight,
} from './remote-rows.ts'
import { decodeRosterRow } from './roster-codec.ts'

/** One aggregator as the fleet document lists it (`aggregators`). */
export interface AggregatorView {
  /** Its name in the store: its peer id, unless --instance named it (replicas sharing one key). */
  id: string
  peerId: string
  /** This aggregator. */
  self: boolean
  /** reporting: renews its lease row; silent: stopped renewing (crashed, cut off); stopped: stopped cleanly. */
  state: MemberState
  multiaddrs: string[]
  version: string
  url: string
  startedAt: string
  /** Its last renewal (database clock), or null for a store without lease rows (SQLite). */
  lastRenewal: string | null
  /** Nodes it holds, as this aggregator sees the fleet. */
  nodes: number
  /** The one that evaluates the rules and sends notifications. */
  alerting: boolean
}

export interface ClusterSummary {
  aggregators: Record<MemberState, number>
  lastRenewalAt: string | null
  readFailures: number
  lastReadError: string | null
}

export interface ClusterOptions {
  backend: ClusterBackend
  fleet: FleetState
  writer: Writer
  /** What this aggregator's lease row says of it (filled in once ingest and HTTP listen). */
  member: () => Omit<MemberInfo, 'id' | 'runId'>
  clock: Clock
  logger?: Logger
  /** The whole roster, for the periodic resync. */
  roster: () => Promise<StoredRosterRow[]>
  /** After a full read: the peer ids the roster holds (a node an operator removed through another aggregator is gone from it). */
  onRoster?: (present: ReadonlySet<string>) => void
  /** The alerting lease's holder (its name), when known. */
  leader?: () => string | undefined
}

const iso = (ms: number): string => new Date(ms).toISOString()
const FIRST: RosterCursor = { writeSeq: -1, peerId: '' }
/** Rows per query when following a writer. */
const PAGE_ROWS = 2_000

/**
 * Many aggregators, one fleet (a shared store): keeps this aggregator's
 * lease row, reads every other's, and follows the rows other aggregators
 * write, folding them into the fleet as remote records with their holder's
 * verdict (judged again whenever a holder's state changes).
 *
 * Following is by row version, not by time: each run numbers its batches,
 * writes one at a time and commits them in order, so "rows of writer W after
 * (seq, peer)" misses nothing and needs no clock and no overlap window (see
 * docs/store.md for why this holds on PostgreSQL and YugabyteDB alike).
 *
 * Leases are judged on this aggregator's monotonic clock, from when it saw
 * each renewal (remote-rows.ts, `sight`): the database's clock only places
 * a stamp once, against its own "now" of the same read, and no wall clock of
 * any aggregator takes part. Holders are judged again after every renewal,
 * but only those whose judgement could have changed have their rows walked.
 */
export class Cluster {
  private readonly options: ClusterOptions
  private readonly backend: ClusterBackend
  private readonly fleet: FleetState
  private members = new Map<string, MemberSighting>()
  /** Database clock at the last read of the members, and our monotonic clock then. */
  private dbNow = 0
  private dbNowMono = 0
  /** Monotonic: the first renewal of the current streak of good ones. */
  private readingSinceMono: number | undefined
  private readonly cursors = new Map<string, RosterCursor>()
  private readonly rows = new Map<string, RemoteRow>()
  /** Peer ids of the rows per holder, and what each holder was judged by last (only a holder whose judgement changed is walked). */
  private readonly rowsByHolder = new Map<string, Set<string>>()
  private readonly judged = new Map<string, string>()
  private timers: Timer[] = []
  private renewing: Promise<void> | undefined
  private polling: Promise<void> | undefined
  private failing = false
  private readFailures = 0
  private lastReadError: string | undefined
  private stopped = false
  /** Rows that could not be read back (damaged), skipped. */
  skipped = 0

  constructor (options: ClusterOptions) {
    this.options = options
    this.backend = options.backend
    this.fleet = options.fleet
  }

  /** Renews this aggregator's lease row for the first time (start fails when the store cannot be reached). */
  async join (): Promise<void> {
    await this.renewOnce()
  }

  /** The other aggregators' rows of the first roster read; each writer is followed from there. */
  seed (rows: readonly StoredRosterRow[]): number {
    let taken = 0
    for (const row of rows) {
      if (this.applyRow(row)) taken++
      const cursor = this.cursors.get(row.writer) ?? FIRST
      if (row.writeSeq > cursor.writeSeq || (row.writeSeq === cursor.writeSeq && row.peerId > cursor.peerId)) this.cursors.set(row.writer, { writeSeq: row.writeSeq, peerId: row.peerId })
    }
    return taken
  }

  start (): void {
    const { clock } = this.options
    this.timers = [
      clock.every(MEMBER_RENEW_MS, () => { void this.renew() }, { unref: true }),
      clock.every(REMOTE_POLL_MS, () => { void this.poll() }, { unref: true }),
      clock.every(REMOTE_RESYNC_MS, () => { void this.resync() }, { unref: true }),
    ]
  }

  /** Stops following and says so in the lease row (a clean stop: the others need not wait for the lease to run out). */
  async stop (): Promise<void> {
    this.stopped = true
    for (const t of this.timers) t.cancel()
    this.timers = []
    await Promise.allSettled([this.renewing, this.polling])
    try {
      await this.backend.stopMember(this.options.writer)
    } catch (err) {
      this.options.logger?.warn({ err: errorMessage(err) }, 'could not mark this aggregator stopped in the store; the others will see its lease run out')
    }
  }

  /** The aggregator holding a node's connection: another one for a remote record, else this one. */
  holderOf (peerId: string): string {
    return this.fleet.get(peerId)?.remote?.holder ?? this.options.writer.id
  }

  /** Every aggregator known to the store (those gone for a day and holding nothing are left out), this one first. */
  views (): AggregatorView[] {
    const held = countHolders(this.fleet, this.options.writer.id)
    const leader = this.options.leader?.()
    const nowMono = this.options.clock.monotonic()
    const out: AggregatorView[] = []
    for (const sighting of this.members.values()) {
      const m = sighting.member
      const self = m.id === this.options.writer.id
      const state = self ? 'reporting' : memberState(sighting, nowMono, this.readingSinceMono)
      const nodes = held.get(m.id) ?? 0
      if (!self && state !== 'reporting' && nodes === 0 && nowMono - (sighting.stoppedMono ?? sighting.renewedMono) > MEMBER_FORGET_MS) continue
      out.push({
        id: m.id,
        peerId: m.peerId,
        self,
        state,
        multiaddrs: m.multiaddrs,
        version: m.version,
        url: m.httpUrl,
        startedAt: iso(m.startedAt),
        lastRenewal: iso(m.renewedAt),
        nodes,
        alerting: leader === m.id,
      })
    }
    return out.sort((a, b) => Number(b.self) - Number(a.self) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  summary (): ClusterSummary {
    const counts: Record<MemberState, number> = { reporting: 0, silent: 0, stopped: 0 }
    for (const v of this.views()) counts[v.state]++
    const own = this.members.get(this.options.writer.id)?.member
    return { aggregators: counts, lastRenewalAt: own === undefined ? null : iso(own.renewedAt), readFailures: this.readFailures, lastReadError: this.lastReadError ?? null }
  }

  /** The database's clock now, from its "now" at the last renewal and this aggregator's monotonic time since. */
  private estimatedDbNow (nowMono: number = this.options.clock.monotonic()): number {
    return this.dbNow + (nowMono - this.dbNowMono)
  }

  private async renew (): Promise<void> {
    if (this.renewing !== undefined || this.stopped) return
    this.renewing = this.renewOnce().catch((err: unknown) => {
      // Nobody is judged on renewals this aggregator could not read.
      this.readingSinceMono = undefined
      this.failed(err, 'renew its lease row in')
    })
    try { await this.renewing } finally { this.renewing = undefined }
  }

  private async renewOnce (): Promise<void> {
    const snapshot = await this.backend.renewMember({ ...this.options.member(), ...this.options.writer })
    const readMono = this.options.clock.monotonic()
    this.dbNow = snapshot.now
    this.dbNowMono = readMono
    this.readingSinceMono ??= readMono
    const previous = this.members
    this.members = new Map(snapshot.members.map((m) => [m.id, sight(previous.get(m.id), m, snapshot.now, readMono)]))
    this.succeeded()
    this.judgeAll()
  }

  private async poll (): Promise<void> {
    if (this.polling !== undefined || this.stopped) return
    this.polling = this.pollOnce().catch((err: unknown) => { this.failed(err, 'read other aggregators\' changes from') })
    try { await this.polling } finally { this.polling = undefined }
  }

  private async pollOnce (): Promise<void> {
    let budget = REMOTE_POLL_MAX_ROWS
    for (const { member: m } of this.members.values()) {
      if (m.runId === this.options.writer.runId || budget <= 0) continue
      let cursor = this.cursors.get(m.runId) ?? FIRST
      for (;;) {
        const rows = await this.backend.rosterSince(m.runId, cursor, Math.min(PAGE_ROWS, budget))
        for (const row of rows) this.applyRow(row)
        budget -= rows.length
        const last = rows[rows.length - 1]
        if (last !== undefined) cursor = { writeSeq: last.writeSeq, peerId: last.peerId }
        this.cursors.set(m.runId, cursor)
        if (rows.length < PAGE_ROWS || budget <= 0) break
      }
    }
    // Runs that left the member list write no more: their cursors can go.
    const runs = new Set([...this.members.values()].map((s) => s.member.runId))
    for (const run of this.cursors.keys()) if (!runs.has(run)) this.cursors.delete(run)
    this.succeeded()
  }

  private async resync (): Promise<void> {
    if (this.polling !== undefined || this.stopped) return
    this.polling = (async () => {
      const rows = await this.options.roster()
      const present = new Set<string>()
      for (const row of rows) {
        present.add(row.peerId)
        this.applyRow(row)
      }
      // Removed by an operator (through any aggregator): gone from the roster, gone from the view.
      for (const [peerId, row] of [...this.rows]) {
        if (present.has(peerId)) continue
        this.forgetRow(row)
        if (this.fleet.get(peerId)?.remote !== undefined) this.fleet.remove(peerId, instantOf(this.options.clock))
      }
      this.options.onRoster?.(present)
    })().catch((err: unknown) => { this.failed(err, 'read the roster from') })
    try { await this.polling } finally { this.polling = undefined }
  }

  /** Folds one row into the fleet as a remote record; false when it is this aggregator's, unchanged, damaged, or the fleet kept its own. */
  private applyRow (row: StoredRosterRow): boolean {
    if (row.holder === this.options.writer.id || row.holder === '') return false
    const known = this.rows.get(row.peerId)
    if (known !== undefined && known.writer === row.writer && known.writeSeq === row.writeSeq) return false
    const decoded = decodeRosterRow(row)
    if (decoded === undefined || decoded.status === undefined) {
      this.skipped++
      return false
    }
    const remote: RemoteRow = {
      peerId: row.peerId,
      holder: row.holder,
      writer: row.writer,
      writeSeq: row.writeSeq,
      status: decoded.status,
      reason: row.reason,
      lastSeen: row.lastSeen,
      statusSince: row.statusSince,
      restored: decoded.restored,
    }
    if (known !== undefined) this.forgetRow(known)
    this.rows.set(row.peerId, remote)
    let peers = this.rowsByHolder.get(row.holder)
    if (peers === undefined) this.rowsByHolder.set(row.holder, peers = new Set())
    peers.add(row.peerId)
    const now = instantOf(this.options.clock)
    const times = remoteTimes(decoded.saved, { ages: decoded.ages, writtenAt: row.writtenAt ?? undefined }, this.estimatedDbNow(now.mono), now.mono)
    return this.fleet.applyRemote(remoteRecord(decoded.saved, row.connected, this.holding(remote, now.mono), times, now), now)
  }

  private forgetRow (row: RemoteRow): void {
    this.rows.delete(row.peerId)
    const peers = this.rowsByHolder.get(row.holder)
    peers?.delete(row.peerId)
    if (peers?.size === 0) {
      this.rowsByHolder.delete(row.holder)
      this.judged.delete(row.holder)
    }
  }

  private holding (row: RemoteRow, nowMono: number): RemoteHolding {
    const sighting = this.members.get(row.holder)
    const state = sighting === undefined ? undefined : memberState(sighting, nowMono, this.readingSinceMono)
    const { verdict, restored, own } = judgeRemoteRow(row, { sighting, state, nowMono, reconnectGraceMs: RECONNECT_GRACE_MS })
    const holding: RemoteHolding = { holder: row.holder, verdict }
    return { ...holding, ...(restored ? { restored } : {}), ...(own ? { since: row.statusSince } : {}) }
  }

  /**
   * What a holder's rows are judged by at `nowMono`: its state, its run, and
   * whether it is still young or only just stopped (RECONNECT_GRACE_MS).
   * The same key, the same verdicts: its rows need no walk.
   */
  private judgement (holder: string, nowMono: number): string {
    const sighting = this.members.get(holder)
    if (sighting === undefined) return 'unknown'
    const { member } = sighting
    const state = memberState(sighting, nowMono, this.readingSinceMono)
    const young = nowMono - sighting.startedMono < RECONNECT_GRACE_MS
    const stoppedYoung = state === 'stopped' && nowMono - (sighting.stoppedMono ?? sighting.renewedMono) < RECONNECT_GRACE_MS
    return JSON.stringify([state, member.runId, young, stoppedYoung, state === 'stopped' ? member.stoppedAt : null, state === 'silent' ? member.renewedAt : null])
  }

  /** Judges the remote records of every holder whose judgement changed (it stopped reporting, came back, restarted, or its grace ran out). */
  private judgeAll (): void {
    const now = instantOf(this.options.clock)
    for (const [holder, peers] of this.rowsByHolder) {
      const key = this.judgement(holder, now.mono)
      if (this.judged.get(holder) === key) continue
      this.judged.set(holder, key)
      for (const peerId of peers) {
        const row = this.rows.get(peerId)
        const record = this.fleet.get(peerId)
        // The node is held here now, or by someone whose row we have not read yet: nothing to judge.
        if (row === undefined || record?.remote === undefined || record.remote.holder !== row.holder) continue
        const holding = this.holding(row, now.mono)
        if (sameHolding(record.remote, holding)) continue
        this.fleet.applyRemote({ ...record, remote: holding }, now)
      }
    }
  }

  private failed (err: unknown, what: string): void {
    this.readFailures++
    this.lastReadError = errorMessage(err)
    if (!this.failing) this.options.logger?.warn({ err: errorMessage(err) }, `cannot ${what} the store; other aggregators' nodes keep their last known state`)
    this.failing = true
  }

  private succeeded (): void {
    if (this.failing) this.options.logger?.info('the store answers again; following other aggregators')
    this.failing = false
    this.lastReadError = undefined
  }
}

function countHolders (fleet: FleetState, self: string): Map<string, number> {
  const held = new Map<string, number>()
  for (const record of fleet.nodes()) {
    const holder = record.remote?.holder ?? self
    held.set(holder, (held.get(holder) ?? 0) + 1)
  }
  return held
}
