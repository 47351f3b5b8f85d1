/**
 * The aggregator's memory: the roster (every node ever seen, with its last
 * heartbeat and status), height samples and the status-change log, in an
 * embedded SQLite file in the data dir or a PostgreSQL database that many
 * aggregators share (backend.ts), so a restart brings the fleet back and
 * history and uptime survive it.
 *
 * Ingest never waits for the store: a FleetRecorder listens to the fleet and
 * a WriteBehind writes one transaction per flush interval. With a shared
 * store, a Cluster follows what the other aggregators write. See docs/store.md.
 */
import { join } from 'node:path'
import { backoffDelay, type RandomSource } from '../../shared/backoff.ts'
import { type Clock, instantOf, type Timer } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError, errorMessage } from '../../shared/errors.ts'
import type { ComponentHealth } from '../../shared/health.ts'
import type { Logger } from '../../shared/log.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { restoredRecord } from '../fleet/restore.ts'
import { NODE_STATUSES, type NodeRecord, type NodeStatus } from '../fleet/types.ts'
import type { FleetTransition, LogCursor, MemberInfo, PruneResult, StoreBackend, StoreKind, StoredRun, StoredTransition, Writer } from './backend.ts'
import { Cluster, type AggregatorView } from './cluster.ts'
import {
  ALIVE_MARK_MS, DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_SHARED_FLUSH_INTERVAL_MS, DEFAULT_HEIGHT_SAMPLE_INTERVAL_MS, DEFAULT_HISTORY_RETENTION_MS,
  FLEET_UPTIME_CACHE_MS, MAX_HISTORY_HEIGHT_POINTS, MAX_HISTORY_STATUS_CHANGES, PRUNE_INTERVAL_MS, STORE_FILE,
  STORE_NOT_READY_AFTER_MS, STORE_WAITING_INTERVALS,
} from './constants.ts'
import { FleetRecorder } from './recorder.ts'
import { decodeRosterRow } from './roster-codec.ts'
import { LONGEST_UPTIME_WINDOW_MS, uptimeWindows, type Interval, type StatusPoint, type Uptime } from './uptime.ts'
import { storeRetryPolicy, WriteBehind } from './write-behind.ts'

export type { Uptime } from './uptime.ts'
export type { FleetTransition, LogCursor, StoredTransition } from './backend.ts'

export interface StoreSettings {
  /** Write-behind interval: a kill loses at most this much. */
  flushIntervalMs: number
  /** History (samples, changes) older than this is pruned. */
  retentionMs: number
  /** At most one height sample per node per this interval. */
  sampleIntervalMs: number
  /** Writes failing (or the store not open) for longer than this turn the store component not_ready. */
  notReadyAfterMs: number
}

export const DEFAULT_STORE_SETTINGS: StoreSettings = {
  flushIntervalMs: DEFAULT_FLUSH_INTERVAL_MS,
  retentionMs: DEFAULT_HISTORY_RETENTION_MS,
  sampleIntervalMs: DEFAULT_HEIGHT_SAMPLE_INTERVAL_MS,
  notReadyAfterMs: STORE_NOT_READY_AFTER_MS,
}

export interface FleetStoreOptions extends Partial<StoreSettings> {
  /** Opens (and migrates) the backend: the SQLite file or the PostgreSQL pool (store/open.ts). */
  open: () => Promise<StoreBackend>
  kind: StoreKind
  /** Where it lives, safe to log, before it is open. */
  location: string
  /**
   * Whether a failure to open may pass by itself (SQLite on a full or
   * read-only disk): then the aggregator serves from memory, the store is
   * not_ready, and opening is retried. Otherwise the failure stops the start.
   */
  retryOpen?: (err: unknown) => boolean
  /** This aggregator and this run. */
  writer: Writer
  /** What this aggregator's lease row says of it (a shared store). */
  member?: () => Omit<MemberInfo, 'id' | 'runId'>
  /** The alerting lease's holder, for the aggregators list. */
  leader?: () => string | undefined
  /** Timers (flush, prune, retries: monotonic) and the stamps of what is stored (wall clock). */
  clock: Clock
  random?: RandomSource
  logger?: Logger
}

export interface NodeHistory {
  heights: Array<{ at: number, height: number, head: string }>
  /** Bucket width of `heights`: one point per bucket at most. */
  bucketMs: number
  statuses: StoredTransition[]
  /** True when more changes fell in the range than one answer carries (the latest are given). */
  statusesTruncated: boolean
  /** The change in force at `since`, if any. */
  statusAtSince: StoredTransition | undefined
}

