import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import { ErrorCodes, HeartbeatError, errorMessage } from '../../shared/errors.ts'
import type {
  AlertStateChange, FleetTransition, LogCursor, PruneResult, StoreBackend, StoreBatch, StoredAlert, StoredResolved,
  StoredRosterRow, StoredRun, StoredTransition, StoredWindow, WriteResult,
} from './backend.ts'
import { migrate } from './migrations.ts'
import { inTransaction, openDatabase } from './sqlite.ts'

interface TransitionRow { id: number, peer_id: string, at: number, from_status: string | null, to_status: string, reason: string, nickname?: string | null }

const toTransition = (r: TransitionRow): StoredTransition => ({ id: r.id, peerId: r.peer_id, at: r.at, from: r.from_status, to: r.to_status, reason: r.reason })

/** Every statement of the store, prepared once. */
function prepareStatements (db: DatabaseSync) {
  return {
    upsertNode: db.prepare(`
      INSERT INTO nodes (peer_id, nickname, first_seen, last_seen, last_beat, extras, status, reason, status_since, holder, connected)
      VALUES (:peerId, :nickname, :firstSeen, :lastSeen, :lastBeat, :extras, :status, :reason, :statusSince, :holder, :connected)
      ON CONFLICT (peer_id) DO UPDATE SET
        nickname = excluded.nickname, last_seen = excluded.last_seen, last_beat = excluded.last_beat,
        extras = excluded.extras, status = excluded.status, reason = excluded.reason, status_since = excluded.status_since,
        holder = excluded.holder, connected = excluded.connected`),
    insertSample: db.prepare('INSERT INTO height_samples (peer_id, at, height, head) VALUES (?, ?, ?, ?)'),
    insertTransition: db.prepare('INSERT INTO status_changes (peer_id, at, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?)'),
    startRun: db.prepare('INSERT INTO runs (aggregator, started_at, last_alive_at) VALUES (?, ?, ?)'),
    markAlive: db.prepare('UPDATE runs SET last_alive_at = ? WHERE id = ?'),
    roster: db.prepare(`SELECT peer_id AS peerId, nickname, first_seen AS firstSeen, last_seen AS lastSeen, last_beat AS lastBeat, extras, status, reason,
      status_since AS statusSince, holder, connected FROM nodes`),
    hasNode: db.prepare('SELECT 1 AS found FROM nodes WHERE peer_id = ?'),
    forgetNode: db.prepare('DELETE FROM nodes WHERE peer_id = ?'),
    forgetSamples: db.prepare('DELETE FROM height_samples WHERE peer_id = ?'),
    forgetTransitions: db.prepare('DELETE FROM status_changes WHERE peer_id = ?'),
    pruneSamples: db.prepare('DELETE FROM height_samples WHERE at < ?'),
    // The last change before the cutoff is kept per node: it says what the status was at the cutoff.
    pruneTransitions: db.prepare(`
      DELETE FROM status_changes WHERE at < :cutoff
        AND id NOT IN (SELECT MAX(id) FROM status_changes WHERE at < :cutoff GROUP BY peer_id)`),
    pruneRuns: db.prepare('DELETE FROM runs WHERE last_alive_at < ?'),
    // A window is kept until the retention after it would have run out (docs/store.md), as on PostgreSQL.
    pruneMaintenance: db.prepare('DELETE FROM maintenance WHERE until_at IS NOT NULL AND until_at < ?'),
    // One point per bucket: SQLite returns the other columns of the row holding MAX(at).
    heights: db.prepare(`
      SELECT MAX(at) AS t, height, head FROM height_samples
      WHERE peer_id = ? AND at >= ? AND at <= ? GROUP BY at / CAST(? AS INTEGER) ORDER BY t`),
    nodeTransitionsDesc: db.prepare(`
      SELECT id, peer_id, at, from_status, to_status, reason FROM status_changes
      WHERE peer_id = ? AND at >= ? AND at <= ? ORDER BY at DESC, id DESC LIMIT ?`),
    nodeTransitionsSince: db.prepare(`
      SELECT id, peer_id, at, from_status, to_status, reason FROM status_changes
      WHERE peer_id = ? AND at > ? ORDER BY at, id`),
    nodeStatusAt: db.prepare(`
      SELECT id, peer_id, at, from_status, to_status, reason FROM status_changes
      WHERE peer_id = ? AND at <= ? ORDER BY at DESC, id DESC LIMIT 1`),
    allTransitionsSince: db.prepare(`
      SELECT id, peer_id, at, from_status, to_status, reason FROM status_changes
      WHERE at > ? ORDER BY peer_id, at, id`),
    allStatusAt: db.prepare(`
      SELECT MAX(id) AS id, peer_id, at, from_status, to_status, reason FROM status_changes
      WHERE at <= ? GROUP BY peer_id`),
    fleetPage: db.prepare(`
      SELECT s.id, s.peer_id, s.at, s.from_status, s.to_status, s.reason, n.nickname
      FROM status_changes s LEFT JOIN nodes n ON n.peer_id = s.peer_id
      WHERE s.at >= :since AND s.at <= :until AND (s.at < :afterAt OR (s.at = :afterAt AND s.id < :afterId))
      ORDER BY s.at DESC, s.id DESC LIMIT :limit`),
    runsSince: db.prepare('SELECT id, started_at AS start, last_alive_at AS end FROM runs WHERE last_alive_at >= ? ORDER BY started_at'),
    alerts: db.prepare('SELECT id, body FROM alert_state ORDER BY id'),
    resolved: db.prepare('SELECT id, resolved_at AS at, body FROM alerts_resolved ORDER BY resolved_at'),
    upsertAlert: db.prepare('INSERT INTO alert_state (id, body, updated_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at'),
    deleteAlert: db.prepare('DELETE FROM alert_state WHERE id = ?'),
    insertResolved: db.prepare('INSERT INTO alerts_resolved (id, resolved_at, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    pruneResolved: db.prepare(`DELETE FROM alerts_resolved WHERE rowid NOT IN (SELECT rowid FROM alerts_resolved ORDER BY resolved_at DESC LIMIT ?)`),
    windows: db.prepare('SELECT scope, until_at, reason, since, set_at, ended FROM maintenance'),
    upsertWindow: db.prepare(`
      INSERT INTO maintenance (scope, until_at, reason, since, set_at, ended) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (scope) DO UPDATE SET until_at = excluded.until_at, reason = excluded.reason, since = excluded.since,
        set_at = excluded.set_at, ended = excluded.ended
      WHERE excluded.set_at >= maintenance.set_at`),
  }
}

/** SQLite errors that come from the machine, not the file: they pass (space freed, lock let go), so the store retries. */
const TRANSIENT_SQLITE_CODES = new Set([
  5, // SQLITE_BUSY: another program holds a lock
  6, // SQLITE_LOCKED
  8, // SQLITE_READONLY: a read-only mount, a file we may not write
  10, // SQLITE_IOERR
  13, // SQLITE_FULL: the disk is full
  14, // SQLITE_CANTOPEN: the directory cannot be written
])
const TRANSIENT_FS_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'EBUSY'])

