/**
 * The aggregator's memory: an embedded SQLite store (node:sqlite, WAL) in the
 * data dir that keeps the roster (every node ever seen, with its last
 * heartbeat and status), height samples and the status-change log, so a
 * restart brings the fleet back and history and uptime survive it.
 *
 * Ingest never waits for the disk: a FleetRecorder listens to the fleet and a
 * WriteBehind writes one transaction per flush interval. See docs/store.md.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type Clock, instantOf, type Timer } from '../../shared/clock.ts'
import type { ComponentHealth } from '../../shared/health.ts'
import type { Logger } from '../../shared/log.ts'
import { errorMessage } from '../../shared/errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { restoredRecord } from '../fleet/restore.ts'
import { NODE_STATUSES, type NodeRecord, type NodeStatus } from '../fleet/types.ts'
import {
  ALIVE_MARK_MS, DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_HEIGHT_SAMPLE_INTERVAL_MS, DEFAULT_HISTORY_RETENTION_MS,
  FLEET_UPTIME_CACHE_MS, MAX_HISTORY_HEIGHT_POINTS, MAX_HISTORY_STATUS_CHANGES, PRUNE_INTERVAL_MS, STORE_FILE,
} from './constants.ts'
import { StoreDatabase, type FleetTransition, type LogCursor, type PruneResult, type StoredTransition } from './database.ts'
import { migrate } from './migrations.ts'
import { FleetRecorder } from './recorder.ts'
import { decodeRosterRow } from './roster-codec.ts'
import { openDatabase } from './sqlite.ts'
import { LONGEST_UPTIME_WINDOW_MS, uptimeWindows, type Interval, type StatusPoint, type Uptime } from './uptime.ts'
import { WriteBehind } from './write-behind.ts'

export type { Uptime } from './uptime.ts'
export type { FleetTransition, LogCursor, StoredTransition } from './database.ts'

export interface StoreSettings {
  /** Write-behind interval: a kill loses at most this much. */
  flushIntervalMs: number
  /** History (samples, changes) older than this is pruned. */
  retentionMs: number
  /** At most one height sample per node per this interval. */
  sampleIntervalMs: number
}

export const DEFAULT_STORE_SETTINGS: StoreSettings = {
  flushIntervalMs: DEFAULT_FLUSH_INTERVAL_MS,
  retentionMs: DEFAULT_HISTORY_RETENTION_MS,
  sampleIntervalMs: DEFAULT_HEIGHT_SAMPLE_INTERVAL_MS,
}

export interface FleetStoreOptions extends Partial<StoreSettings> {
  /** The file; STORE_FILE inside the data dir by default. */
  file: string
  /** Timers (flush, prune) and the stamps of what is stored (wall clock). */
  clock: Clock
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

export function storeFile (dataDir: string): string {
  return join(dataDir, STORE_FILE)
}

export class FleetStore {
  readonly file: string
  readonly settings: StoreSettings
  readonly schemaVersion: number
  private readonly db: StoreDatabase
  private readonly clock: Clock
  private readonly log: Logger | undefined
  private readonly runId: number
  private readonly runStartedAt: number
  private readonly writer: WriteBehind
  private recorder: FleetRecorder | undefined
  private unsubscribe: (() => void) | undefined
  private pruneTimer: Timer | undefined
  private failing = false
  private closed = false
  /** `at`: monotonic (the cache's age is an interval). */
  private fleetUptimes: { at: number, byNode: Map<string, Uptime> } | undefined
  private lastPrune: (PruneResult & { at: number }) | undefined

  /** Opens (creating if needed) and migrates the store, and records the start of this run. */
  static async open (options: FleetStoreOptions): Promise<FleetStore> {
    await mkdir(join(options.file, '..'), { recursive: true, mode: 0o700 })
    const db = await openDatabase(options.file)
    try {
      const { to } = migrate(db)
      return new FleetStore(new StoreDatabase(db), to, options)
    } catch (err) {
      db.close()
      throw err
    }
  }

  private constructor (db: StoreDatabase, schemaVersion: number, options: FleetStoreOptions) {
    this.db = db
    this.schemaVersion = schemaVersion
    this.file = options.file
    this.settings = {
      flushIntervalMs: options.flushIntervalMs ?? DEFAULT_STORE_SETTINGS.flushIntervalMs,
      retentionMs: options.retentionMs ?? DEFAULT_STORE_SETTINGS.retentionMs,
      sampleIntervalMs: options.sampleIntervalMs ?? DEFAULT_STORE_SETTINGS.sampleIntervalMs,
    }
    this.clock = options.clock
    this.log = options.logger
    this.runStartedAt = this.clock.wall()
    this.runId = db.startRun(this.runStartedAt)
    this.writer = new WriteBehind({
      intervalMs: this.settings.flushIntervalMs,
      clock: this.clock,
      idleWriteMs: ALIVE_MARK_MS,
      write: (batch, now) => {
        const rows = this.recorder?.rowsFor(batch.nodes) ?? { rows: [], commit: () => {} }
        this.db.writeBatch({ nodes: rows.rows, samples: batch.samples, transitions: batch.transitions, runId: this.runId, aliveAt: now })
        rows.commit()
        if (this.failing) {
          this.failing = false
          this.log?.info({ file: this.file }, 'the store writes again')
        }
      },
      onError: (err) => {
        // One error line per failing streak, not one per second.
        if (!this.failing) this.log?.error({ err: errorMessage(err), file: this.file }, 'the store cannot write; keeping changes in memory and retrying')
        this.failing = true
      },
    })
  }

