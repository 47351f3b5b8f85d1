/**
 * The aggregator's defaults for ingest, fleet status, the live feed and HTTP,
 * named, each with its reason. Durations are milliseconds. The others live
 * with their folder: alerts/constants.ts, store/constants.ts,
 * health/constants.ts (own health, shutdown), metrics/constants.ts, and
 * web/src/constants.ts (the page); the wire's limits are in
 * shared/protocol.ts, the agent's in agent/constants.ts.
 */
export const DEFAULT_LISTEN = '/ip4/0.0.0.0/tcp/4100'
export const DEFAULT_HTTP = '127.0.0.1:8080'
export const DEFAULT_DATA_DIR = './heartbeat-data'
export const PEER_KEY_FILE = 'peer.key'

/** Connections: sized for fleets of thousands (libp2p's default is 300). */
export const DEFAULT_MAX_CONNECTIONS = 20_000
/** New connections per second from one host (libp2p's default of 5 locks out agents behind one NAT). */
export const DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND = 200
/** Connections still in the Noise/Yamux upgrade at once, at most (libp2p's default is 10); handshake admission adapts below it. */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 512
/**
 * How long an agent gives a connection attempt (TCP, Noise, Yamux, the heartbeat
 * stream): agent/constants.ts DEFAULT_DIAL_TIMEOUT_MS. Past it the agent has
 * given up, so the aggregator stops working on an inbound upgrade then too
 * (libp2p's inboundUpgradeTimeout, 10 s by default).
 */
export const AGENT_DIAL_TIMEOUT_MS = 5_000
/**
 * Handshake admission (ingest/handshake-admission.ts): a new handshake starts
 * only while those under way can finish within half the agents' dial timeout
 * at the rate handshakes have been completing (the other half is for the
 * agent's side, the TCP accept queue and the heartbeat stream's negotiation).
 */
export const HANDSHAKE_WAIT_BUDGET_MS = AGENT_DIAL_TIMEOUT_MS / 2
/** ...always admitting this many at once (a cold start, before anything completed)... */
export const MIN_PENDING_HANDSHAKES = 64
/** ...with the completion rate measured over this sliding window. */
export const HANDSHAKE_RATE_WINDOW_MS = 1_000
/** Heartbeat streams one connection may hold open (the agent needs one; two allows a reconnect overlap). */
export const MAX_HEARTBEAT_STREAMS_PER_CONNECTION = 2

/** A stream must deliver its first frame within this (a few beat periods; --first-frame-timeout). */
export const FIRST_FRAME_TIMEOUT_MS = 10_000
/** Later frames: at most this many announced periods apart, and never less than the floor below. */
export const IDLE_STREAM_PERIODS = 10
export const IDLE_STREAM_FLOOR_MS = 60_000
/** ...and never more than this, whatever period a peer announces. */
export const IDLE_STREAM_CEILING_MS = 10 * 60_000
/** Legacy (go-filecoin) streams announce no period: later lines must come within this. */
export const LEGACY_IDLE_STREAM_MS = IDLE_STREAM_FLOOR_MS

/** Statuses are re-evaluated this often (silence has no event of its own). */
export const STATUS_TICK_MS = 250
/**
 * A status tick this late means the event loop was held: heartbeats may wait unread, so the tick lets the
 * loop read its sockets before judging silence (fleet/ticker.ts). Well above timer jitter on a busy machine.
 */
export const STATUS_TICK_LATE_MS = 50
/** Until a node has announced a period (or been observed), assume go-filecoin's default beat. */
export const ASSUMED_PERIOD_MS = 3_000
/** A disconnected node turns down when it has not reconnected within this many of its periods. */
export const DOWN_GRACE_PERIODS = 1

/**
 * Phi-accrual failure detector (see fleet/phi.ts and docs/fleet-semantics.md).
 * With these defaults a perfectly regular node is suspected about 2 periods
 * after its last beat, one with 25% jitter after about 2.3 periods.
 */
/** phi above this -> stale (Akka's and Cassandra's default). */
export const PHI_THRESHOLD = 8
/** Inter-arrival times remembered per node (5 minutes of 3 s beats). */
export const PHI_WINDOW_SIZE = 100
/** Fewer learned intervals than this -> the fallback rule below decides. */
export const PHI_MIN_SAMPLES = 5
/** Floor of the standard deviation, in beat periods (keeps very regular senders from looking fragile). */
export const PHI_MIN_STD_DEVIATION_PERIODS = 0.1
/** Silence tolerated beyond the mean interval before phi climbs, in beat periods (GC pauses, queueing). */
export const PHI_ACCEPTABLE_PAUSE_PERIODS = 0.5
/** Gaps longer than this many periods are outages, not samples of the rhythm. */
export const PHI_MAX_LEARNED_INTERVAL_PERIODS = 3
/** Until the detector has PHI_MIN_SAMPLES: no beat within this many periods -> stale. */
export const PHI_FALLBACK_STALE_PERIODS = 3