export interface AttachResult {
  /** This aggregator's own nodes brought back (as not heard from since the restart). */
  restored: number
  /** Nodes other aggregators hold (a shared store). */
  remote: number
  skipped: number
  /** False when the store could not be opened yet (retrying; see retryOpen). */
  open: boolean
}

export function storeFile (dataDir: string): string {
  return join(dataDir, STORE_FILE)
}

const NO_UPTIME: Uptime = Object.freeze({ hour: null, day: null, week: null })

export class FleetStore {
  readonly kind: StoreKind
  readonly location: string
  readonly settings: StoreSettings
  readonly writerId: Writer
  private readonly options: FleetStoreOptions
  private backend: StoreBackend | undefined
  private openError: string | undefined
  private readonly openedAtMono: number
  private readonly clock: Clock
  private readonly log: Logger | undefined
  private readonly runStartedAt: number
  private runId: number | undefined
  private writeSeq = 0
  /** Batches stored before the last full roster read started. */
  private storedBeforeRead = 0
  private readonly writer: WriteBehind
  private fleet: FleetState | undefined
  private recorder: FleetRecorder | undefined
  private cluster: Cluster | undefined
  private unsubscribe: (() => void) | undefined
  private timers: Timer[] = []
  private reopenTimer: Timer | undefined
  private reopenFailures = 0
  private failing = false
  private closed = false
  private fleetUptimes: { atMono: number, byNode: Map<string, Uptime> } | undefined
  private refreshingUptimes: Promise<void> | undefined
  /** Fresh uptimes computed for one node's route, taken by the next node view. */
  private readonly nodeUptimes = new Map<string, Uptime>()
  private lastPrune: (PruneResult & { at: number }) | undefined
  private pruning: Promise<PruneResult> | undefined
  private readonly openListeners = new Set<(backend: StoreBackend) => void | Promise<void>>()

  constructor (options: FleetStoreOptions) {
    this.options = options
    this.kind = options.kind
    this.location = options.location
    this.writerId = options.writer
    this.settings = {
      flushIntervalMs: options.flushIntervalMs ?? (options.kind === 'postgres' ? DEFAULT_SHARED_FLUSH_INTERVAL_MS : DEFAULT_STORE_SETTINGS.flushIntervalMs),
      retentionMs: options.retentionMs ?? DEFAULT_STORE_SETTINGS.retentionMs,
      sampleIntervalMs: options.sampleIntervalMs ?? DEFAULT_STORE_SETTINGS.sampleIntervalMs,
      notReadyAfterMs: options.notReadyAfterMs ?? DEFAULT_STORE_SETTINGS.notReadyAfterMs,
    }
    this.clock = options.clock
    this.log = options.logger
    this.runStartedAt = this.clock.wall()
    this.openedAtMono = this.clock.monotonic()
    this.writer = new WriteBehind({
      intervalMs: this.settings.flushIntervalMs,
      clock: this.clock,
      idleWriteMs: ALIVE_MARK_MS,
      random: options.random,
      write: async (batch, now) => {
        const backend = this.backend
        if (backend === undefined) throw new HeartbeatError(ErrorCodes.STORE_UNAVAILABLE, `the store is not open: ${this.openError ?? 'opening'}`)
        const rows = this.recorder?.rowsFor(batch.nodes, this.clock.monotonic()) ?? { rows: [], commit: () => {} }
        const result = await backend.writeBatch({
          nodes: rows.rows,
          samples: batch.samples,
          transitions: batch.transitions,
          writer: this.writerId,
          writeSeq: ++this.writeSeq,
          run: { id: this.runId, startedAt: this.runStartedAt, aliveAt: now },
        })
        this.runId = result.runId
        rows.commit(result.refused)
        if (this.failing) {
          this.failing = false
          this.log?.info({ store: this.location }, 'the store writes again')
        }
      },
      onError: (err) => {
        // One error line per failing streak, not one per second.
        if (!this.failing) this.log?.error({ err: errorMessage(err), store: this.location }, 'the store cannot write; keeping changes in memory and retrying')
        this.failing = true
      },
    })
  }

  /** The open backend, if any (tests; the alert state and leadership use it through their own ports). */
  get open (): StoreBackend | undefined {
    return this.backend
  }

