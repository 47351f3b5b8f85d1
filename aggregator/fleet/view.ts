import { ISO_MEMO_LIMIT } from '../constants.ts'
import type { AppHealth } from '../../shared/health.ts'
import { sortedNetworks, type NetworkConsensus } from './consensus.ts'
import type { FleetConsensus, FleetState } from './fleet-state.ts'
import { clockHeightOf, headAgeAt, headAgeThresholdOf } from './head-age.ts'
import { lagOf, phiAt } from './status.ts'
import { type Instant, NODE_STATUSES, type NodeRecord, type NodeStatus, type StatusVerdict } from './types.ts'

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
  /** Why, in words, with absolute times (it changes when something happens, not as time passes). */
  reason: string
  /** Since when the node has had this status (aggregator wall clock): views render "for 3m" from it. */
  statusSince: string
  /** When the status turns worse unless something happens (a disconnected node's grace ends); null otherwise. */
  statusUntil: string | null
  connected: boolean
  lastSeen: string
  firstSeen: string
  lastHeadChange: string
  /** How long the head has been unchanged when this view was made (the aggregator's monotonic clock; what HeadStuck reads). */
  headUnchangedForMs: number
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
  /**
   * How old the head is now (ms): its block's time against the agent's send time, aged since by the
   * aggregator's monotonic clock (fleet/head-age.ts); null when unknown (no headTime on a chain whose
   * heights are not a clock, a legacy node, no head read yet).
   */
  headAgeMs: number | null
  /** The height the node's chain should be at by the clock (Filecoin networks with a known genesis); else null. */
  expectedHeight: number | null
  /** expectedHeight minus its height (0 when on time); null when expectedHeight is. */
  epochsBehindClock: number | null
  /** Another agent uses this node's peer id at once (docs/fleet-semantics.md); null when not. Addresses only with details. */
  identityConflict: IdentityConflictView | null
}

export interface IdentityConflictView {
  agents: number
  addresses?: string[]
  since: string
}

/** One network in the summary: go-filecoin's counts, and how its heads compare with the clock. */
export interface NetworkView extends NetworkConsensus {
  /** The height the network should be at by the clock (the median of its reporting nodes' clocks); null when its heights are not a clock. */
  expectedHeight: number | null
  /** expectedHeight minus the network's height (0 when on time); null when unknown. */
  epochsBehindClock: number | null
  /** The freshest head age among its reporting nodes (ms); null when none is known. */
  headAgeMs: number | null
  /**
   * Every reporting node whose head age is known has a head older than its threshold (at least one
   * known): the whole network is behind the clock, however well its nodes agree.
   */
  behindClock: boolean
}

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
  /** Wall stamp since when the node has had its status. */
  since: number
  lag: number
  phi: number | undefined
  duplicateNickname: boolean
  /** Monotonic time of the view. */
  nowMono: number
  headAgeMs?: number
  clock?: { expectedHeight: number, epochsBehind: number }
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
/** The last instant a Date can hold: a grace of an absurd announced period ends "never". */
const MAX_DATE_MS = 8.64e15

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
    statusSince: iso(context.since),
    statusUntil: verdict.until === undefined || !(Math.abs(verdict.until) <= MAX_DATE_MS) ? null : iso(verdict.until),
    connected: record.connected,
    lastSeen: iso(record.lastSeen),
    firstSeen: iso(record.firstSeen),
    lastHeadChange: iso(record.lastHeadChange),
    headUnchangedForMs: Math.max(0, Math.round(context.nowMono - record.lastHeadChangeMono)),
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
    headAgeMs: context.headAgeMs === undefined ? null : Math.round(context.headAgeMs),
    expectedHeight: context.clock?.expectedHeight ?? null,
    epochsBehindClock: context.clock?.epochsBehind ?? null,
    identityConflict: record.identityConflict === undefined
      ? null
      : { agents: record.identityConflict.agents, addresses: [...record.identityConflict.addresses], since: iso(record.identityConflict.since) },
  }
}

/** Two decimals are plenty; Infinity (far past any threshold) is not JSON, so it is capped. */
function roundPhi (phi: number): number {
  return Number.isFinite(phi) ? Math.round(phi * 100) / 100 : Number.MAX_VALUE
}

