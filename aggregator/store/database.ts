import type { DatabaseSync } from 'node:sqlite'
import { inTransaction } from './sqlite.ts'
import type { HeightSample, StatusTransition } from './write-behind.ts'

/** One row of the roster, as stored. */
export interface RosterRow {
  peerId: string
  nickname: string
  firstSeen: number
  lastSeen: number
  /** The last heartbeat, JSON. */
  lastBeat: string
  /** The rest of the record, JSON. */
  extras: string
  status: string
  reason: string
  statusSince: number
}

export interface StoreBatch {
  nodes: RosterRow[]
  samples: HeightSample[]
  transitions: StatusTransition[]
  /** The run being written by, and the time of this write (the run's "still alive" mark). */
  runId: number
  aliveAt: number
}

export interface StoredTransition extends StatusTransition {
  id: number
}

export interface FleetTransition extends StoredTransition {
  nickname: string
}

/** A position in the newest-first event log: the last row of the previous page. */
export interface LogCursor {
  at: number
  id: number
}

export interface PruneResult {
  samples: number
  transitions: number
  runs: number
}

interface TransitionRow { id: number, peer_id: string, at: number, from_status: string | null, to_status: string, reason: string, nickname?: string | null }

const toTransition = (r: TransitionRow): StoredTransition => ({ id: r.id, peerId: r.peer_id, at: r.at, from: r.from_status, to: r.to_status, reason: r.reason })

/** Every statement of the store, prepared once. */
function prepareStatements (db: DatabaseSync) {
  return {
    upsertNode: db.prepare(`
      INSERT INTO nodes (peer_id, nickname, first_seen, last_seen, last_beat, extras, status, reason, status_since)
      VALUES (:peerId, :nickname, :firstSeen, :lastSeen, :lastBeat, :extras, :status, :reason, :statusSince)
      ON CONFLICT (peer_id) DO UPDATE SET
        nickname = excluded.nickname, last_seen = excluded.last_seen, last_beat = excluded.last_beat,
        extras = excluded.extras, status = excluded.status, reason = excluded.reason, status_since = excluded.status_since`),
    insertSample: db.prepare('INSERT INTO height_samples (peer_id, at, height, head) VALUES (?, ?, ?, ?)'),
    insertTransition: db.prepare('INSERT INTO status_changes (peer_id, at, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?)'),
    startRun: db.prepare('INSERT INTO runs (started_at, last_alive_at) VALUES (?, ?)'),
    markAlive: db.prepare('UPDATE runs SET last_alive_at = ? WHERE id = ?'),
    roster: db.prepare('SELECT peer_id AS peerId, nickname, first_seen AS firstSeen, last_seen AS lastSeen, last_beat AS lastBeat, extras, status, reason, status_since AS statusSince FROM nodes'),
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
  }
}

/**
 * The SQL of the store, and nothing else: every statement is prepared once;
 * writes come in one transaction per batch.
 */
export class StoreDatabase {
  readonly db: DatabaseSync
  private readonly sql: ReturnType<typeof prepareStatements>

  constructor (db: DatabaseSync) {
    this.db = db
    this.sql = prepareStatements(db)
  }

  startRun (now: number): number {
    return Number(this.sql.startRun.run(now, now).lastInsertRowid)
  }

  /** Everything in one transaction: a kill leaves all of it or none of it. */
  writeBatch (batch: StoreBatch): void {
    inTransaction(this.db, () => {
      const upsert = this.sql.upsertNode
      for (const row of batch.nodes) upsert.run({ ...row })
      const sample = this.sql.insertSample
      for (const s of batch.samples) sample.run(s.peerId, s.at, s.height, s.head)
      const transition = this.sql.insertTransition
      for (const t of batch.transitions) transition.run(t.peerId, t.at, t.from, t.to, t.reason)
      this.sql.markAlive.run(batch.aliveAt, batch.runId)
    })
  }

  roster (): RosterRow[] {
    return this.sql.roster.all() as unknown as RosterRow[]
  }

  hasNode (peerId: string): boolean {
    return this.sql.hasNode.get(peerId) !== undefined
  }

  /** Deletes one node's roster row and history in one transaction; true when it had a roster row. */
  forgetNode (peerId: string): boolean {
    return inTransaction(this.db, () => {
      this.sql.forgetSamples.run(peerId)
      this.sql.forgetTransitions.run(peerId)
      return Number(this.sql.forgetNode.run(peerId).changes) > 0
    })
  }

  prune (cutoff: number): PruneResult {
    return inTransaction(this.db, () => ({
      samples: Number(this.sql.pruneSamples.run(cutoff).changes),
      transitions: Number(this.sql.pruneTransitions.run({ cutoff }).changes),
      runs: Number(this.sql.pruneRuns.run(cutoff).changes),
    }))
  }

  /** Heights in [since, until], at most one per bucket (the bucket's last sample). */
  heights (peerId: string, since: number, until: number, bucketMs: number): Array<{ at: number, height: number, head: string }> {
    const rows = this.sql.heights.all(peerId, since, until, Math.max(1, Math.floor(bucketMs))) as unknown as Array<{ t: number, height: number, head: string }>
    return rows.map((r) => ({ at: r.t, height: r.height, head: r.head }))
  }

  /** The latest `limit` changes of one node in [since, until], oldest first; `more` when some were left out. */
  nodeTransitions (peerId: string, since: number, until: number, limit: number): { changes: StoredTransition[], more: boolean } {
    const rows = (this.sql.nodeTransitionsDesc.all(peerId, since, until, limit + 1) as unknown as TransitionRow[]).map(toTransition)
    const more = rows.length > limit
    return { changes: rows.slice(0, limit).reverse(), more }
  }

  /** Changes of one node after `from`, oldest first (for uptime). */
  nodeTransitionsSince (peerId: string, from: number): StoredTransition[] {
    return (this.sql.nodeTransitionsSince.all(peerId, from) as unknown as TransitionRow[]).map(toTransition)
  }

  /** The change in force at `at` for one node. */
  nodeStatusAt (peerId: string, at: number): StoredTransition | undefined {
    const row = this.sql.nodeStatusAt.get(peerId, at) as TransitionRow | undefined
    return row === undefined ? undefined : toTransition(row)
  }

  /** Every node's changes after `from`, grouped by node, oldest first within a node. */
  allTransitionsSince (from: number): StoredTransition[] {
    return (this.sql.allTransitionsSince.all(from) as unknown as TransitionRow[]).map(toTransition)
  }

  /** The change in force at `at`, for every node that had one by then. */
  allStatusAt (at: number): StoredTransition[] {
    return (this.sql.allStatusAt.all(at) as unknown as TransitionRow[]).map(toTransition)
  }

  /** A newest-first page of the fleet's event log. */
  fleetPage (since: number, until: number, limit: number, after: LogCursor | undefined): { changes: FleetTransition[], next: LogCursor | undefined } {
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

  /** Runs that were alive at or after `from`. */
  runsSince (from: number): Array<{ id: number, start: number, end: number }> {
    return this.sql.runsSince.all(from) as unknown as Array<{ id: number, start: number, end: number }>
  }

  close (): void {
    if (this.db.isOpen) this.db.close()
  }
}