  /** Runs `listener` once the backend is open (at once when it already is). */
  whenOpen (listener: (backend: StoreBackend) => void | Promise<void>): void {
    if (this.backend !== undefined) void listener(this.backend)
    else this.openListeners.add(listener)
  }

  /**
   * Records what `fleet` does from now on, opens the backend and brings back
   * every node it knows: this aggregator's own (as not heard from since the
   * restart) and, with a shared store, every other aggregator's (as their
   * holders judged them). When opening fails and retryOpen says it may pass,
   * the aggregator serves from memory and opening is retried with backoff.
   */
  async attach (fleet: FleetState): Promise<AttachResult> {
    this.fleet = fleet
    const recorder = this.recorder = new FleetRecorder({ fleet, pending: this.writer, sampleIntervalMs: this.settings.sampleIntervalMs, holder: this.writerId.id, shared: () => this.backend?.cluster !== undefined })
    this.unsubscribe = fleet.subscribe(recorder)
    let backend: StoreBackend
    try {
      backend = await this.options.open()
    } catch (err) {
      if (this.options.retryOpen?.(err) !== true) {
        this.unsubscribe()
        throw err
      }
      this.openError = errorMessage(err)
      this.log?.error({ err: this.openError, store: this.location }, 'the store cannot be opened; serving from memory and retrying')
      this.writer.start()
      this.scheduleReopen()
      return { restored: 0, remote: 0, skipped: 0, open: false }
    }
    try {
      const result = await this.opened(backend)
      this.writer.start()
      return result
    } catch (err) {
      this.unsubscribe()
      await backend.close().catch(() => {})
      throw err
    }
  }

  private async opened (backend: StoreBackend): Promise<AttachResult> {
    const fleet = this.fleet as FleetState
    const recorder = this.recorder as FleetRecorder
    if (backend.cluster !== undefined) {
      this.cluster = new Cluster({
        backend: backend.cluster,
        fleet,
        writer: this.writerId,
        member: this.options.member ?? (() => ({ peerId: this.writerId.id, multiaddrs: [], version: '', httpUrl: '', startedAt: this.runStartedAt })),
        roster: async () => {
          const stored = recorder.storedBatches
          const rows = await backend.roster()
          this.storedBeforeRead = stored
          return rows
        },
        onRoster: (present) => { this.dropRemoved(present) },
        leader: this.options.leader,
        clock: this.clock,
        logger: this.log,
      })
      await this.cluster.join()
    }
    const own: NodeRecord[] = []
    const others = []
    let skipped = 0
    const rows = await backend.roster()
    const now = instantOf(this.clock)
    for (const row of rows) {
      // Rows another aggregator holds are followed by the cluster; a SQLite file is this aggregator's alone.
      if (this.cluster !== undefined && row.holder !== this.writerId.id && row.holder !== '') {
        others.push(row)
        continue
      }
      const decoded = decodeRosterRow(row)
      if (decoded === undefined) { skipped++; continue }
      if (decoded.status !== undefined) recorder.seed(row.peerId, decoded.status, row.statusSince)
      own.push(restoredRecord(decoded.saved, now))
    }
    if (skipped > 0) this.log?.warn({ skipped, store: this.location }, 'some stored nodes could not be read and were left out')
    this.backend = backend
    this.openError = undefined
    const restored = fleet.restore(own, now)
    const remote = this.cluster?.seed(others) ?? 0
    this.cluster?.start()
    await this.prune()
    await this.refreshFleetUptimes()
    this.timers.push(this.clock.every(PRUNE_INTERVAL_MS, () => { void this.prune() }, { unref: true }))
    for (const listener of this.openListeners) {
      try { await listener(backend) } catch (err) { this.log?.error({ err: errorMessage(err) }, 'a part failed to use the store as it opened') }
    }
    this.openListeners.clear()
    return { restored, remote, skipped: skipped + (this.cluster?.skipped ?? 0), open: true }
  }

  /** This aggregator's nodes an operator removed through another aggregator: stored before the read, gone from the roster now, not connected. */
  private dropRemoved (present: ReadonlySet<string>): void {
    const fleet = this.fleet
    const recorder = this.recorder
    if (fleet === undefined || recorder === undefined) return
    for (const record of [...fleet.nodes()]) {
      if (record.remote !== undefined || record.connected || present.has(record.peerId) || !recorder.storedWithin(record.peerId, this.storedBeforeRead)) continue
      recorder.forget(record.peerId)
      fleet.remove(record.peerId)
    }
  }

