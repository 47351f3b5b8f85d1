import type pg from 'pg'
import { ErrorCodes, HeartbeatError, UsageError, errorMessage } from '../../shared/errors.ts'

/**
 * The shared store's schema, for PostgreSQL 15+ and YugabyteDB's YSQL alike
 * (docs/store.md says what was checked). Steps are only ever appended. Every
 * statement is idempotent (IF NOT EXISTS): YSQL runs each DDL statement as a
 * transaction of its own even inside BEGIN, so a step cut short is simply run
 * again. Two aggregators starting at once on a new database may race on the
 * same CREATE; the loser retries (no advisory lock, no LOCK TABLE: YSQL has
 * neither in its stable releases).
 */
export interface PostgresMigration {
  description: string
  statements: readonly string[]
}

const VERSION_TABLE = 'heartbeat_schema'
/** The database's clock in milliseconds: leases and renewals are judged on it, the one clock every aggregator shares. */
export const DB_NOW_MS = 'CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS bigint)'

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    description: 'roster, height samples, status changes, runs, aggregators, leases, alert state, maintenance',
    statements: [
      // Every node ever seen; holder/connected say who holds it, writer/write_seq which run wrote it in which batch.
      `CREATE TABLE IF NOT EXISTS nodes (
        peer_id      text PRIMARY KEY,
        nickname     text NOT NULL,
        first_seen   bigint NOT NULL,
        last_seen    bigint NOT NULL,
        last_beat    text NOT NULL,
        extras       text NOT NULL,
        status       text NOT NULL,
        reason       text NOT NULL,
        status_since bigint NOT NULL,
        holder       text NOT NULL,
        connected    boolean NOT NULL,
        writer       text NOT NULL,
        write_seq    bigint NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS nodes_by_writer ON nodes (writer, write_seq, peer_id)',
      // No surrogate key: at most one sample per node per instant, and no sequence to share between writers.
      `CREATE TABLE IF NOT EXISTS height_samples (
        peer_id text NOT NULL,
        at      bigint NOT NULL,
        height  bigint NOT NULL,
        head    text NOT NULL,
        PRIMARY KEY (peer_id, at)
      )`,
      'CREATE INDEX IF NOT EXISTS height_samples_by_time ON height_samples (at)',
      // ids only break ties between changes at the same instant: unique, not ordered across writers.
      `CREATE TABLE IF NOT EXISTS status_changes (
        id          bigserial PRIMARY KEY,
        peer_id     text NOT NULL,
        at          bigint NOT NULL,
        from_status text,
        to_status   text NOT NULL,
        reason      text NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS status_changes_by_node ON status_changes (peer_id, at)',
      'CREATE INDEX IF NOT EXISTS status_changes_by_time ON status_changes (at, id)',
      `CREATE TABLE IF NOT EXISTS runs (
        id            bigserial PRIMARY KEY,
        aggregator    text NOT NULL,
        started_at    bigint NOT NULL,
        last_alive_at bigint NOT NULL
      )`,
      // One lease row per aggregator (by its name: its peer id, or --instance); renewed_at and stopped_at are on the database's clock.
      `CREATE TABLE IF NOT EXISTS aggregators (
        id         text PRIMARY KEY,
        run_id     text NOT NULL,
        peer_id    text NOT NULL,
        multiaddrs text NOT NULL,
        version    text NOT NULL,
        http_url   text NOT NULL,
        started_at bigint NOT NULL,
        renewed_at bigint NOT NULL,
        stopped_at bigint
      )`,
      // Named leases (the alerting leader); times on the database's clock.
      `CREATE TABLE IF NOT EXISTS leases (
        name        text PRIMARY KEY,
        holder      text NOT NULL,
        run_id      text NOT NULL,
        term        bigint NOT NULL,
        acquired_at bigint NOT NULL,
        expires_at  bigint NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS alert_state (
        id         text PRIMARY KEY,
        body       text NOT NULL,
        updated_at bigint NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS alerts_resolved (
        id          text NOT NULL,
        resolved_at bigint NOT NULL,
        body        text NOT NULL,
        PRIMARY KEY (id, resolved_at)
      )`,
      `CREATE TABLE IF NOT EXISTS maintenance (
        scope    text PRIMARY KEY,
        until_at bigint,
        reason   text NOT NULL,
        since    bigint,
        set_at   bigint NOT NULL,
        ended    boolean NOT NULL
      )`,
    ],
  },
  {
    description: 'roster rows stamped with the database clock when written (other aggregators age them by it, not by wall clocks)',
    statements: [
      'ALTER TABLE nodes ADD COLUMN IF NOT EXISTS written_at bigint',
    ],
  },
]

/** SQLSTATEs of two sessions creating the same object at once (the loser sees the winner's catalog row). */
const RACE_STATES = new Set(['42P07', '42710', '23505'])
const RACE_RETRIES = 5
const RACE_PAUSE_MS = 200

async function pause (ms: number): Promise<void> {
  await new Promise<void>((resolve) => { setTimeout(resolve, ms).unref() })
}

function sqlState (err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

async function appliedVersion (pool: pg.Pool): Promise<number> {
  const result = await pool.query<{ version: number | null }>(`SELECT MAX(version) AS version FROM ${VERSION_TABLE}`)
  return Number(result.rows[0]?.version ?? 0)
}

/**
 * Brings the database to the latest schema; a database written by a newer
 * program is refused. Failing here is a start-up error (exit 2).
 */
export async function migratePostgres (pool: pg.Pool, migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS): Promise<{ from: number, to: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await migrateOnce(pool, migrations)
    } catch (err) {
      if (attempt < RACE_RETRIES && RACE_STATES.has(sqlState(err) ?? '')) {
        await pause(RACE_PAUSE_MS * (attempt + 1))
        continue
      }
      if (err instanceof HeartbeatError) throw err
      throw new UsageError(ErrorCodes.STORE_FAILED, `cannot prepare the shared store's schema: ${errorMessage(err)}`, { cause: err })
    }
  }
}

async function migrateOnce (pool: pg.Pool, migrations: readonly PostgresMigration[]): Promise<{ from: number, to: number }> {
  await pool.query(`CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (version integer PRIMARY KEY, description text NOT NULL, applied_at bigint NOT NULL)`)
  const from = await appliedVersion(pool)
  if (from > migrations.length) {
    throw new UsageError(ErrorCodes.STORE_TOO_NEW, `the shared store's schema is version ${from}, newer than this program knows (${migrations.length}); use a newer heartbeat-aggregator`)
  }
  for (let version = from + 1; version <= migrations.length; version++) {
    const migration = migrations[version - 1] as PostgresMigration
    const client = await pool.connect()
    let broken: unknown
    try {
      await client.query('BEGIN')
      for (const statement of migration.statements) await client.query(statement)
      await client.query(`INSERT INTO ${VERSION_TABLE} (version, description, applied_at) VALUES ($1, $2, ${DB_NOW_MS}) ON CONFLICT (version) DO NOTHING`,
        [version, migration.description])
      await client.query('COMMIT')
    } catch (err) {
      broken = err
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release(broken instanceof Error && sqlState(broken) === undefined)
    }
  }
  return { from, to: migrations.length }
}
