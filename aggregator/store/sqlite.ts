import type { DatabaseSync } from 'node:sqlite'
import { ErrorCodes, HeartbeatError, errorMessage } from '../../shared/errors.ts'
import { BUSY_TIMEOUT_MS } from './constants.ts'

type SqliteModule = typeof import('node:sqlite')
let loaded: SqliteModule | undefined

/**
 * Loads node:sqlite once. Node 24 still flags it experimental and prints a
 * warning line that is not JSON into our JSON-lines log; that one warning is
 * dropped, every other warning passes through.
 */
export async function loadSqlite (): Promise<SqliteModule> {
  if (loaded !== undefined) return loaded
  const emitWarning = process.emitWarning
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning.message
    if (/SQLite is an experimental feature/.test(text)) return
    Reflect.apply(emitWarning, this, [warning, ...rest])
  } as typeof process.emitWarning
  try {
    loaded = await import('node:sqlite')
  } catch (err) {
    throw new HeartbeatError(ErrorCodes.STORE_FAILED, `the store needs node:sqlite (Node.js 22.13 or later): ${errorMessage(err)}`, { cause: err })
  } finally {
    process.emitWarning = emitWarning
  }
  return loaded
}

/**
 * Opens (or creates) the database file in WAL mode. WAL with synchronous=NORMAL
 * survives a killed process intact (a commit is atomic; only a power loss can
 * drop the last commits), and lets readers run beside the writer.
 */
export async function openDatabase (file: string): Promise<DatabaseSync> {
  const { DatabaseSync } = await loadSqlite()
  let db: DatabaseSync | undefined
  try {
    db = new DatabaseSync(file)
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`)
    const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string } | undefined
    if (mode?.journal_mode !== 'wal') throw new Error(`could not switch to WAL (journal_mode is ${String(mode?.journal_mode)})`)
    db.exec('PRAGMA synchronous = NORMAL')
    return db
  } catch (err) {
    try { db?.close() } catch { /* already failing */ }
    throw new HeartbeatError(ErrorCodes.STORE_FAILED, `cannot open the store ${file}: ${errorMessage(err)}`, { cause: err })
  }
}

/** Runs `work` in one transaction: all of it lands, or none. */
export function inTransaction<T> (db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = work()
    db.exec('COMMIT')
    return result
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw err
  }
}