  private scheduleReopen (): void {
    if (this.closed) return
    const delay = backoffDelay(storeRetryPolicy(this.settings.flushIntervalMs), ++this.reopenFailures, this.options.random ?? Math.random)
    this.reopenTimer = this.clock.timeout(delay, () => { void this.reopen() }, { unref: true })
  }

  private async reopen (): Promise<void> {
    if (this.closed || this.backend !== undefined) return
    let backend: StoreBackend
    try {
      backend = await this.options.open()
    } catch (err) {
      this.openError = errorMessage(err)
      this.scheduleReopen()
      return
    }
    if (this.closed) { await backend.close(); return }
    try {
      const { restored } = await this.opened(backend)
      this.log?.info({ store: this.location, restored }, 'the store is open again; what was kept in memory is being written')
      void this.writer.flush()
    } catch (err) {
      this.backend = undefined
      this.openError = errorMessage(err)
      await backend.close().catch(() => {})
      this.scheduleReopen()
    }
  }

  /** Writes what is pending now (tests, shutdown); false when nothing was written. */
  async flush (): Promise<boolean> {
    return await this.writer.flush()
  }

  /** Resolves once no write and no pruning is running (tests that drive the clock). */
  async idle (): Promise<void> {
    await this.writer.idle()
    await this.pruning
  }

  /** Deletes history older than the retention (keeping, per node, the change in force at the cutoff). */
  async prune (): Promise<PruneResult> {
    if (this.pruning !== undefined) return await this.pruning
    this.pruning = this.pruneOnce()
    try { return await this.pruning } finally { this.pruning = undefined }
  }

  private async pruneOnce (): Promise<PruneResult> {
    const at = this.clock.wall()
    const backend = this.backend
    if (backend === undefined) return { samples: 0, transitions: 0, runs: 0 }
    try {
      const result = await backend.prune(at - this.settings.retentionMs)
      this.lastPrune = { ...result, at }
      if (result.samples + result.transitions + result.runs > 0) this.log?.debug({ ...result }, 'pruned old history')
      return result
    } catch (err) {
      this.log?.warn({ err: errorMessage(err) }, 'pruning the store failed; will try again')
      return { samples: 0, transitions: 0, runs: 0 }
    }
  }

  /**
   * Forgets a node entirely (an operator removed it): its roster row, height
   * samples and status changes, and whatever waits to be written about it
   * (after the write running now, which may hold it). Returns whether the
   * store knew it. With a shared store the other aggregators let go of it
   * at their next full read of the roster (REMOTE_RESYNC_MS).
   */
  async forget (peerId: string): Promise<boolean> {
    await this.writer.idle()
    this.writer.forget(peerId)
    this.recorder?.forget(peerId)
    this.fleetUptimes?.byNode.delete(peerId)
    this.nodeUptimes.delete(peerId)
    return await this.query(async (b) => await b.forgetNode(peerId))
  }

  /** Whether the store has ever seen this node (written at least once). */
  async knows (peerId: string): Promise<boolean> {
    return await this.query(async (b) => await b.hasNode(peerId))
  }

  async nodeHistory (peerId: string, since: number, until: number): Promise<NodeHistory> {
    // Buckets are aligned to multiples of their width, so a range spans at most (length / width) + 1 of them.
    const bucketMs = Math.max(this.settings.sampleIntervalMs, Math.ceil((until - since + 1) / (MAX_HISTORY_HEIGHT_POINTS - 1)))
    return await this.query(async (b) => {
      const [{ changes, more }, heights, statusAtSince] = await Promise.all([
        b.nodeTransitions(peerId, since, until, MAX_HISTORY_STATUS_CHANGES),
        b.heights(peerId, since, until, bucketMs),
        b.nodeStatusAt(peerId, since - 1),
      ])
      return { heights, bucketMs, statuses: changes, statusesTruncated: more, statusAtSince }
    })
  }

  async fleetHistory (since: number, until: number, limit: number, after: LogCursor | undefined): Promise<{ changes: FleetTransition[], next: LogCursor | undefined }> {
    return await this.query(async (b) => await b.fleetPage(since, until, limit, after))
  }

  /** One node's uptime, computed now from its changes. */
  async uptime (peerId: string): Promise<Uptime> {
    const now = this.clock.wall()
    const from = now - LONGEST_UPTIME_WINDOW_MS
    return await this.query(async (b) => {
      const [before, changes, runs] = await Promise.all([b.nodeStatusAt(peerId, from), b.nodeTransitionsSince(peerId, from), b.runsSince(from)])
      return uptimeWindows({ now, before: asStatus(before?.to), changes: toPoints(changes), observed: this.observed(runs, now) })
    })
  }

