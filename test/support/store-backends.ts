import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import pg from 'pg'
import type { FleetStoreOptions } from '../../aggregator/store/index.ts'
import { storeOpener, storeTarget } from '../../aggregator/store/open.ts'
import { databaseOf, startPostgres, type PostgresServer } from './postgres.ts'
import { tempDir } from './processes.ts'

/** One fresh store (an empty SQLite file, or an empty PostgreSQL database) and ways to look into it from outside. */
export interface StoreLocation {
  /** What FleetStore needs to open it. */
  opener: Pick<FleetStoreOptions, 'open' | 'kind' | 'location' | 'retryOpen'>
  /** --store for the aggregator (undefined: SQLite in dataDir). */
  storeUrl: string | undefined
  /** The data dir holding the SQLite file (a fresh one for PostgreSQL). */
  dataDir: string
  /** Rows of a table, from another connection, as another process would see them. */
  count: (table: string, where?: string) => Promise<number>
  /** Any query, from another connection. */
  rows: <T = any>(sql: string) => Promise<T[]>
  /**
   * Makes the store refuse or hold writes from another connection (SQLite: a
   * write transaction held open; PostgreSQL: a table locked); the returned
   * function lets go.
   */
  blockWrites: () => Promise<() => Promise<void>>
}

/** A backend the store suite runs against: started once per test file. */
export interface StoreBackendHarness {
  name: 'sqlite' | 'postgres'
  fresh: () => Promise<StoreLocation>
  close: () => Promise<void>
  /** The PostgreSQL server (postgres only): tests stop and start it. */
  server?: PostgresServer
}

function sqliteLocation (): StoreLocation {
  const dataDir = tempDir('hb-store-')
  const file = join(dataDir, 'fleet.sqlite')
  const read = <T>(sql: string): T[] => {
    const db = new DatabaseSync(file, { readOnly: true })
    try { return db.prepare(sql).all() as T[] } finally { db.close() }
  }
  return {
    opener: storeOpener(storeTarget(undefined, dataDir)),
    storeUrl: undefined,
    dataDir,
    count: async (table, where = '1 = 1') => (read<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`)[0]?.n ?? 0),
    rows: async <T>(sql: string) => read<T>(sql),
    blockWrites: async () => {
      const other = new DatabaseSync(file)
      other.exec('BEGIN IMMEDIATE')
      return async () => { other.exec('ROLLBACK'); other.close() }
    },
  }
}

async function postgresLocation (server: PostgresServer): Promise<StoreLocation> {
  const url = await server.createDatabase()
  const database = databaseOf(url)
  return {
    opener: storeOpener(storeTarget(url, tempDir('hb-store-'))),
    storeUrl: url,
    dataDir: tempDir('hb-store-'),
    count: async (table, where = '1 = 1') => Number((await server.query<{ n: string }>(database, `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`))[0]?.n ?? 0),
    rows: async <T>(sql: string) => await server.query(database, sql) as T[],
    blockWrites: async () => {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      await client.query('BEGIN')
      await client.query('LOCK TABLE runs IN ACCESS EXCLUSIVE MODE')
      return async () => { await client.query('ROLLBACK'); await client.end() }
    },
  }
}

/** The store suite's two backends: every parameterised test runs against both. */
export const STORE_BACKENDS: ReadonlyArray<{ name: 'sqlite' | 'postgres', start: () => Promise<StoreBackendHarness> }> = [
  { name: 'sqlite', start: async () => ({ name: 'sqlite', fresh: async () => sqliteLocation(), close: async () => {} }) },
  {
    name: 'postgres',
    start: async () => {
      const server = await startPostgres()
      return { name: 'postgres', server, fresh: async () => await postgresLocation(server), close: async () => { await server.close() } }
    },
  },
]
