import { DEFAULT_FORGET_AFTER_MS } from '../constants.ts'
import { computeConsensus, duplicateNicknames, type ConsensusVoter, type NetworkConsensus } from './consensus.ts'
import { foldNode } from './fold.ts'
import { countsTowardsConsensus, DEFAULT_STATUS_RULES, deriveStatus, livenessOf, type NetworkContext, type StatusRules } from './status.ts'
import type { FleetEvent, NodeRecord, NodeStatus, StatusVerdict } from './types.ts'

export interface StatusChange {
  peerId: string
  from: NodeStatus | undefined
  to: NodeStatus
  reason: string
  at: number
}

export interface FleetListener {
  /** A node's record or verdict changed. */
  onNodeChanged?(peerId: string): void
  /** A node's status changed (also on its first heartbeat). */
  onStatusChanged?(change: StatusChange): void
  /** A node left the view after a long silence (see forgetAfterMs). */
  onNodeForgotten?(peerId: string): void
}

export interface FleetOptions {
  /** Nodes silent for longer than this leave the view (counted). */
  forgetAfterMs?: number
  /** The network this aggregator is restricted to (--network), shown in the view; undefined = any. */
  network?: string
}

/** The fleet-wide picture derived from all nodes at one instant. */
export interface FleetConsensus {
  networks: Map<string, NetworkConsensus>
  /** Nicknames carried by more than one peer id. */
  duplicateNicknames: Set<string>
  at: number
}

/**
 * The shell around the pure fold: holds the records, applies events in O(1)
 * per event, and on each tick forgets long-silent nodes, recomputes
 * consensus per network (O(N), once) and re-derives statuses (silence has
 * no event). Listeners learn what changed; they never see a half-applied
 * event.
 */
export class FleetState {
  readonly rules: StatusRules
  readonly forgetAfterMs: number
  readonly network: string | undefined
  private readonly records = new Map<string, NodeRecord>()
  private readonly verdicts = new Map<string, StatusVerdict>()
  private readonly listeners = new Set<FleetListener>()
  private cached: FleetConsensus | undefined
  /** Records changed since `cached` was computed. */
  private dirty = true
  private forgottenCount = 0

  constructor (rules: StatusRules = DEFAULT_STATUS_RULES, options: FleetOptions = {}) {
    this.rules = rules
    this.forgetAfterMs = options.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS
    this.network = options.network
  }

  subscribe (listener: FleetListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  apply (event: FleetEvent, now: number): void {
    const before = this.records.get(event.peerId)
    const after = foldNode(before, event, now, this.rules.phi)
    if (after === before || after === undefined) return
    this.records.set(event.peerId, after)
    this.dirty = true
    // O(1): judged against the network as of the last consensus pass.
    this.settle(after, now, this.cached?.networks.get(after.beat.network))
    for (const l of this.listeners) l.onNodeChanged?.(event.peerId)
  }

  /** Forgets long-silent nodes, recomputes consensus, re-derives every status at `now`. */
  tick (now: number): void {
    this.forgetSilent(now)
    const { networks } = this.recompute(now)
    for (const record of this.records.values()) {
      if (this.settle(record, now, networks.get(record.beat.network))) {
        for (const l of this.listeners) l.onNodeChanged?.(record.peerId)
      }
    }
  }

  /** Consensus per network and duplicate names: from the last tick, or recomputed when records changed since. */
  consensus (now: number): FleetConsensus {
    if (this.cached === undefined || this.dirty) return this.recompute(now)
    return this.cached
  }

  get (peerId: string): NodeRecord | undefined {
    return this.records.get(peerId)
  }

  verdict (peerId: string): StatusVerdict | undefined {
    return this.verdicts.get(peerId)
  }

  nodes (): IterableIterator<NodeRecord> {
    return this.records.values()
  }

  get size (): number {
    return this.records.size
  }

  /** Nodes that left the view after being silent longer than forgetAfterMs, since start. */
  get forgotten (): number {
    return this.forgottenCount
  }

  private forgetSilent (now: number): void {
    for (const record of this.records.values()) {
      if (now - record.lastSeen <= this.forgetAfterMs) continue
      // Deleting the entry being visited is safe for a Map iterator.
      this.records.delete(record.peerId)
      this.verdicts.delete(record.peerId)
      this.forgottenCount++
      this.dirty = true
      for (const l of this.listeners) l.onNodeForgotten?.(record.peerId)
    }
  }

  private recompute (now: number): FleetConsensus {
    const rules = this.rules
    const records = this.records
    function * voters (): Generator<ConsensusVoter> {
      for (const record of records.values()) {
        const reporting = countsTowardsConsensus(livenessOf(record, now, rules))
        yield { network: record.beat.network, head: record.beat.head, height: record.beat.height, reporting }
      }
    }
    function * nicknames (): Generator<string> {
      for (const record of records.values()) yield record.beat.nickname
    }
    this.cached = { networks: computeConsensus(voters()), duplicateNicknames: duplicateNicknames(nicknames()), at: now }
    this.dirty = false
    return this.cached
  }

  /** Updates the stored verdict; true when status or reason changed. */
  private settle (record: NodeRecord, now: number, network: NetworkContext | NetworkConsensus | undefined): boolean {
    const previous = this.verdicts.get(record.peerId)
    const next = deriveStatus(record, now, this.rules, contextOf(network))
    if (previous !== undefined && previous.status === next.status && previous.reason === next.reason) return false
    this.verdicts.set(record.peerId, next)
    if (previous?.status !== next.status) {
      const change: StatusChange = { peerId: record.peerId, from: previous?.status, to: next.status, reason: next.reason, at: now }
      for (const l of this.listeners) l.onStatusChanged?.(change)
    }
    return true
  }
}

/** The status rules' view of a network: its maximum height, when anyone reports. */
export function contextOf (network: NetworkContext | NetworkConsensus | undefined): NetworkContext | undefined {
  if (network === undefined) return undefined
  if ('heaviestHead' in network) return { maxHeight: network.heaviestHead === null ? undefined : network.height }
  return network
}
