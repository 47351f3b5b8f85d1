import { execFile, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before } from 'node:test'
import pg from 'pg'
import { freePort } from './ports.ts'
import { tempDir } from './processes.ts'

const run = promisify(execFile)

/** Debian's PostgreSQL (scripts/system-deps.ts installs `postgresql`): the newest version's binaries. */
export function postgresBin (): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : []
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'pg_ctl'))) return join(root, v, 'bin')
  throw new Error('PostgreSQL is not installed (apt-get install postgresql)')
}

export interface PostgresServer {
  port: number
  /** postgres://postgres@127.0.0.1:port/<database> */
  url: (database: string) => string
  /** A fresh, empty database; returns its URL. */
  createDatabase: (name?: string) => Promise<string>
  /** One query on one database (a short-lived connection). */
  query: <T extends pg.QueryResultRow = any>(database: string, sql: string, params?: unknown[]) => Promise<T[]>
  /** `pg_ctl stop`: `immediate` is a crash (no shutdown checkpoint, connections cut). */
  stop: (mode?: 'fast' | 'immediate') => Promise<void>
  /** Starts it again on the same port and data. */
  start: () => Promise<void>
  /** Stops it and removes its files. */
  close: () => Promise<void>
}

let counter = 0

/**
 * A PostgreSQL server of its own for a test file: initdb in a temporary
 * directory as an unprivileged user (`runuser -u postgres` when the tests run
 * as root; PostgreSQL refuses to run as root), a free port on loopback, the
 * unix socket in the same directory, fsync off for speed. One server per test
 * file, a fresh database per test.
 */
export async function startPostgres (settings: { crashSafe?: boolean } = {}): Promise<PostgresServer> {
  const bin = postgresBin()
  const root = tempDir('hb-pg-')
  const data = join(root, 'data')
  const sockets = join(root, 'sockets')
  mkdirSync(sockets)
  const asRoot = process.getuid?.() === 0
  let uid: number | undefined
  let gid: number | undefined
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
    const group = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
    if (id.status !== 0) throw new Error('running as root, but there is no postgres user to run PostgreSQL as')
    uid = Number(id.stdout.trim())
    gid = Number(group.stdout.trim())
    for (const dir of [root, sockets]) chownSync(dir, uid, gid)
  }
  const exec = async (tool: string, args: string[]): Promise<void> => {
    const command = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] as const : [join(bin, tool), args] as const
    await run(command[0], [...command[1]], { timeout: 60_000 })
  }
  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--no-locale'])
  const port = await freePort()
  const options = [
    `-p ${port}`, `-k ${sockets}`, '-c listen_addresses=127.0.0.1', '-c fsync=off',
    // An asynchronous commit is acknowledged before its WAL leaves PostgreSQL's memory, so a crash of the server
    // (`stop('immediate')`) may take back what it acknowledged, schema changes included: a test that crashes the
    // server keeps commits synchronous, as production does. fsync stays off: the machine itself does not crash.
    ...(settings.crashSafe === true ? [] : ['-c synchronous_commit=off']),
    '-c full_page_writes=off', '-c max_connections=200', '-c shared_buffers=32MB',
  ].join(' ')
  const start = async (): Promise<void> => { await exec('pg_ctl', ['-D', data, '-l', join(root, 'server.log'), '-w', '-t', '60', '-o', options, 'start']) }
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => { await exec('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']) }
  await start()
  let running = true
  // A test that dies half way must not leave a server behind.
  const onExit = (): void => {
    if (!running) return
    const args = ['-D', data, '-m', 'immediate', 'stop']
    if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args])
    else spawnSync(join(bin, 'pg_ctl'), args)
  }
  process.once('exit', onExit)
  const url = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`
  const query = async <T extends pg.QueryResultRow = any>(database: string, sql: string, params: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: url(database) })
    await client.connect()
    try {
      return (await client.query<T>(sql, params)).rows
    } finally {
      await client.end()
    }
  }
  return {
    port,
    url,
    createDatabase: async (name) => {
      const database = name ?? `t_${process.pid}_${++counter}`
      await query('postgres', `CREATE DATABASE "${database}"`)
      return url(database)
    },
    query,
    stop: async (mode) => { await stop(mode); running = false },
    start: async () => { await start(); running = true },
    close: async () => {
      if (running) await stop('immediate').catch(() => {})
      running = false
      process.removeListener('exit', onExit)
      rmSync(root, { recursive: true, force: true })
    },
  }
}

/** The database name at the end of a postgres:// URL. */
export function databaseOf (url: string): string {
  return new URL(url).pathname.slice(1)
}

/**
 * One server for the test file (or suite) that calls it: started before its
 * tests, stopped after them, once every step handed to `defer` has run
 * (last first): the aggregators and agents the tests started.
 */
export function usePostgres (settings: { crashSafe?: boolean } = {}): { readonly server: PostgresServer, defer: (step: () => Promise<void>) => void } {
  let server: PostgresServer | undefined
  const steps: Array<() => Promise<void>> = []
  before(async () => { server = await startPostgres(settings) })
  after(async () => {
    for (const step of steps.reverse()) await step().catch(() => {})
    await server?.close()
  })
  return {
    get server () {
      if (server === undefined) throw new Error('the PostgreSQL server starts before the tests')
      return server
    },
    defer: (step) => { steps.push(step) },
  }
}
