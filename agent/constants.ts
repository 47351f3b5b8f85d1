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
/** --maintenance (and SIGUSR1) hold alerts back this long unless --maintenance-for says otherwise. */
export const DEFAULT_MAINTENANCE_FOR_MS = 60 * 60_000
/** The signal that toggles maintenance on a running agent. */
export const MAINTENANCE_SIGNAL = 'SIGUSR1'
