import { ErrorCodes, UsageError } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { StoreKind } from './backend.ts'
import { POSTGRES_URL_SCHEMES } from './constants.ts'
import type { FleetStoreOptions } from './index.ts'
import { storeFile } from './index.ts'
import { PostgresBackend } from './postgres-backend.ts'
import { isTransientSqliteError, SqliteBackend } from './sqlite-backend.ts'

/** Which store, from --store: the data dir's SQLite file when absent, a shared PostgreSQL for postgres:// URLs. */
export type StoreTarget =
  | { kind: 'sqlite', file: string }
  | { kind: 'postgres', url: string, location: string }

const EXPECTED = 'expected postgres://user:password@host:5432/database (or leave --store out for the SQLite file in --data-dir)'

/** Reads --store. Its value may hold a password: no message repeats it. */
export function storeTarget (url: string | undefined, dataDir: string): StoreTarget {
  if (url === undefined || url.trim() === '') return { kind: 'sqlite', file: storeFile(dataDir) }
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid --store: not a URL; ${EXPECTED}`)
  }
  if (!(POSTGRES_URL_SCHEMES as readonly string[]).includes(parsed.protocol)) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid --store: the ${parsed.protocol.replace(/:$/, '')} scheme is not a store; ${EXPECTED}`)
  }
  return { kind: 'postgres', url: url.trim(), location: describePostgresUrl(parsed) }
}

/**
 * A PostgreSQL URL without its secrets, for logs, health and /actuator/info:
 * scheme, host, port and database; never the user's password nor the query
 * (which may carry one), except the socket directory.
 */
export function describePostgresUrl (url: URL): string {
  const host = url.host
  const socket = url.searchParams.get('host')
  return `${url.protocol}//${host}${url.pathname}${host === '' && socket !== null ? `?host=${socket}` : ''}`
}

/** How FleetStore opens the chosen backend, and whether a failure to open may pass by itself. */
export function storeOpener (target: StoreTarget, logger?: Logger): Pick<FleetStoreOptions, 'open' | 'kind' | 'location' | 'retryOpen'> {
  if (target.kind === 'sqlite') {
    // A full or read-only disk passes: serve from memory and retry. A damaged or too new file does not.
    return { kind: 'sqlite' satisfies StoreKind, location: target.file, open: async () => await SqliteBackend.open(target.file), retryOpen: isTransientSqliteError }
  }
  // At start, a server that cannot be reached is a mistake to fix (exit 2); later outages are retried.
  return { kind: 'postgres', location: target.location, open: async () => await PostgresBackend.open({ url: target.url, location: target.location, logger }) }
}
