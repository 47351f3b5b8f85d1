// The shapes the page reads from the aggregator. They come from the server's
// own types (erased at build time), plus fields later issues add, which the
// page shows when present and does without otherwise.
import type { FleetSummary, NodeView } from '../../fleet/view.ts'
import type { NodeStatus } from '../../fleet/types.ts'
import type { AggregatorInfo } from '../../http/server.ts'

export type { NodeStatus, AggregatorInfo }

/** A node as the feed sends it. Every string in it was chosen by the node: show it as text only. */
export interface PageNode extends NodeView {
  /** Blocks behind the greatest height of its network (semantics issue). */
  lag?: number
  /** Phi-accrual suspicion level (semantics issue). */
  phi?: number
  /** Another peer uses the same nickname (semantics issue). */
  duplicateNickname?: boolean
}

/** Per network consensus, as the semantics issue adds it to the summary. */
export interface NetworkSummary {
  network: string
  heaviestHead: string
  height: number
  inConsensus: number
  inDispute: number
  nodes: number
}

export interface PageSummary extends Partial<FleetSummary> {
  networks?: NetworkSummary[]
}

/** GET /api/v1/fleet, and the feed's `snapshot` event. */
export interface FleetDocument {
  aggregator: AggregatorInfo
  generatedAt: string
  summary: PageSummary
  nodes: PageNode[]
}

/** The feed's `status` event. */
export interface StatusChangeEvent {
  peerId: string
  from?: NodeStatus | null
  to: NodeStatus
  reason: string
  at: string
}
