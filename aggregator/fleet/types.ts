import type { Heartbeat } from '../../shared/heartbeat.ts'
import type { IdentityConflict } from './identity.ts'
import type { ArrivalWindow } from './phi.ts'

/** The status the aggregator derives for each node (docs/fleet-semantics.md, "Statuses"). */
export const NODE_STATUSES = ['healthy', 'degraded', 'unhealthy', 'stale', 'down', 'stopped'] as const
export type NodeStatus = typeof NODE_STATUSES[number]

export type WireProtocol = 'v2' | 'legacy'

export type { Instant } from '../../shared/clock.ts'

/**
 * What the aggregator holds about one node: the last heartbeat plus what it
 * observed itself. Fields ending in `Mono` are monotonic (for judging only);
 * the others are wall-clock stamps (ms since the epoch, for display and the
 * store), and a node's stamps never go back: a wall clock stepped back keeps
 * the previous stamp until it catches up (stamp = max(wall, previous)).
 */
export interface NodeRecord {
  readonly peerId: string
  readonly protocol: WireProtocol
  /** Wall stamps: first beat, last beat. */
  readonly firstSeen: number
  readonly lastSeen: number
  /** Monotonic time of the last beat. */
  readonly lastSeenMono: number
  readonly beat: Heartbeat
  readonly beats: number
  /** Beats known lost: gaps in `seq` within one agent run. */
  readonly seqGaps: number
  readonly connected: boolean
  /** The current connection's start and the last disconnect: wall stamps (said in reasons) and monotonic (judged). */
  readonly connectedAt: number | undefined
  readonly connectedAtMono: number | undefined
  readonly disconnectedAt: number | undefined
  readonly disconnectedAtMono: number | undefined
  readonly remoteAddr: string | undefined
  /** When the head last changed: wall stamp (shown) and monotonic (judged). */
  readonly lastHeadChange: number
  readonly lastHeadChangeMono: number
  /** Arrival minus the agent's `sentAt`: clock skew plus transit; null when the wire carries no send time (legacy). */
  readonly skewMs: number | null
  /** Heartbeat inter-arrival times (monotonic) for the phi-accrual failure detector. */
  readonly arrivals: ArrivalWindow
  /** Brought back from the store at start and not heard from since (cleared by the next beat). */
  readonly restored?: boolean
  /** Another agent uses this peer id at once (identity.ts); set and cleared by `identity` events only. */
  readonly identityConflict?: IdentityConflict
  /**
   * Held by another aggregator of a shared store: a read-only copy of what
   * that aggregator wrote, judged by it (its verdict), never re-derived here.
   * A beat of the node's own here makes the record local again.
   */
  readonly remote?: RemoteHolding
}

/** What a remote record carries of its holder (docs/store.md, "Many aggregators, one fleet"). */
export interface RemoteHolding {
  /** The aggregator holding the node's connection: its name in the store (its peer id, or --instance). */
  readonly holder: string
  /** The holder's verdict, or stale when the holder stopped reporting. */
  readonly verdict: StatusVerdict
  /** Not heard from since its holder restarted, lately: alerts give its agent time to reconnect. */
  readonly restored?: boolean
  /** Since when (the holder's wall stamp) the node has had the holder's status; undefined when this aggregator judged the verdict (its holder stopped reporting). */
  readonly since?: number
}

export type FleetEvent =
  | { type: 'beat', peerId: string, heartbeat: Heartbeat, protocol: WireProtocol, remoteAddr?: string }
  | { type: 'connected', peerId: string, remoteAddr?: string }
  | { type: 'disconnected', peerId: string }
  /** The ingest saw (or stopped seeing) a second agent on this peer id; `conflict` undefined clears it. */
  | { type: 'identity', peerId: string, conflict: IdentityConflict | undefined }

export interface StatusVerdict {
  status: NodeStatus
  /**
   * Why, in words; empty only for healthy. It states absolute times ("no
   * heartbeat since 12:00:03Z"), never ages, so it changes only when
   * something happens, not as time passes: views render durations.
   */
  reason: string
  /** Wall stamp: when the status turns worse unless something happens (a disconnected node's grace ends). */
  until?: number
}