  /** Computes one node's uptime for its own route now; the next node view of it carries the fresh value. */
  async prepareNodeUptime (peerId: string): Promise<void> {
    if (this.backend === undefined) return
    try {
      this.nodeUptimes.set(peerId, await this.uptime(peerId))
    } catch {
      // The view falls back to the fleet's cached value.
    }
  }

  /** A node view's uptime: fresh when its route prepared it, else from the fleet's values (computed in one pass, at most every FLEET_UPTIME_CACHE_MS). */
  uptimeFor (peerId: string, scope: 'fleet' | 'node'): Uptime {
    if (scope === 'node') {
      const fresh = this.nodeUptimes.get(peerId)
      if (fresh !== undefined) {
        this.nodeUptimes.delete(peerId)
        return fresh
      }
    }
    const cached = this.fleetUptimes
    if (cached === undefined || this.clock.monotonic() - cached.atMono >= FLEET_UPTIME_CACHE_MS) void this.refreshFleetUptimes()
    return cached?.byNode.get(peerId) ?? NO_UPTIME
  }

  /** Recomputes every node's uptime in one pass (one refresh at a time). */
  async refreshFleetUptimes (): Promise<void> {
    if (this.refreshingUptimes !== undefined) return await this.refreshingUptimes
    const backend = this.backend
    if (backend === undefined) return
    const run = (async () => {
      const atMono = this.clock.monotonic()
      const now = this.clock.wall()
      const from = now - LONGEST_UPTIME_WINDOW_MS
      const [runs, before, since] = await Promise.all([backend.runsSince(from), backend.allStatusAt(from), backend.allTransitionsSince(from)])
      this.fleetUptimes = { atMono, byNode: computeFleetUptimes(now, this.observed(runs, now), before, since) }
    })().catch((err: unknown) => { this.log?.warn({ err: errorMessage(err) }, 'could not compute the fleet\'s uptimes; keeping the last ones') })
    this.refreshingUptimes = run
    try { await run } finally { this.refreshingUptimes = undefined }
  }

  /** When an aggregator was watching since `from`: stored runs (this one up to now), overlapping runs merged. */
  private observed (runs: readonly StoredRun[], now: number): Interval[] {
    const intervals = runs.map((r) => ({ start: r.start, end: r.id === this.runId ? now : r.end })).sort((a, b) => a.start - b.start)
    if (this.runId === undefined) intervals.push({ start: this.runStartedAt, end: now })
    return mergeIntervals(intervals)
  }

  /** The aggregators sharing the store (this one alone for SQLite). */
  aggregators (self: Omit<AggregatorView, 'id' | 'self' | 'state' | 'lastRenewal' | 'nodes' | 'alerting'>): AggregatorView[] {
    if (this.cluster !== undefined) return this.cluster.views()
    return [{ id: this.writerId.id, ...self, self: true, state: 'reporting', lastRenewal: null, nodes: this.fleet?.size ?? 0, alerting: true }]
  }

  /** The aggregator holding a node's connection (this one unless another of a shared store does). */
  holderOf (peerId: string): string {
    return this.cluster?.holderOf(peerId) ?? this.writerId.id
  }

  /** Pending rows, failures and the last flush, for /metrics. */
  get writeStats (): { pendingRows: number, failures: number, dropped: number, flushes: number, lastFlushAgeSeconds: number } {
    const p = this.writer.pending
    const stats = this.writer.stats
    return {
      pendingRows: p.nodes + p.samples + p.transitions,
      failures: stats.failures,
      dropped: stats.dropped,
      flushes: stats.flushes,
      lastFlushAgeSeconds: (this.clock.monotonic() - (stats.flushes > 0 ? this.writer.waiting.lastWrite : this.openedAtMono)) / 1000,
    }
  }

