import type { AppHealth } from '../../shared/health.ts'
import type { FleetState } from './fleet-state.ts'
import { NODE_STATUSES, type NodeRecord, type NodeStatus, type StatusVerdict } from './types.ts'

/** One node as the JSON API and the live feed show it. Times are ISO 8601 (aggregator clock). */
export interface NodeView {
  peerId: string
  nickname: string
  /** The nickname, or the peer id when the nickname is empty. */
  displayName: string
  head: string
  height: number
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
  skewMs: number
  protocol: string
  agent: { version: string, startedAt: string }
}

export interface FleetSummary {
  total: number
  byStatus: Record<NodeStatus, number>
  connected: number
  maxHeight: number
}

const iso = (ms: number): string => new Date(ms).toISOString()

export function nodeView (record: NodeRecord, verdict: StatusVerdict): NodeView {
  const hb = record.beat
  return {
    peerId: record.peerId,
    nickname: hb.nickname,
    displayName: hb.nickname !== '' ? hb.nickname : record.peerId,
    head: hb.head,
    height: hb.height,
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
    skewMs: record.skewMs,
    protocol: record.protocol,
    agent: { version: hb.agent.version, startedAt: iso(hb.agent.startedAt) },
  }
}

export function emptyByStatus (): Record<NodeStatus, number> {
  return Object.fromEntries(NODE_STATUSES.map((s) => [s, 0])) as Record<NodeStatus, number>
}

export function fleetViews (fleet: FleetState): { nodes: NodeView[], summary: FleetSummary } {
  const nodes: NodeView[] = []
  const byStatus = emptyByStatus()
  let connected = 0
  let maxHeight = 0
  for (const record of fleet.nodes()) {
    const verdict = fleet.verdict(record.peerId)
    if (verdict === undefined) continue
    nodes.push(nodeView(record, verdict))
    byStatus[verdict.status]++
    if (record.connected) connected++
    if (record.beat.height > maxHeight) maxHeight = record.beat.height
  }
  nodes.sort((a, b) => a.displayName.localeCompare(b.displayName) || a.peerId.localeCompare(b.peerId))
  return { nodes, summary: { total: nodes.length, byStatus, connected, maxHeight } }
}
