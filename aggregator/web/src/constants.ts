/** Every default of the fleet page, named. Durations are milliseconds. */

/** The live feed, with node changes batched into one `nodes` event per flush. */
export const EVENTS_URL = '/api/v1/events?batch=1'
export const nodeUrl = (peerId: string): string => `/api/v1/nodes/${encodeURIComponent(peerId)}`
export const historyUrl = (peerId: string): string => `/api/v1/nodes/${encodeURIComponent(peerId)}/history`

/** Table rows have one fixed height: that is what makes rendering only the visible rows cheap. */
export const ROW_HEIGHT_PX = 44
/** Rows rendered above and below the viewport, so fast scrolling shows no gaps. */
export const OVERSCAN_ROWS = 10
/** Relative times ("3s ago") are redrawn this often. */
export const TICK_MS = 1_000

/** Reconnect backoff after the live feed drops: first wait, growth, cap, and +-jitter share. */
export const RECONNECT_MIN_MS = 500
export const RECONNECT_FACTOR = 2
export const RECONNECT_MAX_MS = 30_000
export const RECONNECT_JITTER = 0.2
/** The aggregator pings every 15 s; this long without any event means the feed is dead even if the socket is not. */
export const FEED_SILENCE_MS = 45_000

/** Height samples kept per node for its chart (only changes of height are recorded). */
export const HEIGHT_HISTORY_POINTS = 240
/** A node's history request gives up after this (the chart does without it). */
export const HISTORY_TIMEOUT_MS = 10_000
/** Status changes kept per node for its detail view. */
export const STATUS_HISTORY_ENTRIES = 50
/** Component chips shown in a table row before "+N". */
export const MAX_ROW_CHIPS = 4
/** How long a copy button says "Copied". */
export const COPIED_FEEDBACK_MS = 1_500

/** Firing alerts listed before "Show all"; and the most listed even then (the API has the rest). */
export const ALERTS_SHOWN = 5
export const ALERTS_SHOWN_MAX = 200
export const ALERTS_URL = '/api/v1/alerts'
export const AGGREGATORS_URL = '/api/v1/aggregators'

/** The aggregators sharing a store are asked for this often (GET /api/v1/aggregators: a handful of rows). */
export const AGGREGATORS_POLL_MS = 10_000
