import {
  DEFAULT_BEAT_BURST, DEFAULT_BEAT_RATE_PER_SECOND, DEFAULT_FLOOD_PENALTY_MS, DEFAULT_MAX_CONNECTIONS_PER_IP, DEFAULT_MAX_NODES,
  FIRST_FRAME_TIMEOUT_MS, FLOOD_DROPS, FLOOD_WINDOW_MS, MAX_CONNECTIONS_PER_PEER,
} from '../constants.ts'

/**
 * The bounds the ingest puts on each peer; defaults in constants.ts, flags in
 * security-cli.ts. Peer admission enforces the connection bounds, the beat
 * budget the rest. (Connections in all, handshakes in progress and new
 * connections per host per second are libp2p's own: ConnectionLimits in
 * host.ts.)
 */
export interface IngestLimits {
  maxConnectionsPerIp: number
  maxConnectionsPerPeer: number
  /** Nodes tracked by the fleet; beats of further new peers are refused. */
  maxNodes: number
  beatRatePerSecond: number
  beatBurst: number
  floodDrops: number
  floodWindowMs: number
  floodPenaltyMs: number
  /** A heartbeat stream that sends nothing for this long is reset. */
  firstFrameTimeoutMs: number
}

export const DEFAULT_INGEST_LIMITS: Readonly<IngestLimits> = {
  maxConnectionsPerIp: DEFAULT_MAX_CONNECTIONS_PER_IP,
  maxConnectionsPerPeer: MAX_CONNECTIONS_PER_PEER,
  maxNodes: DEFAULT_MAX_NODES,
  beatRatePerSecond: DEFAULT_BEAT_RATE_PER_SECOND,
  beatBurst: DEFAULT_BEAT_BURST,
  floodDrops: FLOOD_DROPS,
  floodWindowMs: FLOOD_WINDOW_MS,
  floodPenaltyMs: DEFAULT_FLOOD_PENALTY_MS,
  firstFrameTimeoutMs: FIRST_FRAME_TIMEOUT_MS,
}
