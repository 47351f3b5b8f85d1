// The page's copy of the fleet: what the live feed said, plus the little
// history the page keeps itself (heights for the chart, status changes).
// Pure state, no DOM, no timers: the feed writes into it, the views read it
// once per animation frame.
import { type PageAlerts, readAlerts } from './alerts-model.ts'
import { HEIGHT_HISTORY_POINTS, STATUS_HISTORY_ENTRIES } from './constants.ts'
import { parseTime } from './format.ts'
import { NODE_STATUSES } from './status.ts'
import type { AggregatorInfo, AlertsEvent, FleetDocument, NetworkSummary, NodeStatus, PageNode, PageSummary, StatusChangeEvent } from './types.ts'

export interface StatusEntry {
  at: number
  from: NodeStatus | undefined
  to: NodeStatus
  reason: string
}

/** Height over time for one node, bounded; a point is recorded when the height changes. */
export class HeightSeries {
  readonly times: number[] = []
  readonly heights: number[] = []
  private readonly capacity: number

  constructor (capacity: number = HEIGHT_HISTORY_POINTS) {
    this.capacity = capacity
  }

  get length (): number {
    return this.times.length
  }

  /** Adds (time, height) unless the height is the last one recorded; keeps times ascending. */
  record (time: number, height: number): boolean {
    if (!Number.isFinite(time) || !Number.isFinite(height)) return false
    const last = this.times.length - 1
    if (last >= 0 && this.heights[last] === height) return false
    if (last >= 0 && time < (this.times[last] as number)) return this.merge([{ time, height }])
    this.times.push(time)
    this.heights.push(height)
    this.trim()
    return true
  }

  /** Merges points from elsewhere (the history API), sorted by time, duplicates dropped. */
  merge (points: Array<{ time: number, height: number }>): boolean {
    const all = new Map<number, number>()
    for (let i = 0; i < this.times.length; i++) all.set(this.times[i] as number, this.heights[i] as number)
    let added = false
    for (const p of points) {
      if (!Number.isFinite(p.time) || !Number.isFinite(p.height) || all.has(p.time)) continue
      all.set(p.time, p.height)
      added = true
    }
    if (!added) return false
    const sorted = [...all.entries()].sort((a, b) => a[0] - b[0])
    this.times.length = 0
    this.heights.length = 0
    for (const [time, height] of sorted) {
      this.times.push(time)
      this.heights.push(height)
    }
    this.trim()
    return true
  }

  private trim (): void {
    const excess = this.times.length - this.capacity
    if (excess > 0) {
      this.times.splice(0, excess)
      this.heights.splice(0, excess)
    }
  }
}

export interface FleetCounts {
  total: number
  connected: number
  byStatus: Record<NodeStatus, number>
  maxHeight: number
  /** Greatest height per network (the key is the node's `network`, possibly empty). */
  maxHeightByNetwork: Map<string, number>
}

/** Counts the page derives itself on every frame, so the header moves with the table. */
export function countFleet (nodes: Iterable<PageNode>): FleetCounts {
  const byStatus = Object.fromEntries(NODE_STATUSES.map((s) => [s, 0])) as Record<NodeStatus, number>
  const maxHeightByNetwork = new Map<string, number>()
  let total = 0
  let connected = 0
  let maxHeight = 0
  for (const node of nodes) {
    total++
    if (Object.hasOwn(byStatus, node.status)) byStatus[node.status]++
    if (node.connected) connected++
    if (node.height > maxHeight) maxHeight = node.height
    const network = node.network ?? ''
    if (node.height > (maxHeightByNetwork.get(network) ?? -1)) maxHeightByNetwork.set(network, node.height)
  }
  return { total, connected, byStatus, maxHeight, maxHeightByNetwork }
}

/**
 * Consensus per network, for when the aggregator does not send it: the
 * heaviest head is the head most nodes report at the greatest height (ties:
 * the smallest head, so every page agrees); nodes on it are in consensus, the
 * rest in dispute.
 */
export function deriveNetworks (nodes: Iterable<PageNode>): NetworkSummary[] {
  const byNetwork = new Map<string, { height: number, nodes: number, heads: Map<string, number>, headsAtTop: Map<string, number> }>()
  for (const node of nodes) {
    const network = node.network ?? ''
    let entry = byNetwork.get(network)
    if (entry === undefined) {
      entry = { height: -1, nodes: 0, heads: new Map(), headsAtTop: new Map() }
      byNetwork.set(network, entry)
    }
    entry.nodes++
    entry.heads.set(node.head, (entry.heads.get(node.head) ?? 0) + 1)
    if (node.height > entry.height) {
      entry.height = node.height
      entry.headsAtTop = new Map()
    }
    if (node.height === entry.height) entry.headsAtTop.set(node.head, (entry.headsAtTop.get(node.head) ?? 0) + 1)
  }
  const result: NetworkSummary[] = []
  for (const [network, entry] of byNetwork) {
    let heaviestHead = ''
    let best = -1
    for (const [head, count] of entry.headsAtTop) {
      if (count > best || (count === best && head < heaviestHead)) {
        heaviestHead = head
        best = count
      }
    }
    const inConsensus = entry.heads.get(heaviestHead) ?? 0
    result.push({ network, heaviestHead, height: Math.max(0, entry.height), inConsensus, inDispute: entry.nodes - inConsensus, catchingUp: 0, reporting: entry.nodes, nodes: entry.nodes })
  }
  return result.sort((a, b) => b.nodes - a.nodes || a.network.localeCompare(b.network))
}

