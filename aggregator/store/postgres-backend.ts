import pg from 'pg'
import { ErrorCodes, HeartbeatError, UsageError, errorMessage } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type {
  AlertStateChange, ClusterBackend, FleetTransition, LeaseFence, LeaseState, LogCursor, MemberInfo, MemberRow, MembersSnapshot,
  PruneResult, RosterCursor, StoreBackend, StoreBatch, StoredAlert, StoredResolved, StoredRosterRow, StoredRun, StoredTransition,
  StoredWindow, Writer, WriteResult,
} from './backend.ts'
import {
  POSTGRES_APPLICATION_NAME, POSTGRES_BATCH_ROWS, POSTGRES_CONNECT_TIMEOUT_MS, POSTGRES_POOL_SIZE, POSTGRES_QUERY_TIMEOUT_MS,
  TAKEOVER_AFTER_MS,
} from './constants.ts'
import { DB_NOW_MS, migratePostgres } from './postgres-migrations.ts'

const INT8_OID = 20
/** bigint columns come back as numbers: every one of ours (ms times, counts, ids) is far below 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
}

const ROSTER_COLUMNS = `peer_id AS "peerId", nickname, first_seen AS "firstSeen", last_seen AS "lastSeen", last_beat AS "lastBeat", extras, status, reason,
  status_since AS "statusSince", holder, connected, writer, write_seq AS "writeSeq", written_at AS "writtenAt"`
const TRANSITION_COLUMNS = 'id, peer_id, at, from_status, to_status, reason'

interface TransitionRow { id: number, peer_id: string, at: number, from_status: string | null, to_status: string, reason: string, nickname?: string | null }
const toTransition = (r: TransitionRow): StoredTransition => ({ id: r.id, peerId: r.peer_id, at: r.at, from: r.from_status, to: r.to_status, reason: r.reason })

/**
 * A row another aggregator holds is replaced only by its holder, or by an
 * aggregator that has the node connected while the holder has not (it lost
 * the connection) or is gone (its lease row not renewed for
 * TAKEOVER_AFTER_MS, a clean stop, a restart): the newer holder wins, and an
 * old holder's disconnect never overwrites a node another aggregator holds.
 */
const UPSERT_NODES = `
  INSERT INTO nodes AS n (peer_id, nickname, first_seen, last_seen, last_beat, extras, status, reason, status_since, holder, connected, writer, write_seq, written_at)
  SELECT r.peer_id, r.nickname, r.first_seen, r.last_seen, r.last_beat, r.extras, r.status, r.reason, r.status_since, $11, r.connected, $12, $13, ${DB_NOW_MS}
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::boolean[])
    AS r(peer_id, nickname, first_seen, last_seen, last_beat, extras, status, reason, status_since, connected)
  ON CONFLICT (peer_id) DO UPDATE SET
    nickname = excluded.nickname, first_seen = LEAST(n.first_seen, excluded.first_seen), last_seen = excluded.last_seen,
    last_beat = excluded.last_beat, extras = excluded.extras, status = excluded.status, reason = excluded.reason,
    status_since = excluded.status_since, holder = excluded.holder, connected = excluded.connected,
    writer = excluded.writer, write_seq = excluded.write_seq, written_at = excluded.written_at
  WHERE n.holder = excluded.holder
     OR (excluded.connected AND (NOT n.connected OR NOT EXISTS (
          SELECT 1 FROM aggregators a
          WHERE a.id = n.holder AND a.run_id = n.writer AND a.stopped_at IS NULL AND a.renewed_at >= ${DB_NOW_MS} - $14)))
  RETURNING n.peer_id`

// Samples and changes of a node are its holder's to log.
const INSERT_SAMPLES = `
  INSERT INTO height_samples (peer_id, at, height, head)
  SELECT r.peer_id, r.at, r.height, r.head FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS r(peer_id, at, height, head)
  WHERE EXISTS (SELECT 1 FROM nodes n WHERE n.peer_id = r.peer_id AND n.holder = $5)
  ON CONFLICT DO NOTHING`

