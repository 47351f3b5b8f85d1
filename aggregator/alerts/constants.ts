/** Every default of alerting, named. Durations are milliseconds. */

/** How long a condition must hold before its alert fires, unless a rule or --alert-for says otherwise. */
export const DEFAULT_ALERT_FOR_MS = 60_000
/** A firing alert is announced again this often (Alertmanager's default repeat_interval). */
export const DEFAULT_REPEAT_INTERVAL_MS = 4 * 60 * 60_000
/** Rules are evaluated on the fleet's status tick, at most this often (the tick itself is faster). */
export const EVALUATE_EVERY_MS = 1_000
/**
 * A large fleet makes an evaluation expensive (it reads the whole fleet view):
 * the interval then grows so evaluating takes at most this share of the time.
 */
export const EVALUATE_MAX_SHARE = 0.1
/** Resolved alerts kept for the API (oldest forgotten first). */
export const RESOLVED_MEMORY = 100

/** Built-in rule thresholds. */
export const DEFAULT_MAX_LAG_BLOCKS = 10
export const DEFAULT_HEAD_STUCK_AFTER_MS = 5 * 60_000
export const DEFAULT_MIN_HEALTHY_NODES = 1
export const DEFAULT_MAX_IN_DISPUTE = 0

/** Maintenance windows: longest allowed, most node windows held, longest reason. */
export const MAX_MAINTENANCE_MS = 30 * 24 * 60 * 60_000
export const MAX_MAINTENANCE_ENTRIES = 10_000
export const MAX_MAINTENANCE_REASON = 200

/** Receivers: pending notifications held per receiver; more drops the oldest. */
export const RECEIVER_QUEUE_CAPACITY = 1_000
/** One delivery attempt (connect, send, answer) must finish within this. */
export const DELIVERY_TIMEOUT_MS = 5_000
/** Retries: exponential from the first delay, capped, with jitter, given up after the attempts. */
export const RETRY_INITIAL_DELAY_MS = 500
export const RETRY_MAX_DELAY_MS = 30_000
export const RETRY_FACTOR = 2
export const RETRY_JITTER = 0.5
export const RETRY_MAX_ATTEMPTS = 8
/** A receiver's Retry-After is honoured up to this. */
export const RETRY_AFTER_CAP_MS = 5 * 60_000
/** At stop, pending deliveries get this long before they are abandoned. */
export const RECEIVER_DRAIN_MS = 2_000

/**
 * Alertmanager forgets an alert whose endsAt passed, so a firing alert is
 * re-sent this often with endsAt = now + ALERTMANAGER_ENDS_AFTER_RESENDS
 * re-send intervals (what Prometheus does).
 */
export const ALERTMANAGER_RESEND_MS = 60_000
export const ALERTMANAGER_ENDS_AFTER_RESENDS = 4
export const ALERTMANAGER_PATH = '/api/v2/alerts'

/**
 * Alerting that fails over (a shared store): one aggregator at a time holds
 * the alerting lease, renewing it every LEADER_RENEW_MS for LEADER_LEASE_MS
 * (database clock). When the leader dies, another takes over within
 * LEADER_LEASE_MS + LEADER_RENEW_MS: under two lease periods. The leader stops
 * acting LEADER_SAFETY_MS before its lease could run out by its own clock, so
 * two never act at once.
 */
export const ALERT_LEASE_NAME = 'alerting'
export const LEADER_LEASE_MS = 6_000
export const LEADER_RENEW_MS = 2_000
export const LEADER_SAFETY_MS = 1_000
/** Followers read the leader's saved alert state, and every aggregator the operators' windows, this often. */
export const ALERT_FOLLOW_MS = 1_000
/** A firing alert's text (a growing "down for 5m") is saved at most this often; its state changes are saved at once. */
export const ALERT_TEXT_REFRESH_MS = 10_000
/** A component's error text is cut to this many characters in alerts (it reaches chat messages and subjects). */
export const MAX_CAUSE_CHARS = 300
/** Fleet-wide alerts name at most this many nodes, then "and N more" (a message stays readable). */
export const MAX_NAMED_NODES = 5
/** A node's alert lists at most this many failing components by name and error. */
export const MAX_NAMED_COMPONENTS = 3
/**
 * Quiet hours let these severities through unless a receiver says otherwise:
 * a monitor that keeps a dead node to itself until morning is not trusted.
 */
export const DEFAULT_QUIET_EXCEPT = ['critical'] as const
/** A test message (test-alert, POST /api/v1/alerts/test) must get through within this, retries and rate limits included. */
export const TEST_DEADLINE_MS = 30_000

/** The dead man's switch (--deadman-url) is pinged at least this often: Healthchecks' shortest period is a minute. */
export const DEFAULT_DEADMAN_INTERVAL_MS = 60_000
/** Between pings, the aggregator's health is looked at this often, so a change reaches the switch within it. */
export const DEADMAN_HEALTH_POLL_MS = 5_000
/** One ping must be answered within this. */
export const DEADMAN_TIMEOUT_MS = 10_000
/** While the switch cannot be reached, at most one log line per this. */
export const DEADMAN_ERROR_LOG_MS = 10 * 60_000
