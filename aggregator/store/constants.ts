/** Every default of the store, named. Durations are milliseconds. */

/** The database file inside --data-dir (SQLite adds -wal and -shm beside it). */
export const STORE_FILE = 'fleet.sqlite'

/** Write-behind: changes are collected in memory and written in one transaction this often. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1_000
/**
 * With a shared store other aggregators wait for these writes to show a change
 * (flush + poll + the feed's 250 ms must stay within 2 s under load): twice as
 * often. The rows are the same (one per changed node); only the transactions double.
 */
export const DEFAULT_SHARED_FLUSH_INTERVAL_MS = 500
/**
 * A node's connection that opens or closes is written early (after this,
 * with others that come at once), so that with a shared store an agent
 * moving between aggregators is handed over within its old holder's down
 * grace; early writes are at least EARLY_FLUSH_SPACING_MS apart.
 */
export const EARLY_FLUSH_DELAY_MS = 50
export const EARLY_FLUSH_SPACING_MS = 250
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

/**
 * A failed write (or open) is tried again after a backoff that starts at the
 * flush interval and doubles up to this cap (jittered down by up to half), so
 * a store that is away is not hammered, and one that is back is written to
 * within seconds.
 */
export const STORE_RETRY_CAP_MS = 10_000
export const STORE_RETRY_JITTER = 0.5
/**
 * The store component is `affected` while writes fail or wait, and
 * `not_ready` once nothing could be written for this long: long enough for a
 * lock held by a backup or a database failover to pass unnoticed by alerts on
 * not_ready, short enough that history going unsaved is flagged within a minute.
 */
export const STORE_NOT_READY_AFTER_MS = 30_000
/** A write still running after this many flush intervals counts as waiting (affected). */
export const STORE_WAITING_INTERVALS = 3

// The shared store (PostgreSQL): many aggregators, one fleet.

/** What a --store URL may start with to select PostgreSQL. */
export const POSTGRES_URL_SCHEMES = ['postgres:', 'postgresql:'] as const
/** Connections per aggregator: one writer, one reader of other aggregators' rows, the rest for the HTTP history routes. */
export const POSTGRES_POOL_SIZE = 5
/** Connecting (TCP, TLS, authentication) must finish within this. */
export const POSTGRES_CONNECT_TIMEOUT_MS = 5_000
/** Any one query must answer within this; a database that stops answering fails the call instead of hanging it. */
export const POSTGRES_QUERY_TIMEOUT_MS = 15_000
/** Shown in pg_stat_activity, so an operator can tell these sessions apart. */
export const POSTGRES_APPLICATION_NAME = 'heartbeat-aggregator'
/** Rows per statement when writing a large batch (arrays bound as parameters). */
export const POSTGRES_BATCH_ROWS = 2_000

/** Each aggregator renews its lease row this often. */
export const MEMBER_RENEW_MS = 2_000
/**
 * An aggregator whose lease row is older than this (database clock) may lose
 * its nodes at once to an aggregator they connect to: two missed renewals and
 * a little more, so a slow renewal is not a failover.
 */
export const TAKEOVER_AFTER_MS = 5_000
/**
 * An aggregator whose lease row is older than this has stopped reporting: its
 * nodes that did not move to another aggregator are shown stale. Longer than
 * TAKEOVER_AFTER_MS by two flush intervals and a poll, so nodes that did move
 * are shown at their new aggregator before they could be shown stale.
 */
export const MEMBER_SILENT_MS = 8_000
/** Aggregators that stopped this long ago (and hold no node) leave the list. */
export const MEMBER_FORGET_MS = 24 * 3_600_000
/**
 * Other aggregators' changes are read this often: with the 500 ms shared flush
 * a change reaches every aggregator's views within 0.75 s plus the queries and
 * the feed's batching (docs/store.md, docs/BENCHMARKS.md).
 */
export const REMOTE_POLL_MS = 250
/** At most this many changed rows are read per poll (the rest next poll): a flood of changes cannot stall the event loop. */
export const REMOTE_POLL_MAX_ROWS = 10_000
/** Every row is read again this often, a safety net under the change-following (it costs one roster read). */
export const REMOTE_RESYNC_MS = 5 * 60_000
/**
 * After an aggregator restarts, the nodes it had are stale until their agents
 * dial in again (within their reconnect period, 10 s by default); for this
 * long they start no new alert anywhere, so a restart is not a page per node.
 */
export const RECONNECT_GRACE_MS = 30_000