const INSERT_TRANSITIONS = `
  INSERT INTO status_changes (peer_id, at, from_status, to_status, reason)
  SELECT r.peer_id, r.at, r.from_status, r.to_status, r.reason
  FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS r(peer_id, at, from_status, to_status, reason, ord)
  WHERE EXISTS (SELECT 1 FROM nodes n WHERE n.peer_id = r.peer_id AND n.holder = $6)
  ORDER BY r.ord`

const ACQUIRE_LEASE = `
  INSERT INTO leases AS l (name, holder, run_id, term, acquired_at, expires_at)
  VALUES ($1, $2, $3, 1, ${DB_NOW_MS}, ${DB_NOW_MS} + $4)
  ON CONFLICT (name) DO UPDATE SET
    holder = excluded.holder, run_id = excluded.run_id,
    term = CASE WHEN l.holder = excluded.holder AND l.run_id = excluded.run_id THEN l.term ELSE l.term + 1 END,
    acquired_at = CASE WHEN l.holder = excluded.holder AND l.run_id = excluded.run_id THEN l.acquired_at ELSE excluded.acquired_at END,
    expires_at = excluded.expires_at
  WHERE (l.holder = excluded.holder AND l.run_id = excluded.run_id) OR l.expires_at < excluded.acquired_at
  RETURNING holder, run_id, term, acquired_at, expires_at, ${DB_NOW_MS} AS now`

