import { DEFAULT_FORGET_AFTER_MS } from '../constants.ts'
import { ConsensusTally, type NetworkConsensus } from './consensus.ts'
import { foldNode } from './fold.ts'
import { NicknameCounts } from './names.ts'
import { localized, remoteLiveness, remoteReplaces } from './remote.ts'
import {
  countsTowardsConsensus, DEFAULT_STATUS_RULES, deriveStatus, livenessOf, type Liveness, type NetworkContext, type StatusRules,
} from './status.ts'
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
  /** A node left the view: after a long silence (see forgetAfterMs), or `removed` by an operator. */
  onNodeForgotten?(peerId: string, why: 'silent' | 'removed'): void
  /** A status tick finished (every status re-derived at `now`). */
  onTick?(now: number): void
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
  /** What the status rules need of each network (its maximum height). */
  contexts: Map<string, NetworkContext>
  at: number
}

/**
 * The shell around the pure fold: holds the records, applies events in O(1)
 * per event (judging a node against its network as of the last pass), and on
 * each tick walks the fleet once: forgets long-silent nodes, computes each
 * node's liveness and tallies consensus per network, then re-derives the
 * statuses (silence has no event). Listeners learn what changed; they never
 * see a half-applied event.
 */
export class FleetState {
  readonly rules: StatusRules
  readonly forgetAfterMs: number
  readonly network: string | undefined
  private readonly records = new Map<string, NodeRecord>()
  private readonly verdicts = new Map<string, StatusVerdict>()
  private readonly listeners = new Set<FleetListener>()
  private readonly nicknames = new NicknameCounts()
  private cached: FleetConsensus | undefined
  /** Records changed since `cached` was computed. */
  private dirty = true
  private forgottenCount = 0
  /** Liveness per node during a tick, reused across ticks to spare the allocation. */
  private livenessScratch: Liveness[] = []

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
    let before = this.records.get(event.peerId)
    if (before?.remote !== undefined) {
      // Another aggregator holds it: only a beat of its own here makes it ours (connection events alone say nothing yet).
      if (event.type !== 'beat') return
      before = localized(before)
    }
    const after = foldNode(before, event, now, this.rules.phi)
    if (after === before || after === undefined) return
    this.records.set(event.peerId, after)
    if (before === undefined) this.nicknames.add(after.beat.nickname)
    else this.nicknames.rename(before.beat.nickname, after.beat.nickname)
    this.dirty = true
    // O(1): judged against the network as of the last consensus pass.
    this.settle(after, now, this.cached?.contexts.get(after.beat.network))
    for (const l of this.listeners) l.onNodeChanged?.(event.peerId)
  }

  /**
   * Seeds nodes known from before a restart (records made by restoredRecord).
   * A node already heard from in this run keeps its live record.
   */
  restore (records: Iterable<NodeRecord>, now: number): number {
    let restored = 0
    for (const record of records) {
      if (this.records.has(record.peerId)) continue
      this.records.set(record.peerId, record)
      this.nicknames.add(record.beat.nickname)
      this.dirty = true
      this.settle(record, now, this.cached?.contexts.get(record.beat.network))
      for (const l of this.listeners) l.onNodeChanged?.(record.peerId)
      restored++
    }
    return restored
  }

  /**
   * Takes another aggregator's copy of a node (a record with `remote`, judged
   * by its holder) unless this aggregator has the node connected itself.
   * Returns whether it was taken.
   */
  applyRemote (record: NodeRecord, now: number): boolean {
    if (record.remote === undefined) throw new TypeError('applyRemote takes remote records')
    const before = this.records.get(record.peerId)
    if (!remoteReplaces(before, record)) return false
    this.records.set(record.peerId, record)
    if (before === undefined) this.nicknames.add(record.beat.nickname)
    else this.nicknames.rename(before.beat.nickname, record.beat.nickname)
    this.dirty = true
    this.settle(record, now, undefined)
    for (const l of this.listeners) l.onNodeChanged?.(record.peerId)
    return true
  }

  /** Forgets long-silent nodes, recomputes consensus, re-derives every status at `now`. */
  tick (now: number): void {
    const liveness = this.pass(now)
    let i = 0
    for (const record of this.records.values()) {
      const context = this.cached?.contexts.get(record.beat.network)
      if (this.settle(record, now, context, liveness[i++])) {
        for (const l of this.listeners) l.onNodeChanged?.(record.peerId)
      }
    }
    for (const l of this.listeners) l.onTick?.(now)
  }

  /**
   * Forgets a node at an operator's word (DELETE /api/v1/nodes/:peerId): it
   * leaves the view at once, not counted as forgotten for silence. A beat
   * from it later makes a new node. False when it was not in the view.
   */
  remove (peerId: string): boolean {
    const record = this.records.get(peerId)
    if (record === undefined) return false
    this.dirty = true
    this.drop(record, 'removed')
    return true
  }

  /** Consensus per network: from the last tick, or recomputed when records changed since. */
  consensus (now: number): FleetConsensus {
    if (this.cached === undefined || this.dirty) this.pass(now)
    return this.cached as FleetConsensus
  }

  /** True when another peer id carries the same (non-empty) nickname. */
  sharesNickname (nickname: string): boolean {
    return this.nicknames.isShared(nickname)
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

  /**
   * One walk over the fleet: forgets nodes silent past forgetAfterMs, computes
   * each remaining node's liveness (returned in iteration order) and tallies
   * consensus per network into the cache.
   */
  private pass (now: number): Liveness[] {
    const tally = new ConsensusTally()
    const liveness = this.livenessScratch
    liveness.length = 0
    for (const record of this.records.values()) {
      if (now - record.lastSeen > this.forgetAfterMs) {
        this.forget(record)
        continue
      }
      const l = record.remote !== undefined ? remoteLiveness(record.remote.verdict) : livenessOf(record, now, this.rules)
      liveness.push(l)
      tally.add(record.beat.network, record.beat.head, record.beat.height, countsTowardsConsensus(l))
    }
    const networks = tally.result()
    const contexts = new Map<string, NetworkContext>()
    for (const [id, n] of networks) contexts.set(id, { maxHeight: n.heaviestHead === null ? undefined : n.height })
    this.cached = { networks, contexts, at: now }
    this.dirty = false
    return liveness
  }

  private forget (record: NodeRecord): void {
    this.forgottenCount++
    this.drop(record, 'silent')
  }

  private drop (record: NodeRecord, why: 'silent' | 'removed'): void {
    // Deleting the entry being visited is safe for a Map iterator.
    this.records.delete(record.peerId)
    this.verdicts.delete(record.peerId)
    this.nicknames.remove(record.beat.nickname)
    for (const l of this.listeners) l.onNodeForgotten?.(record.peerId, why)
  }

  /** Updates the stored verdict; true when status or reason changed. */
  private settle (record: NodeRecord, now: number, network: NetworkContext | undefined, liveness?: Liveness): boolean {
    const previous = this.verdicts.get(record.peerId)
    // A remote node is as its holder judged it.
    const next = record.remote?.verdict ?? deriveStatus(record, now, this.rules, network, liveness)
    if (previous !== undefined && previous.status === next.status && previous.reason === next.reason) return false
    this.verdicts.set(record.peerId, next)
    if (previous?.status !== next.status) {
      const change: StatusChange = { peerId: record.peerId, from: previous?.status, to: next.status, reason: next.reason, at: now }
      for (const l of this.listeners) l.onStatusChanged?.(change)
    }
    return true
  }
}
