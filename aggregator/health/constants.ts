/** Defaults of the aggregator's own health and of its shutdown, named. Durations are milliseconds. */

/** The ingest component looks at what came in over this sliding window. */
export const INGEST_HEALTH_WINDOW_MS = 60_000
/** The window keeps a sample of the ingest counters this often (and on each health check). */
export const INGEST_HEALTH_SAMPLE_MS = 5_000
/** Samples closer together than this are not kept (a probe storm cannot grow the window). */
export const INGEST_HEALTH_MIN_SAMPLE_SPACING_MS = 1_000
/** Ingest is `affected` when it rejects at least this share of what it gets in the window... */
export const INGEST_AFFECTED_REJECT_RATIO = 0.5
/** ...and the window holds at least this many frames and rejections (a few bad frames prove nothing). */
export const INGEST_HEALTH_MIN_ATTEMPTS = 20

/**
 * On SIGTERM readiness turns DOWN at once, then the aggregator keeps serving
 * for this long before it closes (so load balancers and Kubernetes endpoints
 * stop sending first). Short by default; raise it under Kubernetes.
 */
export const DEFAULT_SHUTDOWN_DRAIN_MS = 1_000
/** After the drain, the stop itself gets this long before the process exits anyway. */
export const STOP_DEADLINE_MS = 5_000