/** A node lagging more than this many heights behind its network's maximum is degraded. */
export const DEFAULT_LAG_THRESHOLD = 5
/** A node whose head has not changed for longer than this is degraded (stuck). */
export const DEFAULT_STUCK_AFTER_MS = 5 * 60_000
/**
 * A node whose head is older than this many of its network's block times is
 * degraded, even when every node agrees (docs/fleet-semantics.md, "Sync
 * judged by time"; --head-age-threshold sets one threshold for every network).
 * Five: an in-sync node's head is up to one block time old plus propagation
 * (Lotus allows 6 s), plus the agent's poll and beat; Filecoin's null rounds
 * (an epoch with no block, ~0.7% of epochs) make two or three blocks'
 * worth of age happen now and then. Filecoin: 2m30s; Ethereum: 1m.
 */
export const HEAD_AGE_BLOCKS = 5
/**
 * The head-age threshold for a network whose block time the aggregator does
 * not know (fleet/chains.ts): ten minutes, loose enough for any chain with
 * blocks up to two minutes apart, and still far below a stalled node's hours.
 */
export const DEFAULT_UNKNOWN_HEAD_AGE_MS = 10 * 60_000
/**
 * A head's age is measured by the agent's clock (its sentAt against the
 * block's time) and aged by ours; when a beat arrives this far from its
 * sentAt (clock skew plus transit), the reason says the two clocks differ.
 */
export const LARGE_SKEW_MS = 10_000

/** Nodes silent for longer than this leave the view (counted as forgotten). 7 days. */
export const DEFAULT_FORGET_AFTER_MS = 7 * 24 * 3_600_000

/** Live feed: changes are batched and flushed this often. */
export const EVENTS_FLUSH_MS = 250
/** Live feed: a `ping` event this often keeps proxies from closing an idle feed and tells clients the feed is alive. */
export const EVENTS_KEEPALIVE_MS = 15_000
/** Live feed: the fleet summary is sent at most this often (a walk over every node's record). */
export const EVENTS_SUMMARY_MS = 5_000
/** Live feed: the reconnect delay suggested to plain EventSource clients (the page has its own backoff). */
export const EVENTS_RETRY_MS = 2_000

/**
 * The fleet documents (GET /api/v1/fleet and /api/v1/fleet/health) are built
 * from the cached node views; while the fleet keeps changing, a document
 * holds back the beat stream for this many times what its build took, so
 * building stays under 5% of the process's time however many read it (about
 * a second at 10,000 nodes; a small fleet's document follows at once)...
 */
export const FLEET_DOCUMENT_HOLD_FACTOR = 20
/** ...and never longer than this: requests in between get the same bytes, at most this old (plus a publisher tick). */
export const FLEET_DOCUMENT_REBUILD_MS = 1_000
/**
 * A node's cached view is rebuilt once it is this old even if nothing said it
 * changed: phi (the suspicion of a silence) and the list's uptime move with
 * time alone. Five seconds is well within a beat period's worth of phi.
 */
export const NODE_VIEW_MAX_AGE_MS = 5_000
/**
 * A document read within this long is kept current ahead of its requests
 * (FleetDocuments' publisher: node views rebuilt and serialised as they
 * change, the next version built and compressed once the hold is over).
 * Nobody reading for this long: the publisher stops, and the next request
 * builds what it needs itself.
 */
export const FLEET_DEMAND_MS = 10_000
/** How often the publisher looks: the work of a busy fleet in slices this far apart (one status tick). */
export const FLEET_PUBLISH_TICK_MS = STATUS_TICK_MS
/**
 * Cached node views rebuilt at most per refresh for the beat stream (new,
 * gone and urgently changed nodes do not count). A block that moves every
 * lag at once (10,000 views) is spread over four refreshes, about 25 ms of
 * work each here, rather than one stop of a tenth of a second.
 */
export const NODE_VIEW_REBUILD_BUDGET = 2_500
/**
 * ...but a view the budget defers is rebuilt once it has waited this long,
 * whatever the budget: the spread covers the four publisher ticks a burst
 * needs, and a document built after a quiet spell (no refresh in between)
 * brings every changed view up to date instead of a budget's worth.
 */
export const NODE_VIEW_DEFER_MAX_MS = 1_000
/** Filtered or paged answers of one fleet document version kept for repeat requests (least recently used dropped). */
export const FLEET_RENDITIONS_KEPT = 32
/** ...and at most this many bytes of them (a filter that keeps most of 10,000 nodes is most of a 9 MiB document). */
export const FLEET_RENDITIONS_MAX_BYTES = 32 * 1024 * 1024
/** `?limit=` of GET /api/v1/fleet: at most this many nodes per page. */
export const FLEET_PAGE_MAX_LIMIT = 10_000
/** Answers smaller than this are sent uncompressed (the encoding would save less than it costs). */
export const COMPRESS_MIN_BYTES = 1_024
/**
 * Compression of the cached documents, once per version and encoding, off the
 * event loop (zlib's thread pool). At 10,000 nodes (~9 MiB of JSON) gzip 6
 * and brotli 4 each take tens of milliseconds and shrink it 20x or more;
 * brotli's higher qualities cost seconds.
 */
