/** Every default of the fleet page, named. Durations are milliseconds. */

/** The live feed, with node changes batched into one `nodes` event per flush. */
export const EVENTS_URL = '/api/v1/events?batch=1'
export const nodeUrl = (peerId: string): string => `/api/v1/nodes/${encodeURIComponent(peerId)}`
export const historyUrl = (peerId: string): string => `/api/v1/nodes/${encodeURIComponent(peerId)}/history`

export const nodeHistoryUrl = (peerId: string, until?: number): string =>
  `${historyUrl(peerId)}${until === undefined ? '' : `?since=0&until=${Math.max(0, Math.floor(until))}`}`
export const SESSION_URL = '/api/v1/session'

/**
 * Below this width the node list is a list of cards and the page scrolls as
 * one document; from it up, a table in its own scroll box. The table's
 * columns fit from here without sideways scrolling.
 */
export const COMPACT_MEDIA = '(max-width: 1279px)'
/**
 * Rows (and cards) have one fixed height per layout: that is what makes
 * rendering only the visible ones cheap. The CSS sets it (--row-height);
 * this is the table's, used until the CSS is read.
 */
export const ROW_HEIGHT_PX = 52
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
/** Lines of component chips a table row has room for (a card has one). */
export const TABLE_CHIP_LINES = 2
/** Status changes shown in the detail view at first, and added per "Load older". */
export const TIMELINE_PAGE = 20
/** A node's uptime in its detail view is fetched again this often while it stays open. */
export const UPTIME_REFRESH_MS = 60_000
/** How long a copy button says "Copied". */
export const COPIED_FEEDBACK_MS = 1_500

/** Firing alerts listed before "Show all"; and the most listed even then (the API has the rest). */
export const ALERTS_SHOWN = 5
export const ALERTS_SHOWN_MAX = 200
export const ALERTS_URL = '/api/v1/alerts'
export const AGGREGATORS_URL = '/api/v1/aggregators'

/** The aggregators sharing a store are asked for this often (GET /api/v1/aggregators: a handful of rows). */
export const AGGREGATORS_POLL_MS = 10_000

/**
 * The heaviest-head tile's agreement tone: green only when at least this share of a network's reporting
 * nodes agree (on the heaviest head, or one block behind it within a block time); amber from the second;
 * red below ("0 of N agree" is red). A network with no reporting node shows no agreement at all.
 */
export const AGREEMENT_OK_SHARE = 0.9
export const AGREEMENT_WARN_SHARE = 0.5
