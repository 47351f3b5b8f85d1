/** Every default of the aggregator, named. Durations are milliseconds. */
export const DEFAULT_LISTEN = '/ip4/0.0.0.0/tcp/4100'
export const DEFAULT_HTTP = '127.0.0.1:8080'
export const DEFAULT_DATA_DIR = './heartbeat-data'
export const PEER_KEY_FILE = 'peer.key'

/** Connections: sized for fleets of thousands (libp2p's default is 300). */
export const DEFAULT_MAX_CONNECTIONS = 20_000
/** New connections per second from one host (libp2p's default of 5 locks out agents behind one NAT). */
export const DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND = 200
/** Connections still in the Noise/Yamux upgrade at once (libp2p's default is 10). */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 512
/** Heartbeat streams one connection may hold open (the agent needs one; two allows a reconnect overlap). */
export const MAX_HEARTBEAT_STREAMS_PER_CONNECTION = 2

/** A stream must deliver its first frame within this. */
export const FIRST_FRAME_TIMEOUT_MS = 30_000
/** Later frames: at most this many announced periods apart, and never less than the floor below. */
export const IDLE_STREAM_PERIODS = 10
export const IDLE_STREAM_FLOOR_MS = 60_000

/** Statuses are re-evaluated this often (silence has no event of its own). */
export const STATUS_TICK_MS = 250
/** Until a node has announced a period, assume go-filecoin's default beat. */
export const ASSUMED_PERIOD_MS = 3_000
/** Issue-2 silence rule: no beat within this many announced periods -> stale. */
export const STALE_AFTER_PERIODS = 3
/** A disconnected node turns down when it has not reconnected within this many of its periods. */
export const DOWN_GRACE_PERIODS = 1

/** Live feed: changes are batched and flushed this often. */
export const EVENTS_FLUSH_MS = 250
/** Live feed: a `ping` event this often keeps proxies from closing an idle feed and tells clients the feed is alive. */
export const EVENTS_KEEPALIVE_MS = 15_000
/** Live feed: the fleet summary is sent at most this often (it builds every node's view: ~0.1 s per 10,000 nodes). */
export const EVENTS_SUMMARY_MS = 5_000
/** Live feed: the reconnect delay suggested to plain EventSource clients (the page has its own backoff). */
export const EVENTS_RETRY_MS = 2_000

/** Peers whose bad frames were already logged (bounded, oldest forgotten first). */
export const REJECT_LOG_MEMORY = 10_000
