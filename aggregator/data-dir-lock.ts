import { mkdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import type { Clock } from '../shared/clock.ts'
import { ErrorCodes, HeartbeatError, errorMessage } from '../shared/errors.ts'
import type { Logger } from '../shared/log.ts'
import type { Part } from './parts.ts'
import { loadSqlite } from './store/sqlite.ts'

/** The file whose OS lock is the data dir's lock. Never delete it: the lock lives on its inode. */
export const LOCK_FILE = 'aggregator.lock'
/** Who holds the lock, for the one line a second aggregator prints; removed on a clean release. */
export const HOLDER_FILE = 'aggregator.pid'
/** Where Linux says which boot this is (a pid means nothing across boots). */
const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id'
/** SQLite's "database is locked". */
const SQLITE_BUSY = 5
/** A full disk or quota: not a reason to refuse to start (the lock holds; only its holder file is missing). */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT'])

/**
 * Data dirs this process holds (real paths). POSIX locks belong to a process,
 * not to a file descriptor, and closing any descriptor of a file drops them
 * all: a second attempt from this process (an embedding program, a test) is
 * answered from here and never opens the file. Holding the lock here also
 * keeps its database handle reachable: a collected handle closes, and the lock
 * with it.
 */
const heldHere = new Map<string, DataDirLock>()

/** What the holder writes about itself (HOLDER_FILE). */
export interface LockHolder {
  pid: number
  hostname: string
  /** Linux's boot id: with it, a pid from another boot reads as what it is. */
  bootId: string | null
  /** When the holding process started and when it took the lock (ISO 8601). */
  processStartedAt: string
  lockedAt: string
}

/**
 * One aggregator per data dir: two on one dir would share a peer id and write
 * into each other's history. The lock is an OS lock, not a pid file: an
 * exclusive SQLite transaction held open on LOCK_FILE (POSIX fcntl locks,
 * through node:sqlite). The kernel drops it when the process ends however it
 * ends, so kill -9 leaves no stale lock, and neither pid reuse nor containers
 * where every process is pid 1 can fool it; it holds between processes on one
 * host and between containers sharing a volume. (On a network filesystem it is
 * as good as that filesystem's locks.) The holder's pid, host, boot id and
 * start time go in HOLDER_FILE so a second aggregator can say who has it.
 */
export class DataDirLock {
  readonly dataDir: string
  readonly holder: LockHolder
  private readonly key: string
  private db: DatabaseSync | undefined
  /** Why HOLDER_FILE could not be written (a full disk), if it could not. */
  holderError: string | undefined

  private constructor (dataDir: string, key: string, db: DatabaseSync, holder: LockHolder) {
    this.dataDir = dataDir
    this.key = key
    this.db = db
    this.holder = holder
  }

  /**
   * Creates the data dir if needed (mode 0700) and takes its lock; throws
   * ERR_DATA_DIR_LOCKED naming the holder when another process has it, and
   * ERR_DATA_DIR_UNUSABLE when the dir cannot be made, read or locked.
   */
  static async acquire (dataDir: string, clock: Clock): Promise<DataDirLock> {
    const key = ensureDirectory(dataDir)
    const ours = heldHere.get(key)
    if (ours !== undefined) throw new HeartbeatError(ErrorCodes.DATA_DIR_LOCKED, lockedMessage(dataDir, ours.holder))
    const { DatabaseSync } = await loadSqlite()
    let db: DatabaseSync
    try {
      db = new DatabaseSync(join(dataDir, LOCK_FILE))
    } catch (err) {
      throw unusable(dataDir, `cannot open ${LOCK_FILE}: ${errorMessage(err)}`, err)
    }
    try {
      db.exec('PRAGMA busy_timeout = 0')
      // SQLite locks nothing on an empty file: the first run gives it a schema (a write, itself under the lock).
      db.exec('CREATE TABLE IF NOT EXISTS lock (note TEXT)')
      // In rollback-journal mode an exclusive transaction keeps the file's write lock until it ends: never, while we run.
      db.exec('BEGIN EXCLUSIVE')
    } catch (err) {
      db.close()
      if ((err as { errcode?: number }).errcode === SQLITE_BUSY) {
        throw new HeartbeatError(ErrorCodes.DATA_DIR_LOCKED, lockedMessage(dataDir, readHolder(dataDir)), { cause: err })
      }
      throw unusable(dataDir, `cannot lock ${LOCK_FILE}: ${errorMessage(err)}`, err)
    }
    const now = clock.wall()
    const holder: LockHolder = {
      pid: process.pid,
      hostname: hostname(),
      bootId: bootId(),
      processStartedAt: new Date(now - process.uptime() * 1000).toISOString(),
      lockedAt: new Date(now).toISOString(),
    }
    let holderError: string | undefined
    try {
      writeHolder(dataDir, holder)
    } catch (err) {
      // A full disk keeps the lock (it is the kernel's, not the file's): the aggregator serves from memory
      // while its store waits for room (docs/store.md); a second aggregator is still refused, only unnamed.
      if (!DISK_FULL.has(String((err as { code?: unknown }).code))) {
        db.close()
        throw unusable(dataDir, `cannot write ${HOLDER_FILE}: ${errorMessage(err)}`, err)
      }
      holderError = errorMessage(err)
    }
    const lock = new DataDirLock(dataDir, key, db, holder)
    lock.holderError = holderError
    heldHere.set(key, lock)
    return lock
  }

  get held (): boolean {
    return this.db !== undefined
  }

  /** Removes HOLDER_FILE (when it is still ours) and drops the lock. Idempotent. */
  release (): void {
    const db = this.db
    if (db === undefined) return
    this.db = undefined
    const current = readHolder(this.dataDir)
    if (current?.pid === this.holder.pid && current.lockedAt === this.holder.lockedAt) {
      try { unlinkSync(join(this.dataDir, HOLDER_FILE)) } catch { /* gone already */ }
    }
    db.close()
    heldHere.delete(this.key)
  }
}

/** The lock as the aggregator's first part: taken before anything reads or writes the data dir, dropped last. */
export function dataDirLockPart (options: { dataDir: string, clock: Clock, logger: Logger }): Part & { readonly lock: DataDirLock | undefined } {
  let lock: DataDirLock | undefined
  return {
    name: 'data-dir-lock',
    get lock () { return lock },
    async start () {
      lock = await DataDirLock.acquire(options.dataDir, options.clock)
      options.logger.debug({ dataDir: options.dataDir, lockFile: join(options.dataDir, LOCK_FILE) }, 'data dir locked')
      if (lock.holderError !== undefined) options.logger.warn({ err: lock.holderError, file: join(options.dataDir, HOLDER_FILE) }, 'the data dir is locked, but who holds it could not be written (the disk is full)')
    },
    stop () {
      lock?.release()
      lock = undefined
    },
  }
}

/** The holder as its file says, or undefined when there is none (or it is not one). */
export function readHolder (dataDir: string): LockHolder | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), 'utf8'))
  } catch {
    return undefined
  }
  const h = parsed as Partial<LockHolder> | null
  if (typeof h?.pid !== 'number' || typeof h.hostname !== 'string' || typeof h.lockedAt !== 'string') return undefined
  return {
    pid: h.pid,
    hostname: h.hostname,
    bootId: typeof h.bootId === 'string' ? h.bootId : null,
    processStartedAt: typeof h.processStartedAt === 'string' ? h.processStartedAt : h.lockedAt,
    lockedAt: h.lockedAt,
  }
}