  /**
   * For the health registry: `ready` while writes land; `affected` while they
   * fail or wait (the fleet view still works from memory, nothing is lost
   * within the pending bound); `not_ready` once nothing could be written for
   * notReadyAfterMs, and while the store is not open; `shut_down` after close.
   */
  health (): ComponentHealth {
    const stats = this.writer.stats
    const pending = this.writer.pending
    const { writingSince, failingSince } = this.writer.waiting
    const mono = this.clock.monotonic()
    const details: Record<string, unknown> = {
      backend: this.kind,
      location: this.location,
      schemaVersion: this.backend?.schemaVersion ?? null,
      flushIntervalMs: this.settings.flushIntervalMs,
      retentionMs: this.settings.retentionMs,
      notReadyAfterMs: this.settings.notReadyAfterMs,
      lastFlushAt: stats.lastFlushAt === undefined ? null : new Date(stats.lastFlushAt).toISOString(),
      lastFlushMs: stats.lastFlushMs === undefined ? null : Math.round(stats.lastFlushMs * 10) / 10,
      pending: { ...pending, rows: pending.nodes + pending.samples + pending.transitions },
      failures: stats.failures,
      dropped: stats.dropped,
      lastError: this.openError ?? stats.lastError ?? null,
      lastPrune: this.lastPrune === undefined ? null : { ...this.lastPrune, at: new Date(this.lastPrune.at).toISOString() },
    }
    if (this.cluster !== undefined) details.cluster = this.cluster.summary()
    if (this.closed) return { status: 'shut_down', details }
    if (this.backend === undefined) {
      details.failingForMs = Math.round(mono - this.openedAtMono)
      return { status: 'not_ready', details }
    }
    if (failingSince !== undefined) {
      const failingFor = mono - failingSince
      details.failingForMs = Math.round(failingFor)
      return { status: failingFor > this.settings.notReadyAfterMs ? 'not_ready' : 'affected', details }
    }
    if (writingSince !== undefined && mono - writingSince > STORE_WAITING_INTERVALS * this.settings.flushIntervalMs) {
      const waitingFor = mono - writingSince
      details.waitingForMs = Math.round(waitingFor)
      return { status: waitingFor > this.settings.notReadyAfterMs ? 'not_ready' : 'affected', details }
    }
    return { status: 'ready', details }
  }

  /** Stops recording, writes what is pending, says goodbye to the other aggregators, and closes. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.unsubscribe?.()
    for (const t of this.timers) t.cancel()
    this.reopenTimer?.cancel()
    if (this.backend !== undefined) {
      try {
        await this.writer.stop()
      } finally {
        await this.cluster?.stop()
        await this.backend.close()
      }
    } else {
      await this.writer.stop().catch(() => {})
    }
  }

  private async query<T> (run: (backend: StoreBackend) => Promise<T>): Promise<T> {
    const backend = this.backend
    if (backend === undefined) throw new HeartbeatError(ErrorCodes.STORE_UNAVAILABLE, `the store is not open: ${this.openError ?? 'opening'}`)
    try {
      return await run(backend)
    } catch (err) {
      if (err instanceof HeartbeatError) throw err
      throw new HeartbeatError(ErrorCodes.STORE_UNAVAILABLE, `the store cannot answer: ${errorMessage(err)}`, { cause: err })
    }
  }
}

function computeFleetUptimes (now: number, observed: Interval[], statusAt: readonly StoredTransition[], since: readonly StoredTransition[]): Map<string, Uptime> {
  const before = new Map(statusAt.map((t) => [t.peerId, asStatus(t.to)]))
  const changes = new Map<string, StatusPoint[]>()
  for (const t of since) {
    const status = asStatus(t.to)
    if (status === undefined) continue
    let list = changes.get(t.peerId)
    if (list === undefined) changes.set(t.peerId, list = [])
    list.push({ at: t.at, status })
  }
  const byNode = new Map<string, Uptime>()
  for (const peerId of new Set([...before.keys(), ...changes.keys()])) {
    byNode.set(peerId, uptimeWindows({ now, before: before.get(peerId), changes: changes.get(peerId) ?? [], observed }))
  }
  return byNode
}

/** Sorted intervals, overlaps merged (runs of several aggregators overlap). */
function mergeIntervals (sorted: readonly Interval[]): Interval[] {
  const out: Interval[] = []
  for (const i of [...sorted].sort((a, b) => a.start - b.start)) {
    const last = out[out.length - 1]
    if (last !== undefined && i.start <= last.end) last.end = Math.max(last.end, i.end)
    else out.push({ ...i })
  }
  return out
}

function asStatus (text: string | undefined): NodeStatus | undefined {
  return (NODE_STATUSES as readonly string[]).includes(text ?? '') ? text as NodeStatus : undefined
}

function toPoints (changes: readonly StoredTransition[]): StatusPoint[] {
  const points: StatusPoint[] = []
  for (const c of changes) {
    const status = asStatus(c.to)
    if (status !== undefined) points.push({ at: c.at, status })
  }
  return points
}
