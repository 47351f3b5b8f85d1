// The shapes the page reads from the aggregator. They come from the server's
// own types (erased at build time), plus fields later issues add, which the
// page shows when present and does without otherwise.
import type { AlertView, AlertsFeedDocument, FleetAlerts, MaintenanceDocument, MaintenanceView } from '../../alerts/alerting.ts'
import type { NetworkConsensus } from '../../fleet/consensus.ts'
import type { FleetSummary, NetworkView, NodeView } from '../../fleet/view.ts'
import type { NodeStatus } from '../../fleet/types.ts'
import type { AggregatorInfo } from '../../http/server.ts'
import type { AggregatorView } from '../../store/cluster.ts'
import type { Uptime } from '../../store/uptime.ts'

export type { Uptime, NodeStatus, AggregatorInfo, AggregatorView, AlertView, FleetAlerts, MaintenanceDocument, MaintenanceView }

/**
 * A node as the feed sends it. Every string in it was chosen by the node: show it as text only.
 * `maintenance`: the window in force (an operator's or the one its agent announces); absent from an aggregator without alerting.
 */
export type PageNode = NodeView & {
  maintenance?: MaintenanceView | null
  /** Uptime over the hour, day and week (0..1, null when not watched): in the snapshot and GET /api/v1/nodes/:peerId. */
  uptime?: Uptime
}

/** GET /api/v1/session. */
export interface SessionState {
  signedIn: boolean
  role: 'admin' | 'viewer' | null
  expiresAt: string | null
  /** Whether any token can sign in here. */
  signIn: boolean
  /** --details: whether signing in shows more. */
  details: 'never' | 'when-authorized' | 'always'
}

/** Per network consensus, as the summary carries it (how it compares with the clock: from aggregators that say). */
export type NetworkSummary = NetworkConsensus & Partial<Omit<NetworkView, keyof NetworkConsensus>>

/** The summary; the page also copes with an older aggregator that sends less. */
export type PageSummary = Partial<Omit<FleetSummary, 'networks'>> & { networks?: NetworkSummary[] }

/** GET /api/v1/fleet, and the feed's `snapshot` event. */
export interface FleetDocument {
  aggregator: AggregatorInfo
  generatedAt: string
  summary: PageSummary
  nodes: PageNode[]
  /** Firing alerts and the pending count; absent from an aggregator without alerting. */
  alerts?: FleetAlerts
  /** Maintenance windows in force. */
  maintenance?: MaintenanceDocument
  /** The aggregators sharing the store (one for SQLite); absent from older aggregators. */
  aggregators?: AggregatorView[]
}

/** The feed's `alerts` event: the snapshot's two alerting fields, sent again when they change. */
export type AlertsEvent = AlertsFeedDocument

/** The feed's `status` event. */
export interface StatusChangeEvent {
  peerId: string
  from?: NodeStatus | null
  to: NodeStatus
  reason: string
  at: string
}