/** Whether a failure to open or write the SQLite store may pass by itself (retry) rather than be a bad file (stop). */
export function isTransientSqliteError (err: unknown): boolean {
  for (let e: unknown = err; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    const { errcode, code } = e as { errcode?: unknown, code?: unknown }
    if (typeof errcode === 'number' && TRANSIENT_SQLITE_CODES.has(errcode & 0xff)) return true
    if (typeof code === 'string' && TRANSIENT_FS_CODES.has(code)) return true
    if (typeof e !== 'object') break
  }
  return false
}

/**
 * The SQLite backend: the file in the data dir, one aggregator. node:sqlite
 * is synchronous, so every call runs to completion inside and resolves at
 * once; statements are prepared once, writes come in one transaction per
 * batch.
 */
export class SqliteBackend implements StoreBackend {
  readonly kind = 'sqlite' as const
  readonly location: string
  readonly schemaVersion: number
  readonly cluster = undefined
  readonly db: DatabaseSync
  private readonly sql: ReturnType<typeof prepareStatements>

  /** Opens (creating if needed) and migrates the file. */
  static async open (file: string): Promise<SqliteBackend> {
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 })
    } catch (err) {
      throw new HeartbeatError(ErrorCodes.STORE_FAILED, `cannot open the store ${file}: ${errorMessage(err)}`, { cause: err })
    }
    const db = await openDatabase(file)
    try {
      const { to } = migrate(db)
      return new SqliteBackend(db, file, to)
    } catch (err) {
      db.close()
      if (err instanceof HeartbeatError) throw err
      throw new HeartbeatError(ErrorCodes.STORE_FAILED, `cannot prepare the store ${file}: ${errorMessage(err)}`, { cause: err })
    }
  }

  private constructor (db: DatabaseSync, file: string, schemaVersion: number) {
    this.db = db
    this.location = file
    this.schemaVersion = schemaVersion
    this.sql = prepareStatements(db)
  }

  async writeBatch (batch: StoreBatch): Promise<WriteResult> {
    return inTransaction(this.db, () => {
      let runId = batch.run.id
      if (runId === undefined) runId = Number(this.sql.startRun.run(batch.writer.id, batch.run.startedAt, batch.run.aliveAt).lastInsertRowid)
      else this.sql.markAlive.run(batch.run.aliveAt, runId)
      const upsert = this.sql.upsertNode
      for (const row of batch.nodes) upsert.run({ ...row, connected: row.connected ? 1 : 0 })
      const sample = this.sql.insertSample
      for (const s of batch.samples) sample.run(s.peerId, s.at, s.height, s.head)
      const transition = this.sql.insertTransition
      for (const t of batch.transitions) transition.run(t.peerId, t.at, t.from, t.to, t.reason)
      // One aggregator per file: nobody else can hold a node.
      return { runId, refused: [] }
    })
  }

  async roster (): Promise<StoredRosterRow[]> {
    return (this.sql.roster.all() as unknown as Array<Omit<StoredRosterRow, 'connected' | 'writer' | 'writeSeq'> & { connected: number }>)
      .map((r) => ({ ...r, connected: r.connected === 1, writer: '', writeSeq: 0 }))
  }

  async hasNode (peerId: string): Promise<boolean> {
    return this.sql.hasNode.get(peerId) !== undefined
  }

  async forgetNode (peerId: string): Promise<boolean> {
    return inTransaction(this.db, () => {
      this.sql.forgetSamples.run(peerId)
      this.sql.forgetTransitions.run(peerId)
      return Number(this.sql.forgetNode.run(peerId).changes) > 0
    })
  }

  async prune (cutoff: number): Promise<PruneResult> {
    return inTransaction(this.db, () => {
      this.sql.pruneMaintenance.run(cutoff)
      return {
        samples: Number(this.sql.pruneSamples.run(cutoff).changes),
        transitions: Number(this.sql.pruneTransitions.run({ cutoff }).changes),
        runs: Number(this.sql.pruneRuns.run(cutoff).changes),
      }
    })
  }

  async heights (peerId: string, since: number, until: number, bucketMs: number): Promise<Array<{ at: number, height: number, head: string }>> {
    const rows = this.sql.heights.all(peerId, since, until, Math.max(1, Math.floor(bucketMs))) as unknown as Array<{ t: number, height: number, head: string }>
    return rows.map((r) => ({ at: r.t, height: r.height, head: r.head }))
  }

  async nodeTransitions (peerId: string, since: number, until: number, limit: number): Promise<{ changes: StoredTransition[], more: boolean }> {
    const rows = (this.sql.nodeTransitionsDesc.all(peerId, since, until, limit + 1) as unknown as TransitionRow[]).map(toTransition)
    const more = rows.length > limit
    return { changes: rows.slice(0, limit).reverse(), more }
  }

  async nodeTransitionsSince (peerId: string, from: number): Promise<StoredTransition[]> {
    return (this.sql.nodeTransitionsSince.all(peerId, from) as unknown as TransitionRow[]).map(toTransition)
  }

  async nodeStatusAt (peerId: string, at: number): Promise<StoredTransition | undefined> {
    const row = this.sql.nodeStatusAt.get(peerId, at) as TransitionRow | undefined
    return row === undefined ? undefined : toTransition(row)
  }

  async allTransitionsSince (from: number): Promise<StoredTransition[]> {
    return (this.sql.allTransitionsSince.all(from) as unknown as TransitionRow[]).map(toTransition)
  }

  async allStatusAt (at: number): Promise<StoredTransition[]> {
    return (this.sql.allStatusAt.all(at) as unknown as TransitionRow[]).map(toTransition)
  }

  async fleetPage (since: number, until: number, limit: number, after: LogCursor | undefined): Promise<{ changes: FleetTransition[], next: LogCursor | undefined }> {
    const rows = this.sql.fleetPage.all({
      since,
      until,
      afterAt: after?.at ?? Number.MAX_SAFE_INTEGER,
      afterId: after?.id ?? Number.MAX_SAFE_INTEGER,
      limit: limit + 1,
    }) as unknown as TransitionRow[]
    const changes = rows.slice(0, limit).map((r) => ({ ...toTransition(r), nickname: r.nickname ?? '' }))
    const last = changes[changes.length - 1]
    return { changes, next: rows.length > limit && last !== undefined ? { at: last.at, id: last.id } : undefined }
  }

  async runsSince (from: number): Promise<StoredRun[]> {
    return this.sql.runsSince.all(from) as unknown as StoredRun[]
  }

  async loadAlerts (): Promise<{ alerts: StoredAlert[], resolved: StoredResolved[] }> {
    return {
      alerts: this.sql.alerts.all() as unknown as StoredAlert[],
      resolved: this.sql.resolved.all() as unknown as StoredResolved[],
    }
  }

  // One aggregator per file: there is no lease to fence with.
  async saveAlerts (change: AlertStateChange, _fence: unknown): Promise<void> {
    inTransaction(this.db, () => {
      for (const a of change.upserts) this.sql.upsertAlert.run(a.id, a.body, change.at)
      for (const id of change.deletes) this.sql.deleteAlert.run(id)
      for (const r of change.resolved) this.sql.insertResolved.run(r.id, r.at, r.body)
      if (change.resolved.length > 0) this.sql.pruneResolved.run(change.keepResolved)
    })
  }

  async loadMaintenance (): Promise<StoredWindow[]> {
    const rows = this.sql.windows.all() as unknown as Array<{ scope: string, until_at: number | null, reason: string, since: number | null, set_at: number, ended: number }>
    return rows.map((r) => ({ scope: r.scope, until: r.until_at ?? undefined, reason: r.reason, since: r.since ?? undefined, setAt: r.set_at, ended: r.ended === 1 }))
  }

  async saveMaintenance (windows: StoredWindow[]): Promise<void> {
    inTransaction(this.db, () => {
      for (const w of windows) this.sql.upsertWindow.run(w.scope, w.until ?? null, w.reason, w.since ?? null, w.setAt, w.ended ? 1 : 0)
    })
  }

  async close (): Promise<void> {
    if (this.db.isOpen) this.db.close()
  }
}
