import type { DatabaseSync } from 'node:sqlite'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { inTransaction } from './sqlite.ts'

/**
 * One step of the schema. Steps are only ever appended: migration N takes a
 * database from user_version N-1 to N, so an old file is brought forward one
 * step at a time and a new file runs them all.
 */
export interface Migration {
  description: string
  up: (db: DatabaseSync) => void
}

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'roster, height samples, status changes, aggregator runs',
    up: (db) => {
      db.exec(`
        -- Every node ever seen, with what is needed to bring it back after a restart.
        CREATE TABLE nodes (
          peer_id      TEXT PRIMARY KEY,
          nickname     TEXT NOT NULL,
          first_seen   INTEGER NOT NULL,
          last_seen    INTEGER NOT NULL,
          last_beat    TEXT NOT NULL,   -- the last heartbeat, JSON
          extras       TEXT NOT NULL,   -- the rest of the record (protocol, counters), JSON
          status       TEXT NOT NULL,
          reason       TEXT NOT NULL,
          status_since INTEGER NOT NULL
        );
        -- Heights, downsampled (at most one per node per sample interval).
        CREATE TABLE height_samples (
          id      INTEGER PRIMARY KEY,
          peer_id TEXT NOT NULL,
          at      INTEGER NOT NULL,
          height  INTEGER NOT NULL,
          head    TEXT NOT NULL
        );
        CREATE INDEX height_samples_by_node ON height_samples (peer_id, at);
        CREATE INDEX height_samples_by_time ON height_samples (at);
        -- The event log: every status change with its reason. AUTOINCREMENT keeps ids
        -- rising even after pruning, so they order pages.
        CREATE TABLE status_changes (
          id          INTEGER PRIMARY KEY AUTOINCREMENT,
          peer_id     TEXT NOT NULL,
          at          INTEGER NOT NULL,
          from_status TEXT,
          to_status   TEXT NOT NULL,
          reason      TEXT NOT NULL
        );
        CREATE INDEX status_changes_by_node ON status_changes (peer_id, at);
        CREATE INDEX status_changes_by_time ON status_changes (at, id);
        -- When the aggregator was watching: uptime counts only watched time.
        CREATE TABLE runs (
          id            INTEGER PRIMARY KEY AUTOINCREMENT,
          started_at    INTEGER NOT NULL,
          last_alive_at INTEGER NOT NULL
        );
      `)
    },
  },
  {
    description: 'who holds each node, alert state, maintenance windows',
    up: (db) => {
      db.exec(`
        -- The aggregator that holds the node's connection (always this one in SQLite), and whether it was open.
        ALTER TABLE nodes ADD COLUMN holder TEXT NOT NULL DEFAULT '';
        ALTER TABLE nodes ADD COLUMN connected INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN aggregator TEXT NOT NULL DEFAULT '';
        -- Pending and firing alerts, so a restart neither re-fires nor forgets one.
        CREATE TABLE alert_state (
          id         TEXT PRIMARY KEY,
          body       TEXT NOT NULL,   -- JSON (alerts/state-store.ts)
          updated_at INTEGER NOT NULL
        );
        CREATE TABLE alerts_resolved (
          id          TEXT NOT NULL,
          resolved_at INTEGER NOT NULL,
          body        TEXT NOT NULL,
          PRIMARY KEY (id, resolved_at)
        );
        -- Operators' maintenance windows ("fleet" or "node:<peer id>"); an ended one stays until it would have run out.
        CREATE TABLE maintenance (
          scope    TEXT PRIMARY KEY,
          until_at INTEGER,
          reason   TEXT NOT NULL,
          since    INTEGER,
          set_at   INTEGER NOT NULL,
          ended    INTEGER NOT NULL DEFAULT 0
        );
      `)
    },
  },
]

export function schemaVersion (db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined
  return row?.user_version ?? 0
}

/**
 * Brings the database to the latest schema. Each step runs in its own
 * transaction together with its user_version bump, so a failure (or a kill)
 * leaves the file at the last complete step. A file newer than this program
 * is refused rather than guessed at.
 */
export function migrate (db: DatabaseSync, migrations: readonly Migration[] = MIGRATIONS): { from: number, to: number } {
  const from = schemaVersion(db)
  if (from > migrations.length) {
    throw new HeartbeatError(ErrorCodes.STORE_TOO_NEW, `the store's schema is version ${from}, newer than this program knows (${migrations.length}); use a newer heartbeat-aggregator or another --data-dir`)
  }
  for (let version = from + 1; version <= migrations.length; version++) {
    const migration = migrations[version - 1] as Migration
    inTransaction(db, () => {
      migration.up(db)
      db.exec(`PRAGMA user_version = ${version}`)
    })
  }
  return { from, to: migrations.length }
}
