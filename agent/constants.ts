/** Every default of the agent, named. Durations are milliseconds. */
export const DEFAULT_BEAT_PERIOD_MS = 3_000
export const DEFAULT_RECONNECT_PERIOD_MS = 10_000
/** An ERROR line at most this often while a service keeps failing (go-filecoin: 10 minutes). */
export const DEFAULT_ERROR_LOG_PERIOD_MS = 10 * 60_000
/** The FIL_HEARTBEAT_ALERTS service beats and reconnects every 10 s, as in go-filecoin. */
export const ALERT_BEAT_PERIOD_MS = 10_000
export const ALERT_RECONNECT_PERIOD_MS = 10_000
export const ALERTS_ENV = 'FIL_HEARTBEAT_ALERTS'
/** A dial (TCP + Noise + Yamux + protocol negotiation) that takes longer is a failure. */
export const DEFAULT_DIAL_TIMEOUT_MS = 5_000
/** A heartbeat write that cannot complete in this time (peer not reading) is a failed send. */
export const DEFAULT_SEND_TIMEOUT_MS = 5_000
/** Graceful stop: the last beat, the close and the exit all happen within this. */
export const SHUTDOWN_DEADLINE_MS = 2_000
/** Time given to the last "stopping" beat before closing anyway. */
export const FINAL_BEAT_TIMEOUT_MS = 500
/** Demo chain: a new block this often (Filecoin's real epoch is 30 s; faster makes the demo visibly alive). */
export const DEFAULT_DEMO_BLOCK_TIME_MS = 5_000
export const DEMO_NETWORK = 'demo'
/** The source must answer within this, or the beat carries the last reading marked old. */
export const DEFAULT_SOURCE_TIMEOUT_MS = 3_000

// ---- chain sources ----
/** Lotus's default API address (its config's ListenAddress /ip4/127.0.0.1/tcp/1234/http), JSON-RPC path v1. */
export const DEFAULT_LOTUS_URL = 'http://127.0.0.1:1234/rpc/v1'
/** Every Ethereum client's default HTTP JSON-RPC port. */
export const DEFAULT_ETH_URL = 'http://127.0.0.1:8545'
/** A node answer larger than this is nonsense for what we ask (a head, a block header without transactions). */
export const MAX_RPC_ANSWER_BYTES = 8 * 1024 * 1024
/** What a command (source or check) may print; more is cut off and refused. */
export const MAX_COMMAND_OUTPUT_BYTES = 1024 * 1024
/** Lotus counts as syncing when a sync target is this many epochs past its head (one or two behind is normal). */
export const DEFAULT_SYNC_LAG_EPOCHS = 5
/** Bytes of a failed command's stderr kept in an error message. */
export const COMMAND_STDERR_TAIL_BYTES = 300

// ---- component checks (defaults like zkSync's health checks) ----
/** A check taking longer than this is slow: still ready, but logged and marked in its details. */
export const DEFAULT_CHECK_SLOW_MS = 500
/** A check taking longer than this has failed. */
export const DEFAULT_CHECK_TIMEOUT_MS = 3_000
/** Time between the starts of two runs of one check (Kubernetes probes' default period). */
export const DEFAULT_CHECK_INTERVAL_MS = 10_000
/** A `health` check imports at most this many of the remote components (a heartbeat carries 64 in all). */
export const MAX_IMPORTED_COMPONENTS = 16
/** Components imported by a `health` check are named CHECK/COMPONENT. */
export const COMPONENT_SEPARATOR = '/'
/** Target weights: 0-100, higher is preferred; a target given without one weighs this. */
export const MIN_TARGET_WEIGHT = 0
export const MAX_TARGET_WEIGHT = 100
export const DEFAULT_TARGET_WEIGHT = 100
/**
 * Backoff between attempts on the same target (OpenZeppelin Monitor's defaults):
 * the first retry waits up to 250 ms, the ceiling doubles per failure, and the
 * reconnect period caps it. Full jitter draws the wait uniformly below the ceiling.
 */
export const BACKOFF_INITIAL_MS = 250
export const BACKOFF_BASE = 2
/**
 * The link watcher (link-watch.ts) sends a yamux PING this long after the last
 * answer and aborts the connection when one is not answered within
 * LINK_PING_TIMEOUT_MS: that is how an agent notices a silent network
 * partition (heartbeats alone are written into the socket's buffers and never
 * answered). Fixed rather than adaptive, so the log can say for how long the
 * aggregator did not answer.
 */
export const LINK_PING_INTERVAL_MS = 10_000
export const LINK_PING_TIMEOUT_MS = 10_000
/**
 * A target without an open heartbeat stream for this long is logged at ERROR
 * (once; INFO when it recovers): the aggregator's default --alert-for, so the
 * agent speaks up when the aggregator would have alerted about this node.
 */
export const DEFAULT_UNREACHABLE_AFTER_MS = 60_000
/** Closing a connection we no longer need never waits longer than this. */
export const HANG_UP_TIMEOUT_MS = 1_000
/** Liveness: the chain poll loop is stuck when it has not finished a poll in this many (period + source timeout)... */
export const LIVENESS_POLL_STALL_ROUNDS = 3
/** ...and never sooner than this (a busy machine delays timers; a restart is a heavy answer). */
export const LIVENESS_POLL_STALL_FLOOR_MS = 30_000
/** --maintenance (and SIGUSR1) hold alerts back this long unless --maintenance-for says otherwise. */
export const DEFAULT_MAINTENANCE_FOR_MS = 60 * 60_000
/** The signal that toggles maintenance on a running agent. */
export const MAINTENANCE_SIGNAL = 'SIGUSR1'

/** A refused agent (its identity used by another agent) logs the refusal at ERROR at most this often; the first at once. */
export const REFUSAL_LOG_PERIOD_MS = 60_000