/** What a node's view needs of the rest of the fleet at `now` (the view cache checks lag and duplicateNickname against its views). */
export function nodeViewContext (fleet: FleetState, record: NodeRecord, consensus: FleetConsensus, now: Instant): NodeViewContext {
  return {
    since: fleet.statusSince(record.peerId) ?? record.lastSeen,
    lag: lagOf(record, consensus.contexts.get(record.beat.network)),
    phi: phiAt(record, now.mono, fleet.rules.phi),
    duplicateNickname: fleet.sharesNickname(record.beat.nickname),
    nowMono: now.mono,
    headAgeMs: headAgeAt(record, now.mono),
    clock: clockHeightOf(record, now.mono),
  }
}

/** Per network, what its reporting nodes' heads say against the clock (gathered on the walk fleetViews makes anyway). */
class ClockTally {
  private readonly byNetwork = new Map<string, { known: number, old: number, freshest: number | undefined, expected: number[] }>()

  add (network: string, ageMs: number | undefined, thresholdMs: number, expectedHeight: number | undefined): void {
    let t = this.byNetwork.get(network)
    if (t === undefined) this.byNetwork.set(network, t = { known: 0, old: 0, freshest: undefined, expected: [] })
    if (ageMs !== undefined) {
      t.known++
      if (ageMs > thresholdMs) t.old++
      if (t.freshest === undefined || ageMs < t.freshest) t.freshest = ageMs
    }
    if (expectedHeight !== undefined) t.expected.push(expectedHeight)
  }

  /** Every network of `consensus`, in the summary's order, with its heads judged against the clock. */
  networks (consensus: FleetConsensus): NetworkView[] {
    return sortedNetworks(consensus.networks).map((n) => this.view(n))
  }

  view (n: NetworkConsensus): NetworkView {
    const t = this.byNetwork.get(n.network)
    const expected = t === undefined || t.expected.length === 0 ? null : median(t.expected)
    return {
      ...n,
      expectedHeight: expected,
      epochsBehindClock: expected === null || n.heaviestHead === null ? null : Math.max(0, expected - n.height),
      headAgeMs: t?.freshest === undefined ? null : Math.round(t.freshest),
      behindClock: t !== undefined && t.known > 0 && t.old === t.known,
    }
  }
}

/** The median of a non-empty list (the lower middle): one agent with a wrong clock cannot move it. */
function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)] as number
}

/**
 * What alert evaluation reads of one node (aggregator/alerts/input.ts reads
 * these fields by name, as it reads a NodeView's): the view's fields the rules
 * need, with lastHeadChange in milliseconds rather than ISO text.
 */
export interface NodeAlertFacts {
  peerId: string
  nickname: string
  status: NodeStatus
  reason: string
  network: string
  lag: number
  lastHeadChange: number
  headUnchangedForMs: number
  head: string
  health: AppHealth
  identityConflict: { agents: number, addresses: readonly string[] } | null
}

/**
 * The fleet as alert evaluation needs it at `now`: each node's alert facts and
 * the summary's networks (the same as fleetViews', judged the same way), in
 * the fleet's own order. No view is built and nothing is sorted, so an
 * evaluation of 10,000 nodes is a walk, not 10,000 views and a sort; what a
 * rule lists by name it orders itself (alerts/rules.ts).
 */
export function fleetAlertSnapshot (fleet: FleetState, now: Instant): { nodes: NodeAlertFacts[], summary: { networks: NetworkView[] } } {
  const consensus = fleet.consensus(now)
  const nodes: NodeAlertFacts[] = []
  const clocks = new ClockTally()
  for (const record of fleet.nodes()) {
    const verdict = fleet.verdict(record.peerId)
    if (verdict === undefined) continue
    const hb = record.beat
    nodes.push({
      peerId: record.peerId,
      nickname: hb.nickname,
      status: verdict.status,
      reason: verdict.reason,
      network: hb.network,
      lag: lagOf(record, consensus.contexts.get(hb.network)),
      lastHeadChange: record.lastHeadChange,
      headUnchangedForMs: Math.max(0, Math.round(now.mono - record.lastHeadChangeMono)),
      head: hb.head,
      health: hb.health,
      identityConflict: record.identityConflict ?? null,
    })
    tallyClock(clocks, fleet, record, now)
  }
  return { nodes, summary: { networks: clocks.networks(consensus) } }
}

