import { ISO_MEMO_LIMIT } from '../constants.ts'
import type { AppHealth } from '../../shared/health.ts'
import { sortedNetworks, type NetworkConsensus } from './consensus.ts'
import type { FleetConsensus, FleetState } from './fleet-state.ts'
import { lagOf, phiAt } from './status.ts'
import { NODE_STATUSES, type NodeRecord, type NodeStatus, type StatusVerdict } from './types.ts'

/** One node as the JSON API and the live feed show it. Times are ISO 8601 (aggregator clock). */
export interface NodeView {
  peerId: string
  nickname: string
  /** The nickname, or the peer id when the nickname is empty. */
  displayName: string
  /** Another peer id carries the same nickname (never merged: identity is the peer id). */
  duplicateNickname: boolean
  head: string
  height: number
  /** Heights behind the maximum of the node's network. */
  lag: number
  minerAddress: string
  network: string
  status: NodeStatus
  reason: string
  connected: boolean
  lastSeen: string
  firstSeen: string
  lastHeadChange: string
  health: AppHealth
  period: number
  seq: number
  beats: number
  seqGaps: number
  /** phi of the current silence (failure detector); null until the node has sent enough beats. */
  phi: number | null
  /** Arrival minus the agent's sentAt (clock skew plus transit); null for legacy nodes. */
  skewMs: number | null
  protocol: string
  agent: { version: string, startedAt: string }
  /** The head's own timestamp as the agent reported it (agent's source, not judged here); null when unknown. */
  headTime: string | null
  /** Where the agent reads head and height (`demo`, `lotus`, `eth`, `command`, `embedded`); null when not said. */
  source: string | null
  /** Another agent uses this node's peer id at once (docs/fleet-semantics.md); null when not. Addresses only with details. */
  identityConflict: IdentityConflictView | null
}

export interface IdentityConflictView {
  agents: number
  addresses?: string[]
  since: string
}

/** One network in the summary (go-filecoin's counts, per network). */
export type NetworkView = NetworkConsensus

export interface FleetSummary {
  total: number
  byStatus: Record<NodeStatus, number>
  connected: number
  /** Greatest height over all networks' reporting nodes. */
  maxHeight: number
  networks: NetworkView[]
  /** Nodes that carry a nickname some other peer id carries too. */
  duplicateNicknames: number
  /** Nodes that left the view after being silent longer than forget-after. */
  forgotten: number
  /** The network this aggregator accepts (--network), or null for any. */
  network: string | null
}

/** What a node's view needs beyond its record and verdict. */
export interface NodeViewContext {
  lag: number
  phi: number | undefined
  duplicateNickname: boolean
}

/**
 * ISO 8601 of a time, memoised: Date#toISOString costs about a microsecond and
 * a fleet view formats four times per node, mostly the same instants read
 * after read (a node's first seen, agent start, head change and last beat
 * only move when it beats). Bounded: cleared when it holds ISO_MEMO_LIMIT entries.
 */
const isoMemo = new Map<number, string>()
function iso (ms: number): string {
  let text = isoMemo.get(ms)
  if (text === undefined) {
    if (isoMemo.size >= ISO_MEMO_LIMIT) isoMemo.clear()
    text = new Date(ms).toISOString()
    isoMemo.set(ms, text)
  }
  return text
}
/** One collator for all sorts: String#localeCompare builds one per call, which dominates a large fleet's view. */
const byName = new Intl.Collator()

export function nodeView (record: NodeRecord, verdict: StatusVerdict, context: NodeViewContext): NodeView {
  const hb = record.beat
  return {
    peerId: record.peerId,
    nickname: hb.nickname,
    displayName: hb.nickname !== '' ? hb.nickname : record.peerId,
    duplicateNickname: context.duplicateNickname,
    head: hb.head,
    height: hb.height,
    lag: context.lag,
    minerAddress: hb.minerAddress,
    network: hb.network,
    status: verdict.status,
    reason: verdict.reason,
    connected: record.connected,
    lastSeen: iso(record.lastSeen),
    firstSeen: iso(record.firstSeen),
    lastHeadChange: iso(record.lastHeadChange),
    health: hb.health,
    period: hb.period,
    seq: hb.seq,
    beats: record.beats,
    seqGaps: record.seqGaps,
    phi: context.phi === undefined ? null : roundPhi(context.phi),
    skewMs: record.skewMs,
    protocol: record.protocol,
    agent: { version: hb.agent.version, startedAt: iso(hb.agent.startedAt) },
    headTime: hb.headTime === undefined ? null : iso(hb.headTime),
    source: hb.source ?? null,
    identityConflict: record.identityConflict === undefined
      ? null
      : { agents: record.identityConflict.agents, addresses: [...record.identityConflict.addresses], since: iso(record.identityConflict.since) },
  }
}

/** Two decimals are plenty; Infinity (far past any threshold) is not JSON, so it is capped. */
function roundPhi (phi: number): number {
  return Number.isFinite(phi) ? Math.round(phi * 100) / 100 : Number.MAX_VALUE
}

function contextFor (fleet: FleetState, record: NodeRecord, consensus: FleetConsensus, now: number): NodeViewContext {
  return {
    lag: lagOf(record, consensus.contexts.get(record.beat.network)),
    phi: phiAt(record, now, fleet.rules.phi),
    duplicateNickname: fleet.sharesNickname(record.beat.nickname),
  }
}

/** One node's view at `now`, or undefined when the fleet does not know it. */
export function nodeViewOf (fleet: FleetState, peerId: string, now: number): NodeView | undefined {
  const record = fleet.get(peerId)
  const verdict = fleet.verdict(peerId)
  if (record === undefined || verdict === undefined) return undefined
  return nodeView(record, verdict, contextFor(fleet, record, fleet.consensus(now), now))
}

export function emptyByStatus (): Record<NodeStatus, number> {
  return Object.fromEntries(NODE_STATUSES.map((s) => [s, 0])) as Record<NodeStatus, number>
}

export function fleetViews (fleet: FleetState, now: number): { nodes: NodeView[], summary: FleetSummary } {
  const consensus = fleet.consensus(now)
  const nodes: NodeView[] = []
  const byStatus = emptyByStatus()
  let connected = 0
  let duplicates = 0
  for (const record of fleet.nodes()) {
    const verdict = fleet.verdict(record.peerId)
    if (verdict === undefined) continue
    const view = nodeView(record, verdict, contextFor(fleet, record, consensus, now))
    nodes.push(view)
    byStatus[verdict.status]++
    if (record.connected) connected++
    if (view.duplicateNickname) duplicates++
  }
  nodes.sort((a, b) => byName.compare(a.displayName, b.displayName) || byName.compare(a.peerId, b.peerId))
  const networks = sortedNetworks(consensus.networks)
  const maxHeight = networks.reduce((max, n) => Math.max(max, n.height), 0)
  return {
    nodes,
    summary: {
      total: nodes.length,
      byStatus,
      connected,
      maxHeight,
      networks,
      duplicateNicknames: duplicates,
      forgotten: fleet.forgotten,
      network: fleet.network ?? null,
    },
  }
}