  /**
   * Brings back every node the store knows into `fleet` (as not heard from
   * since the restart), then records what the fleet does from now on.
   * Returns how many nodes came back.
   */
  attach (fleet: FleetState): { restored: number, skipped: number } {
    const recorder = new FleetRecorder({ fleet, pending: this.writer, sampleIntervalMs: this.settings.sampleIntervalMs })
    const records: NodeRecord[] = []
    const now = instantOf(this.clock)
    let skipped = 0
    for (const row of this.db.roster()) {
      const decoded = decodeRosterRow(row)
      if (decoded === undefined) { skipped++; continue }
      if (decoded.status !== undefined) recorder.seed(row.peerId, decoded.status, row.statusSince)
      records.push(restoredRecord(decoded.saved, now))
    }
    if (skipped > 0) this.log?.warn({ skipped, file: this.file }, 'some stored nodes could not be read and were left out')
    this.recorder = recorder
    this.unsubscribe = fleet.subscribe(recorder)
    const restored = fleet.restore(records, now)
    this.writer.start()
    this.prune()
    this.pruneTimer = this.clock.every(PRUNE_INTERVAL_MS, () => { this.prune() }, { unref: true })
    return { restored, skipped }
  }

  /** Writes what is pending now (tests, shutdown). */
  flush (): boolean {
    return this.writer.flush()
  }

  /** Deletes history older than the retention (keeping, per node, the change in force at the cutoff). */
  prune (): PruneResult {
    const at = this.clock.wall()
    try {
      const result = this.db.prune(at - this.settings.retentionMs)
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
   * samples and status changes, and whatever waits to be written about it.
   * Returns whether the store knew it.
   */
  forget (peerId: string): boolean {
    this.writer.forget(peerId)
    this.recorder?.forget(peerId)
    this.fleetUptimes?.byNode.delete(peerId)
    return this.db.forgetNode(peerId)
  }

  /** Whether the store has ever seen this node (written at least once). */
  knows (peerId: string): boolean {
    return this.db.hasNode(peerId)
  }

  nodeHistory (peerId: string, since: number, until: number): NodeHistory {
    // Buckets are aligned to multiples of their width, so a range spans at most (length / width) + 1 of them.
    const bucketMs = Math.max(this.settings.sampleIntervalMs, Math.ceil((until - since + 1) / (MAX_HISTORY_HEIGHT_POINTS - 1)))
    const { changes, more } = this.db.nodeTransitions(peerId, since, until, MAX_HISTORY_STATUS_CHANGES)
    return {
      heights: this.db.heights(peerId, since, until, bucketMs),
      bucketMs,
      statuses: changes,
      statusesTruncated: more,
      statusAtSince: this.db.nodeStatusAt(peerId, since - 1),
    }
  }

  fleetHistory (since: number, until: number, limit: number, after: LogCursor | undefined): { changes: FleetTransition[], next: LogCursor | undefined } {
    return this.db.fleetPage(since, until, limit, after)
  }

  /** One node's uptime, computed now from its changes. */
  uptime (peerId: string): Uptime {
    const now = this.clock.wall()
    const from = now - LONGEST_UPTIME_WINDOW_MS
    return uptimeWindows({
      now,
      before: asStatus(this.db.nodeStatusAt(peerId, from)?.to),
      changes: toPoints(this.db.nodeTransitionsSince(peerId, from)),
      observed: this.observed(from, now),
    })
  }

  /** Every node's uptime for the fleet list, recomputed in one pass at most every FLEET_UPTIME_CACHE_MS. */
  cachedUptime (peerId: string): Uptime | undefined {
    const at = this.clock.monotonic()
    if (this.fleetUptimes === undefined || at - this.fleetUptimes.at >= FLEET_UPTIME_CACHE_MS) {
      this.fleetUptimes = { at, byNode: this.computeFleetUptimes(this.clock.wall()) }
    }
    return this.fleetUptimes.byNode.get(peerId)
  }

  private computeFleetUptimes (now: number): Map<string, Uptime> {
    const from = now - LONGEST_UPTIME_WINDOW_MS
    const observed = this.observed(from, now)
    const before = new Map(this.db.allStatusAt(from).map((t) => [t.peerId, asStatus(t.to)]))
    const changes = new Map<string, StatusPoint[]>()
    for (const t of this.db.allTransitionsSince(from)) {
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

  /** When the aggregator was watching since `from`: stored runs, this one up to now. */
  private observed (from: number, now: number): Interval[] {
    return this.db.runsSince(from).map((r) => ({ start: r.start, end: r.id === this.runId ? now : r.end }))
  }

  /** For the health registry: ready while writes land, affected while they fail (the fleet view still works from memory). */
  health (): ComponentHealth {
    const stats = this.writer.stats
    const details = {
      file: this.file,
      schemaVersion: this.schemaVersion,
      flushIntervalMs: this.settings.flushIntervalMs,
      retentionMs: this.settings.retentionMs,
      lastFlushAt: stats.lastFlushAt === undefined ? null : new Date(stats.lastFlushAt).toISOString(),
      lastFlushMs: stats.lastFlushMs ?? null,
      pending: this.writer.pending,
      failures: stats.failures,
      dropped: stats.dropped,
      lastError: stats.lastError ?? null,
      lastPrune: this.lastPrune === undefined ? null : { ...this.lastPrune, at: new Date(this.lastPrune.at).toISOString() },
    }
    if (this.closed) return { status: 'shut_down', details }
    return { status: stats.lastError === undefined ? 'ready' : 'affected', details }
  }

  /** Stops recording, writes what is pending and closes the file. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.unsubscribe?.()
    this.pruneTimer?.cancel()
    this.writer.stop()
    this.db.close()
  }
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