function lockedMessage (dataDir: string, holder: LockHolder | undefined): string {
  const who = holder === undefined
    ? `it has not said which: ${HOLDER_FILE} is missing`
    : `pid ${holder.pid} on host ${holder.hostname}${holder.hostname === hostname() ? '' : ' (another host or container)'}, since ${holder.lockedAt}`
  return `--data-dir ${dataDir} is in use by another heartbeat-aggregator (${who}): stop it, or give this one its own --data-dir`
}

/** Written whole or not at all: a second aggregator never reads half a file. */
function writeHolder (dataDir: string, holder: LockHolder): void {
  const file = join(dataDir, HOLDER_FILE)
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, `${JSON.stringify(holder)}\n`, { mode: 0o644 })
  renameSync(temp, file)
}

/** Creates the dir when missing; returns its real path (one key per directory, however it is spelled). */
function ensureDirectory (dataDir: string): string {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw unusable(dataDir, `cannot create it: ${errorMessage(err)}`, err)
  }
  let isDirectory: boolean
  try {
    isDirectory = statSync(dataDir).isDirectory()
  } catch (err) {
    throw unusable(dataDir, `cannot read it: ${errorMessage(err)}`, err)
  }
  if (!isDirectory) throw unusable(dataDir, 'it is not a directory', undefined)
  return realpathSync(dataDir)
}

function unusable (dataDir: string, why: string, cause: unknown): HeartbeatError {
  return new HeartbeatError(ErrorCodes.DATA_DIR_UNUSABLE, `--data-dir ${dataDir}: ${why}`, { cause })
}

function bootId (): string | null {
  try {
    return readFileSync(BOOT_ID_FILE, 'utf8').trim()
  } catch {
    return null
  }
}