function chunks<T> (items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export interface PostgresOpenOptions {
  /** The connection string (secrets and all); never logged. */
  url: string
  /** The URL without secrets, for messages. */
  location: string
  logger?: Logger
}

/**
 * The shared store on PostgreSQL (15+, and YugabyteDB's YSQL), through
 * node-postgres: a small pool, every query bounded by a timeout, a batch in
 * one transaction whose arrays are bound as parameters (one statement per
 * table, not one per row).
 */
export class PostgresBackend implements StoreBackend, ClusterBackend {
  readonly kind = 'postgres' as const
  readonly location: string
  readonly schemaVersion: number
  readonly cluster: ClusterBackend = this
  private readonly pool: pg.Pool

  /**
   * Connects, checks the server answers, and brings the schema forward. A bad
   * URL, a server that cannot be reached, a refused login or a failed
   * migration is a UsageError naming the store without its secrets (exit 2).
   */
  static async open (options: PostgresOpenOptions): Promise<PostgresBackend> {
    let pool: pg.Pool
    try {
      pool = new pg.Pool({
        connectionString: options.url,
        max: POSTGRES_POOL_SIZE,
        connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
        query_timeout: POSTGRES_QUERY_TIMEOUT_MS,
        idleTimeoutMillis: 30_000,
        application_name: POSTGRES_APPLICATION_NAME,
        types: TYPES,
      })
    } catch (err) {
      throw new UsageError(ErrorCodes.STORE_FAILED, `invalid --store ${options.location}: ${errorMessage(err)}`)
    }
    // An idle connection the server closed (a restart, a failover) must not take the process down: the next query reconnects.
    let warned = false
    pool.on('error', (err) => {
      if (!warned) options.logger?.warn({ err: errorMessage(err), store: options.location }, 'a connection to the shared store was lost; reconnecting on the next query')
      warned = true
    })
    pool.on('connect', () => { warned = false })
    try {
      await pool.query('SELECT 1')
    } catch (err) {
      await pool.end().catch(() => {})
      throw new UsageError(ErrorCodes.STORE_FAILED, `cannot reach the shared store ${options.location}: ${errorMessage(err)}`, { cause: err })
    }
    try {
      const { to } = await migratePostgres(pool)
      return new PostgresBackend(pool, options.location, to)
    } catch (err) {
      await pool.end().catch(() => {})
      throw err
    }
  }

  private constructor (pool: pg.Pool, location: string, schemaVersion: number) {
    this.pool = pool
    this.location = location
    this.schemaVersion = schemaVersion
  }

  /** Runs `work` in one transaction on one connection; a broken connection is dropped rather than reused. */
  private async tx<T> (work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let broken = false
    try {
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (err) {
      // A server's answer (an SQLSTATE) leaves the connection usable; anything else may have broken it.
      broken = !(err instanceof HeartbeatError) && !/^[0-9A-Z]{5}$/.test(String((err as { code?: unknown }).code))
      await client.query('ROLLBACK').catch(() => { broken = true })
      throw err
    } finally {
      client.release(broken)
    }
  }

  async writeBatch (batch: StoreBatch): Promise<WriteResult> {
    const holder = batch.writer.id
    return await this.tx(async (c) => {
      let runId = batch.run.id
      if (runId === undefined) {
        runId = (await c.query<{ id: number }>('INSERT INTO runs (aggregator, started_at, last_alive_at) VALUES ($1, $2, $3) RETURNING id', [holder, batch.run.startedAt, batch.run.aliveAt])).rows[0]?.id
        if (runId === undefined) throw new HeartbeatError(ErrorCodes.STORE_FAILED, 'the store did not number the new run')
      } else {
        await c.query('UPDATE runs SET last_alive_at = $1 WHERE id = $2', [batch.run.aliveAt, runId])
      }
      const applied = new Set<string>()
      for (const rows of chunks(batch.nodes, POSTGRES_BATCH_ROWS)) {
        const result = await c.query<{ peer_id: string }>(UPSERT_NODES, [
          rows.map((r) => r.peerId), rows.map((r) => r.nickname), rows.map((r) => r.firstSeen), rows.map((r) => r.lastSeen),
          rows.map((r) => r.lastBeat), rows.map((r) => r.extras), rows.map((r) => r.status), rows.map((r) => r.reason),
          rows.map((r) => r.statusSince), rows.map((r) => r.connected), holder, batch.writer.runId, batch.writeSeq, TAKEOVER_AFTER_MS,
        ])
        for (const r of result.rows) applied.add(r.peer_id)
      }
      for (const rows of chunks(batch.samples, POSTGRES_BATCH_ROWS)) {
        await c.query(INSERT_SAMPLES, [rows.map((s) => s.peerId), rows.map((s) => s.at), rows.map((s) => s.height), rows.map((s) => s.head), holder])
      }
      for (const rows of chunks(batch.transitions, POSTGRES_BATCH_ROWS)) {
        await c.query(INSERT_TRANSITIONS, [rows.map((t) => t.peerId), rows.map((t) => t.at), rows.map((t) => t.from), rows.map((t) => t.to), rows.map((t) => t.reason), holder])
      }
      return { runId, refused: batch.nodes.filter((r) => !applied.has(r.peerId)).map((r) => r.peerId) }
    })
  }

  async roster (): Promise<StoredRosterRow[]> {
    return (await this.pool.query<StoredRosterRow>(`SELECT ${ROSTER_COLUMNS} FROM nodes`)).rows
  }

  async rosterSince (writer: string, after: RosterCursor, limit: number): Promise<StoredRosterRow[]> {
    return (await this.pool.query<StoredRosterRow>(`
      SELECT ${ROSTER_COLUMNS} FROM nodes
      WHERE writer = $1 AND (write_seq > $2 OR (write_seq = $2 AND peer_id > $3))
      ORDER BY write_seq, peer_id LIMIT $4`, [writer, after.writeSeq, after.peerId, limit])).rows
  }

  async hasNode (peerId: string): Promise<boolean> {
    return (await this.pool.query('SELECT 1 FROM nodes WHERE peer_id = $1', [peerId])).rowCount === 1
  }

  async forgetNode (peerId: string): Promise<boolean> {
    return await this.tx(async (c) => {
      await c.query('DELETE FROM height_samples WHERE peer_id = $1', [peerId])
      await c.query('DELETE FROM status_changes WHERE peer_id = $1', [peerId])
      return (await c.query('DELETE FROM nodes WHERE peer_id = $1', [peerId])).rowCount === 1
    })
  }

  async prune (cutoff: number): Promise<PruneResult> {
    return await this.tx(async (c) => {
      const samples = (await c.query('DELETE FROM height_samples WHERE at < $1', [cutoff])).rowCount ?? 0
      // The last change before the cutoff is kept per node: it says what the status was at the cutoff.
      const transitions = (await c.query(`
        DELETE FROM status_changes WHERE at < $1 AND id NOT IN (
          SELECT DISTINCT ON (peer_id) id FROM status_changes WHERE at < $1 ORDER BY peer_id, at DESC, id DESC)`, [cutoff])).rowCount ?? 0
      const runs = (await c.query('DELETE FROM runs WHERE last_alive_at < $1', [cutoff])).rowCount ?? 0
      await c.query('DELETE FROM maintenance WHERE until_at IS NOT NULL AND until_at < $1', [cutoff])
      return { samples, transitions, runs }
    })
  }

  async heights (peerId: string, since: number, until: number, bucketMs: number): Promise<Array<{ at: number, height: number, head: string }>> {
    const rows = (await this.pool.query<{ at: number, height: number, head: string }>(`
      SELECT at, height, head FROM (
        SELECT DISTINCT ON (at / $4::bigint) at, height, head FROM height_samples
        WHERE peer_id = $1 AND at >= $2 AND at <= $3 ORDER BY at / $4::bigint, at DESC) b
      ORDER BY at`, [peerId, since, until, Math.max(1, Math.floor(bucketMs))])).rows
    return rows
  }

  async nodeTransitions (peerId: string, since: number, until: number, limit: number): Promise<{ changes: StoredTransition[], more: boolean }> {
    const rows = (await this.pool.query<TransitionRow>(`
      SELECT ${TRANSITION_COLUMNS} FROM status_changes WHERE peer_id = $1 AND at >= $2 AND at <= $3 ORDER BY at DESC, id DESC LIMIT $4`,
    [peerId, since, until, limit + 1])).rows.map(toTransition)
    return { changes: rows.slice(0, limit).reverse(), more: rows.length > limit }
  }

  async nodeTransitionsSince (peerId: string, from: number): Promise<StoredTransition[]> {
    return (await this.pool.query<TransitionRow>(`SELECT ${TRANSITION_COLUMNS} FROM status_changes WHERE peer_id = $1 AND at > $2 ORDER BY at, id`, [peerId, from])).rows.map(toTransition)
  }

  async nodeStatusAt (peerId: string, at: number): Promise<StoredTransition | undefined> {
    const row = (await this.pool.query<TransitionRow>(`SELECT ${TRANSITION_COLUMNS} FROM status_changes WHERE peer_id = $1 AND at <= $2 ORDER BY at DESC, id DESC LIMIT 1`, [peerId, at])).rows[0]
    return row === undefined ? undefined : toTransition(row)
  }

  async allTransitionsSince (from: number): Promise<StoredTransition[]> {
    return (await this.pool.query<TransitionRow>(`SELECT ${TRANSITION_COLUMNS} FROM status_changes WHERE at > $1 ORDER BY peer_id, at, id`, [from])).rows.map(toTransition)
  }

  async allStatusAt (at: number): Promise<StoredTransition[]> {
    return (await this.pool.query<TransitionRow>(`
      SELECT DISTINCT ON (peer_id) ${TRANSITION_COLUMNS} FROM status_changes WHERE at <= $1 ORDER BY peer_id, at DESC, id DESC`, [at])).rows.map(toTransition)
  }

  async fleetPage (since: number, until: number, limit: number, after: LogCursor | undefined): Promise<{ changes: FleetTransition[], next: LogCursor | undefined }> {
    const rows = (await this.pool.query<TransitionRow>(`
      SELECT s.id, s.peer_id, s.at, s.from_status, s.to_status, s.reason, n.nickname
      FROM status_changes s LEFT JOIN nodes n ON n.peer_id = s.peer_id
      WHERE s.at >= $1 AND s.at <= $2 AND (s.at < $3 OR (s.at = $3 AND s.id < $4))
      ORDER BY s.at DESC, s.id DESC LIMIT $5`,
    [since, until, after?.at ?? Number.MAX_SAFE_INTEGER, after?.id ?? Number.MAX_SAFE_INTEGER, limit + 1])).rows
    const changes = rows.slice(0, limit).map((r) => ({ ...toTransition(r), nickname: r.nickname ?? '' }))
    const last = changes[changes.length - 1]
    return { changes, next: rows.length > limit && last !== undefined ? { at: last.at, id: last.id } : undefined }
  }

  async runsSince (from: number): Promise<StoredRun[]> {
    return (await this.pool.query<StoredRun>('SELECT id, started_at AS start, last_alive_at AS end FROM runs WHERE last_alive_at >= $1 ORDER BY started_at', [from])).rows
  }

  async loadAlerts (): Promise<{ alerts: StoredAlert[], resolved: StoredResolved[] }> {
    const [alerts, resolved] = await Promise.all([
      this.pool.query<StoredAlert>('SELECT id, body FROM alert_state ORDER BY id'),
      this.pool.query<StoredResolved>('SELECT id, resolved_at AS at, body FROM alerts_resolved ORDER BY resolved_at'),
    ])
    return { alerts: alerts.rows, resolved: resolved.rows }
  }

  async saveAlerts (change: AlertStateChange, fence: LeaseFence | undefined): Promise<void> {
    await this.tx(async (c) => {
      if (fence !== undefined) {
        // The lease row stays locked until commit: nobody can take the lease half way through this save.
        const held = await c.query(`SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND run_id = $3 AND expires_at > ${DB_NOW_MS} FOR UPDATE`,
          [fence.lease, fence.holder.id, fence.holder.runId])
        if (held.rowCount !== 1) throw new HeartbeatError(ErrorCodes.LEASE_LOST, `the ${fence.lease} lease is no longer held by this aggregator`)
      }
      if (change.upserts.length > 0) {
        await c.query(`
          INSERT INTO alert_state (id, body, updated_at) SELECT r.id, r.body, $3 FROM unnest($1::text[], $2::text[]) AS r(id, body)
          ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
        [change.upserts.map((a) => a.id), change.upserts.map((a) => a.body), change.at])
      }
      if (change.deletes.length > 0) await c.query('DELETE FROM alert_state WHERE id = ANY($1::text[])', [change.deletes])
      if (change.resolved.length > 0) {
        await c.query(`
          INSERT INTO alerts_resolved (id, resolved_at, body) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
          ON CONFLICT DO NOTHING`, [change.resolved.map((r) => r.id), change.resolved.map((r) => r.at), change.resolved.map((r) => r.body)])
        await c.query(`
          DELETE FROM alerts_resolved WHERE (id, resolved_at) NOT IN (
            SELECT id, resolved_at FROM alerts_resolved ORDER BY resolved_at DESC LIMIT $1)`, [change.keepResolved])
      }
    })
  }

  async loadMaintenance (): Promise<StoredWindow[]> {
    const rows = (await this.pool.query<{ scope: string, until_at: number | null, reason: string, since: number | null, set_at: number, ended: boolean }>(
      'SELECT scope, until_at, reason, since, set_at, ended FROM maintenance')).rows
    return rows.map((r) => ({ scope: r.scope, until: r.until_at ?? undefined, reason: r.reason, since: r.since ?? undefined, setAt: r.set_at, ended: r.ended }))
  }

  async saveMaintenance (windows: StoredWindow[]): Promise<void> {
    if (windows.length === 0) return
    await this.pool.query(`
      INSERT INTO maintenance AS m (scope, until_at, reason, since, set_at, ended)
      SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::boolean[])
      ON CONFLICT (scope) DO UPDATE SET until_at = excluded.until_at, reason = excluded.reason, since = excluded.since,
        set_at = excluded.set_at, ended = excluded.ended
      WHERE excluded.set_at >= m.set_at`,
    [windows.map((w) => w.scope), windows.map((w) => w.until ?? null), windows.map((w) => w.reason), windows.map((w) => w.since ?? null),
      windows.map((w) => w.setAt), windows.map((w) => w.ended)])
  }

  async renewMember (member: MemberInfo): Promise<MembersSnapshot> {
    await this.pool.query(`
      INSERT INTO aggregators AS a (id, run_id, peer_id, multiaddrs, version, http_url, started_at, renewed_at, stopped_at)
      VALUES ($1, $2, $3, $4, $5, $6, ${DB_NOW_MS}, ${DB_NOW_MS}, NULL)
      ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, peer_id = excluded.peer_id, multiaddrs = excluded.multiaddrs, version = excluded.version,
        http_url = excluded.http_url, renewed_at = excluded.renewed_at, stopped_at = NULL,
        started_at = CASE WHEN a.run_id = excluded.run_id THEN a.started_at ELSE excluded.started_at END`,
    // started_at: the database's clock at the run's first renewal (its start), so every aggregator judges a holder's age on one clock.
    [member.id, member.runId, member.peerId, JSON.stringify(member.multiaddrs), member.version, member.httpUrl])
    const result = await this.pool.query<{ id: string, run_id: string, peer_id: string, multiaddrs: string, version: string, http_url: string, started_at: number, renewed_at: number, stopped_at: number | null, now: number }>(
      `SELECT id, run_id, peer_id, multiaddrs, version, http_url, started_at, renewed_at, stopped_at, ${DB_NOW_MS} AS now FROM aggregators`)
    const members: MemberRow[] = result.rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      peerId: r.peer_id,
      multiaddrs: parseAddrs(r.multiaddrs),
      version: r.version,
      httpUrl: r.http_url,
      startedAt: r.started_at,
      renewedAt: r.renewed_at,
      stoppedAt: r.stopped_at ?? undefined,
    }))
    const now = result.rows[0]?.now ?? Number((await this.pool.query<{ now: number }>(`SELECT ${DB_NOW_MS} AS now`)).rows[0]?.now)
    return { now, members }
  }

  async stopMember (member: Writer): Promise<void> {
    await this.pool.query(`UPDATE aggregators SET stopped_at = ${DB_NOW_MS} WHERE id = $1 AND run_id = $2`, [member.id, member.runId])
  }

  async acquireLease (name: string, holder: Writer, ttlMs: number): Promise<LeaseState> {
    const taken = (await this.pool.query<{ holder: string, run_id: string, term: number, acquired_at: number, expires_at: number, now: number }>(
      ACQUIRE_LEASE, [name, holder.id, holder.runId, Math.round(ttlMs)])).rows[0]
    if (taken !== undefined) return { held: true, holder: taken.holder, runId: taken.run_id, term: taken.term, acquiredAt: taken.acquired_at, expiresAt: taken.expires_at, now: taken.now }
    const other = (await this.pool.query<{ holder: string, run_id: string, term: number, acquired_at: number, expires_at: number, now: number }>(
      `SELECT holder, run_id, term, acquired_at, expires_at, ${DB_NOW_MS} AS now FROM leases WHERE name = $1`, [name])).rows[0]
    if (other === undefined) throw new HeartbeatError(ErrorCodes.STORE_FAILED, `the ${name} lease is neither taken nor held`)
    return { held: false, holder: other.holder, runId: other.run_id, term: other.term, acquiredAt: other.acquired_at, expiresAt: other.expires_at, now: other.now }
  }

  async releaseLease (name: string, holder: Writer): Promise<void> {
    await this.pool.query('UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2 AND run_id = $3', [name, holder.id, holder.runId])
  }

  async close (): Promise<void> {
    await this.pool.end()
  }
}

function parseAddrs (text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text)
    return Array.isArray(parsed) ? parsed.filter((a): a is string => typeof a === 'string') : []
  } catch {
    return []
  }
}
