import type { HealthStatus } from '../../shared/health.ts'
import { sanitizeLabelValue } from '../../shared/metric-labels.ts'
import type { NodeStatus } from '../fleet/types.ts'
import type { FleetSummary, NodeView } from '../fleet/view.ts'
import { MAX_NETWORK_LABEL_LENGTH } from './constants.ts'

/** One node as the metrics see it: label values already sanitised. */
export interface NodeSample {
  peerId: string
  nickname: string
  height: number
  /** Blocks behind the heaviest height of its network (the view's lag). */
  lag: number
  lastHeartbeatSeconds: number
  /** When its head last changed (aggregator clock, Unix seconds). */
  headChangedSeconds: number
  /** How old its head is (its block's time; monotonic aging), seconds; undefined when unknown. */
  headAgeSeconds: number | undefined
  status: NodeStatus
  connected: boolean
  network: string
  minerAddress: string
  agentVersion: string
  protocol: string
  components: Array<{ name: string, status: HealthStatus }>
  /** Its peer id is used by two agents at once (the view's identityConflict). */
  identityConflict: boolean
}

/** Per-network consensus, when the fleet summary carries it (the fleet-semantics issue adds it). */
export interface NetworkSample {
  network: string
  height: number
  inConsensus: number
  inDispute: number
  catchingUp: number
  nodes: number
  /** 1 when every reporting node's head is older than its threshold; undefined when the summary does not say. */
  behindClock: boolean | undefined
  /** The freshest head age among its reporting nodes, seconds; undefined when unknown. */
  headAgeSeconds: number | undefined
  /** The height the clock says (Filecoin networks with a known genesis); undefined otherwise. */
  expectedHeight: number | undefined
}

export interface FleetSnapshot {
  byStatus: Record<NodeStatus, number>
  connected: number
  nodes: NodeSample[]
  networks: NetworkSample[] | undefined
}

/** Taken once per scrape, so every fleet metric of one scrape agrees. */
export function fleetSnapshot (views: { nodes: readonly NodeView[], summary: FleetSummary }): FleetSnapshot {
  const nodes = views.nodes.map((node): NodeSample => ({
    peerId: node.peerId,
    nickname: sanitizeLabelValue(node.nickname),
    height: node.height,
    lag: node.lag,
    lastHeartbeatSeconds: Date.parse(node.lastSeen) / 1000,
    headChangedSeconds: Date.parse(node.lastHeadChange) / 1000,
    headAgeSeconds: node.headAgeMs === null ? undefined : node.headAgeMs / 1000,
    status: node.status,
    connected: node.connected,
    network: sanitizeLabelValue(node.network, MAX_NETWORK_LABEL_LENGTH),
    minerAddress: sanitizeLabelValue(node.minerAddress),
    agentVersion: sanitizeLabelValue(node.agent.version),
    protocol: node.protocol,
    // Two raw names may sanitise alike; the first one stands for both.
    components: uniqueByName(Object.entries(node.health.components).map(([name, c]) => ({ name: sanitizeLabelValue(name), status: c.status }))),
    identityConflict: node.identityConflict !== null,
  }))
  return { byStatus: views.summary.byStatus, connected: views.summary.connected, nodes, networks: readNetworks(views.summary) }
}

function uniqueByName<T extends { name: string }> (items: T[]): T[] {
  const seen = new Set<string>()
  return items.filter((item) => {
    if (seen.has(item.name)) return false
    seen.add(item.name)
    return true
  })
}

/** Reads `summary.networks` if present and well formed; anything else means "not available". */
export function readNetworks (summary: unknown): NetworkSample[] | undefined {
  const networks = (summary as { networks?: unknown }).networks
  if (!Array.isArray(networks)) return undefined
  const samples: NetworkSample[] = []
  const seen = new Set<string>()
  for (const entry of networks as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue
    const n = entry as Record<string, unknown>
    if (typeof n.network !== 'string' || typeof n.inConsensus !== 'number' || typeof n.inDispute !== 'number') continue
    const network = sanitizeLabelValue(n.network, MAX_NETWORK_LABEL_LENGTH)
    if (seen.has(network)) continue
    seen.add(network)
    samples.push({
      network,
      height: typeof n.height === 'number' ? n.height : 0,
      inConsensus: n.inConsensus,
      inDispute: n.inDispute,
      catchingUp: typeof n.catchingUp === 'number' ? n.catchingUp : 0,
      nodes: typeof n.nodes === 'number' ? n.nodes : n.inConsensus + n.inDispute,
      behindClock: typeof n.behindClock === 'boolean' ? n.behindClock : undefined,
      headAgeSeconds: typeof n.headAgeMs === 'number' ? n.headAgeMs / 1000 : undefined,
      expectedHeight: typeof n.expectedHeight === 'number' ? n.expectedHeight : undefined,
    })
  }
  return samples
}