export const GZIP_LEVEL = 6
export const BROTLI_QUALITY = 4

/** Peers whose bad frames were already logged (bounded, oldest forgotten first). */
export const REJECT_LOG_MEMORY = 10_000

/** Formatted timestamps kept for reuse by the fleet view (about 4 per node; ~100 bytes each). */
export const ISO_MEMO_LIMIT = 200_000

// Abuse limits (see docs/security.md). Each has a flag unless noted.
/**
 * Open connections from one IP address (--max-connections-per-ip): keeps one host from taking every
 * slot, while NAT'd fleets (and load tests on loopback) share an address.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 1024
/**
 * Streams a peer may open on one connection, of any protocol (yamux's default is 1000, each able to
 * buffer a 256 KiB window); at most MAX_HEARTBEAT_STREAMS_PER_CONNECTION of them carry heartbeats.
 */
export const MAX_MUXED_STREAMS_PER_CONNECTION = 8
/** Open connections of one peer id (an agent needs one; no flag). */
export const MAX_CONNECTIONS_PER_PEER = 4
/** Nodes the fleet tracks; a new peer beyond this is refused (--max-nodes). */
export const DEFAULT_MAX_NODES = 20_000
/**
 * Per-peer beat budget: sustained beats per second and burst (--beat-rate, --beat-burst). An agent
 * beats every 3 s by default; 10/s leaves room for 100 ms test periods and a second service.
 */
export const DEFAULT_BEAT_RATE_PER_SECOND = 10
export const DEFAULT_BEAT_BURST = 20
/** This many dropped beats within the window make a peer a flooder (no flag). */
export const FLOOD_DROPS = 50
export const FLOOD_WINDOW_MS = 10_000
/** A flooder is disconnected and refused for this long (--flood-penalty). */
export const DEFAULT_FLOOD_PENALTY_MS = 5 * 60_000
/** Flooders held in the penalty box at once (oldest released first when full). */
export const PENALTY_BOX_CAPACITY = 10_000
/** Peers whose beat budget is remembered (least recently seen forgotten first). */
export const RATE_LIMITER_MAX_PEERS = 2 * DEFAULT_MAX_CONNECTIONS
/** Refused connections and floods: at most this many log lines per window, the rest counted. */
export const REFUSAL_LOG_LINES = 10
export const REFUSAL_LOG_WINDOW_MS = 60_000

// HTTP limits and exposure (see docs/security.md).
/** Request bodies (the API takes none today; bounded anyway). */
export const HTTP_BODY_LIMIT_BYTES = 16 * 1024
/** All request headers together (Node's default is 16 KiB). */
export const HTTP_MAX_HEADER_BYTES = 8 * 1024
/** A request's headers must arrive within this of its first byte (a client trickling headers: slow-loris). */
export const HTTP_HEADERS_TIMEOUT_MS = 10_000
/** A request must arrive whole (headers and body) within this (a body sent slowly). The live feed's response is not bounded by it. */
export const HTTP_REQUEST_TIMEOUT_MS = 30_000
/**
 * An idle keep-alive connection is closed after this (Node adds its own 1 s grace). Above the 60 s idle timeout of
 * common load balancers and proxies, so they never reuse a connection the aggregator is closing (fastify's default).
 */
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 72_000
/** Node looks for requests past the two deadlines above this often: a cut comes at most this late (Node's default is 30 s). */
export const HTTP_TIMEOUT_CHECK_MS = 1_000
/** Live-feed clients at once; more get 503 (--max-feed-clients). */
export const DEFAULT_MAX_FEED_CLIENTS = 256
/** A live-feed client is dropped when this much waits unsent for it... */
export const FEED_MAX_BUFFERED_BYTES = 1024 * 1024
/** ...or when it has not drained its socket for this long (substrate-telemetry: 10 s). */
export const FEED_MAX_BACKPRESSURE_MS = 10_000

/** A disconnect is applied this long after libp2p reports it, so frames still in the closing streams fold first. */
export const DISCONNECT_SETTLE_MS = 50

// One identity, one node (see ingest/identity.ts and docs/fleet-semantics.md).
/**
 * A node stays flagged this long after the last sign of a second agent on its peer id. A refused agent retries
 * at its reconnect period (10 s by default, with jitter), so a conflict that goes on never clears in between.
 */
export const IDENTITY_CONFLICT_HOLD_MS = 2 * 60_000
/** A refused stream is reset this long after its refusal frame, unless the agent closes it first (older agents ignore the frame). */
export const IDENTITY_REFUSAL_GRACE_MS = 2_000
/** Agent runs (and their addresses) remembered per conflict; more are counted, not listed. */
export const IDENTITY_MAX_AGENTS_LISTED = 8
/** How often conflicts are checked for expiry. */
export const IDENTITY_EXPIRY_CHECK_MS = 1_000