/** Changes since the views last looked. */
export interface ModelChanges {
  /** The whole fleet was replaced (a snapshot). */
  all: boolean
  /** Nodes that changed, appeared or left. */
  peerIds: Set<string>
  /** Nodes appeared or left (the row order must be rebuilt). */
  membership: boolean
  /** The header's data changed (counts follow nodes; this covers summary and aggregator info). */
  header: boolean
  /** Firing alerts or maintenance changed. */
  alerts: boolean
}

export class FleetModel {
  readonly nodes = new Map<string, PageNode>()
  readonly heights = new Map<string, HeightSeries>()
  readonly statusLog = new Map<string, StatusEntry[]>()
  aggregator: AggregatorInfo | undefined
  serverSummary: PageSummary | undefined
  /** Firing alerts and maintenance; undefined when the aggregator does not alert. */
  alerts: PageAlerts | undefined
  /** Aggregator clock minus page clock (ms): relative times follow the aggregator's clock. */
  clockOffsetMs = 0
  /** Whether a snapshot has arrived since the page loaded. */
  loaded = false
  private changes: ModelChanges = emptyChanges()

  /** The aggregator's clock now, estimated. */
  serverNow (localNow: number): number {
    return localNow + this.clockOffsetMs
  }

  applySnapshot (doc: FleetDocument, localNow: number): void {
    this.syncClock(doc.generatedAt, localNow)
    this.aggregator = doc.aggregator
    this.serverSummary = doc.summary
    this.alerts = readAlerts(doc)
    const seen = new Set<string>()
    this.nodes.clear()
    for (const node of Array.isArray(doc.nodes) ? doc.nodes : []) {
      if (!isNodeLike(node)) continue
      this.nodes.set(node.peerId, node)
      this.recordHeight(node)
      seen.add(node.peerId)
    }
    // Local history of nodes that left while the page was away goes with them.
    for (const peerId of this.heights.keys()) if (!seen.has(peerId)) this.heights.delete(peerId)
    for (const peerId of this.statusLog.keys()) if (!seen.has(peerId)) this.statusLog.delete(peerId)
    this.loaded = true
    this.changes = { all: true, peerIds: new Set(), membership: true, header: true, alerts: true }
  }

  applyNode (node: PageNode): void {
    if (!isNodeLike(node)) return
    const known = this.nodes.has(node.peerId)
    this.nodes.set(node.peerId, node)
    this.recordHeight(node)
    this.changes.peerIds.add(node.peerId)
    if (!known) this.changes.membership = true
  }

  applyRemove (peerId: string): void {
    if (!this.nodes.delete(peerId)) return
    this.heights.delete(peerId)
    this.statusLog.delete(peerId)
    this.changes.peerIds.add(peerId)
    this.changes.membership = true
  }

  applyStatus (change: StatusChangeEvent): void {
    if (typeof change?.peerId !== 'string') return
    let log = this.statusLog.get(change.peerId)
    if (log === undefined) {
      log = []
      this.statusLog.set(change.peerId, log)
    }
    log.push({ at: parseTime(change.at), from: change.from ?? undefined, to: change.to, reason: String(change.reason ?? '') })
    if (log.length > STATUS_HISTORY_ENTRIES) log.splice(0, log.length - STATUS_HISTORY_ENTRIES)
    this.changes.peerIds.add(change.peerId)
  }

  applySummary (summary: PageSummary): void {
    this.serverSummary = summary
    this.changes.header = true
  }

  applyAlerts (doc: AlertsEvent): void {
    const alerts = readAlerts(doc)
    if (alerts === undefined) return
    this.alerts = alerts
    this.changes.alerts = true
  }

  /** Firing alerts about one node. */
  alertsOf (peerId: string): PageAlerts['firing'] {
    return this.alerts?.firing.filter((a) => a.node?.peerId === peerId) ?? []
  }

  syncClock (serverIso: string, localNow: number): void {
    const server = parseTime(serverIso)
    if (Number.isFinite(server)) this.clockOffsetMs = server - localNow
  }

  /** Consensus per network: the aggregator's when it sends it, else derived here. */
  networks (): NetworkSummary[] {
    const fromServer = this.serverSummary?.networks
    return Array.isArray(fromServer) ? fromServer : deriveNetworks(this.nodes.values())
  }

  /** Takes (and clears) what changed since the last call. */
  takeChanges (): ModelChanges {
    const taken = this.changes
    this.changes = emptyChanges()
    return taken
  }

  hasChanges (): boolean {
    return this.changes.all || this.changes.header || this.changes.alerts || this.changes.membership || this.changes.peerIds.size > 0
  }

  private recordHeight (node: PageNode): void {
    let series = this.heights.get(node.peerId)
    if (series === undefined) {
      series = new HeightSeries()
      this.heights.set(node.peerId, series)
    }
    series.record(parseTime(node.lastSeen), node.height)
  }
}

function emptyChanges (): ModelChanges {
  return { all: false, peerIds: new Set(), membership: false, header: false, alerts: false }
}

/** The minimum a node view needs for the page to show it at all. */
function isNodeLike (value: unknown): value is PageNode {
  if (typeof value !== 'object' || value === null) return false
  const node = value as Partial<PageNode>
  return typeof node.peerId === 'string' && node.peerId !== '' && typeof node.status === 'string'
}