/** One node's view at `now`, or undefined when the fleet does not know it. */
export function nodeViewOf (fleet: FleetState, peerId: string, now: Instant): NodeView | undefined {
  const record = fleet.get(peerId)
  const verdict = fleet.verdict(peerId)
  if (record === undefined || verdict === undefined) return undefined
  return nodeView(record, verdict, nodeViewContext(fleet, record, fleet.consensus(now), now))
}

export function emptyByStatus (): Record<NodeStatus, number> {
  return Object.fromEntries(NODE_STATUSES.map((s) => [s, 0])) as Record<NodeStatus, number>
}

/** The order of the fleet document's nodes: by display name (natural, case ignored), then peer id. */
export function compareNodeViews (a: Pick<NodeView, 'displayName' | 'peerId'>, b: Pick<NodeView, 'displayName' | 'peerId'>): number {
  return byName.compare(a.displayName, b.displayName) || byName.compare(a.peerId, b.peerId)
}

/** What the summary counts of each node. */
export type SummaryCounted = Pick<NodeView, 'status' | 'connected' | 'duplicateNickname'>

/**
 * A reporting node's head against the clock, in its network's tally (others
 * are not counted): its head's age and expected height at `now`, or those
 * already worked out for its view.
 */
function tallyClock (clocks: ClockTally, fleet: FleetState, record: NodeRecord, now: Instant, known?: { headAgeMs: number | undefined, expectedHeight: number | undefined }): void {
  if (!fleet.isReporting(record.peerId)) return
  const headAgeMs = known !== undefined ? known.headAgeMs : headAgeAt(record, now.mono)
  const expectedHeight = known !== undefined ? known.expectedHeight : clockHeightOf(record, now.mono)?.expectedHeight
  clocks.add(record.beat.network, headAgeMs, headAgeThresholdOf(record.beat.network, fleet.rules.headAgeThresholdMs), expectedHeight)
}

/**
 * The fleet's summary at `now` (by `consensus`): statuses counted over
 * `nodes` when given (views already built), else over the records and
 * verdicts (no view is built). The networks' heads against the clock are
 * always judged from the records at `now`: a cached view's head age is as old
 * as the view, and behindClock must not lag behind the clock.
 */
export function fleetSummary (fleet: FleetState, consensus: FleetConsensus, now: Instant, nodes?: Iterable<SummaryCounted>): FleetSummary {
  const clocks = new ClockTally()
  const counted: SummaryCounted[] | undefined = nodes === undefined ? [] : undefined
  for (const record of fleet.nodes()) {
    if (counted !== undefined) {
      const verdict = fleet.verdict(record.peerId)
      if (verdict !== undefined) counted.push({ status: verdict.status, connected: record.connected, duplicateNickname: fleet.sharesNickname(record.beat.nickname) })
    }
    tallyClock(clocks, fleet, record, now)
  }
  return summaryOf(fleet, consensus, nodes ?? counted ?? [], clocks)
}

function summaryOf (fleet: FleetState, consensus: FleetConsensus, nodes: Iterable<SummaryCounted>, clocks: ClockTally): FleetSummary {
  const byStatus = emptyByStatus()
  let total = 0
  let connected = 0
  let duplicates = 0
  for (const node of nodes) {
    total++
    byStatus[node.status]++
    if (node.connected) connected++
    if (node.duplicateNickname) duplicates++
  }
  const networks = clocks.networks(consensus)
  const maxHeight = networks.reduce((max, n) => Math.max(max, n.height), 0)
  return {
    total,
    byStatus,
    connected,
    maxHeight,
    networks,
    duplicateNicknames: duplicates,
    forgotten: fleet.forgotten,
    network: fleet.network ?? null,
  }
}

export function fleetViews (fleet: FleetState, now: Instant): { nodes: NodeView[], summary: FleetSummary } {
  const consensus = fleet.consensus(now)
  const nodes: NodeView[] = []
  const clocks = new ClockTally()
  for (const record of fleet.nodes()) {
    const verdict = fleet.verdict(record.peerId)
    if (verdict === undefined) continue
    const context = nodeViewContext(fleet, record, consensus, now)
    nodes.push(nodeView(record, verdict, context))
    tallyClock(clocks, fleet, record, now, { headAgeMs: context.headAgeMs, expectedHeight: context.clock?.expectedHeight })
  }
  nodes.sort(compareNodeViews)
  return { nodes, summary: summaryOf(fleet, consensus, nodes, clocks) }
}
