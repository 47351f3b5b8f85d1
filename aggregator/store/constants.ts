/** Every default of the store, named. Durations are milliseconds. */

/** The database file inside --data-dir (SQLite adds -wal and -shm beside it). */
export const STORE_FILE = 'fleet.sqlite'

/** Write-behind: changes are collected in memory and written in one transaction this often. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1_000
/** With nothing to write, the run's "still alive" mark is still refreshed this often (bounds the unwatched gap a crash leaves). */
export const ALIVE_MARK_MS = 15_000
/** Pending rows kept while the disk refuses writes; past this the oldest height samples (then changes) are dropped. */
export const MAX_PENDING_ROWS = 200_000

/** History is kept this long by default (7 days), then pruned. */
export const DEFAULT_HISTORY_RETENTION_MS = 7 * 24 * 3_600_000
/** At most one height sample per node per this interval. */
export const DEFAULT_HEIGHT_SAMPLE_INTERVAL_MS = 60_000
/** Pruning runs this often (and once at start). */
export const PRUNE_INTERVAL_MS = 10 * 60_000

/** Uptime windows shown per node. */
export const UPTIME_WINDOWS_MS = { hour: 3_600_000, day: 24 * 3_600_000, week: 7 * 24 * 3_600_000 } as const
/** The fleet list's uptimes are recomputed at most this often (one node's view is always fresh). */
export const FLEET_UPTIME_CACHE_MS = 30_000

/** GET /api/v1/nodes/:peerId/history: default window when `since` is absent. */
export const DEFAULT_NODE_HISTORY_WINDOW_MS = 24 * 3_600_000
/** At most this many height points per answer (longer ranges are thinned into even buckets). */
export const MAX_HISTORY_HEIGHT_POINTS = 2_000
/** At most this many status changes per node answer (the latest ones when there are more). */
export const MAX_HISTORY_STATUS_CHANGES = 1_000
/** GET /api/v1/history page size: default and ceiling. */
export const DEFAULT_FLEET_HISTORY_LIMIT = 100
export const MAX_FLEET_HISTORY_LIMIT = 1_000

/**
 * SQLite waits this long for another writer's lock before failing. The wait
 * blocks the event loop (node:sqlite is synchronous), so it is short: a
 * failed flush simply goes again next interval. Readers (backups) never block
 * the writer in WAL mode.
 */
export const BUSY_TIMEOUT_MS = 200
