import { DEFAULT_FORGET_AFTER_MS } from '../constants.ts'
import { chainOf } from './chains.ts'
import { ConsensusTally, type ConsensusVoter, type NetworkConsensus, type NetworkVotes } from './consensus.ts'
import { DeadlineQueue } from './deadlines.ts'
import { foldNode } from './fold.ts'
import { NicknameCounts } from './names.ts'
import { localized, remoteLiveness, remoteReplaces } from './remote.ts'
import {
  countsTowardsConsensus, DEFAULT_STATUS_RULES, deriveStatus, livenessOf, type NetworkContext, nextStatusChange, type StatusRules,
} from './status.ts'
import type { FleetEvent, Instant, NodeRecord, NodeStatus, StatusVerdict } from './types.ts'

export interface StatusChange {
  peerId: string
  from: NodeStatus | undefined
  to: NodeStatus
  reason: string
  /** Wall stamp, never before the node's previous change (a wall clock stepped back keeps the log in order). */
  at: number
}

export interface FleetListener {
  /** A node's record or verdict changed. */
  onNodeChanged?(peerId: string): void
  /** A node's status changed (also on its first heartbeat). */
  onStatusChanged?(change: StatusChange): void
  /** A node left the view: after a long silence (see forgetAfterMs), or `removed` by an operator. */
  onNodeForgotten?(peerId: string, why: 'silent' | 'removed'): void
  /** A status tick finished (what was due at `now` was re-derived). */
  onTick?(now: Instant): void
}

export interface FleetOptions {
  /** Nodes silent for longer than this leave the view (counted). */
  forgetAfterMs?: number
  /** The network this aggregator is restricted to (--network), shown in the view; undefined = any. */
  network?: string
}

/** The fleet-wide picture at one instant. */
export interface FleetConsensus {
  networks: Map<string, NetworkConsensus>
  /** What the status rules need of each network (its maximum height). */
  contexts: Map<string, NetworkContext>
  at: Instant
}

/** What the fleet holds per node beside its record. */
interface NodeEntry {
  verdict: StatusVerdict
  /** Wall stamp: since when the node has had its status (never before the previous change). */
  since: number
  /** The vote counted in the tally for it. */
  vote: ConsensusVoter
}

/** Deadline keys of networks (a node's key is its peer id, which never starts with NUL). */
const NETWORK_KEY = '\u0000network:'

/**
 * The shell around the pure fold: holds the records and, per node, its
 * verdict and its vote in its network's consensus. Everything is kept up to
 * date as it happens, so the cost follows what changes, not the fleet's size:
 * - an event folds one record and re-derives that node (O(1); a new top
 *   height of its network also re-derives the nodes whose lag it changes);
 * - consensus is tallied vote by vote (consensus.ts), never by a walk;
 * - silence has no event, so each node has a deadline (deadlines.ts): the
 *   next moment its verdict could change by itself (phi crossing the
 *   threshold, solved once per beat; a grace ending; its head turning stuck;
 *   forget-after). `tick` re-derives only the nodes whose deadline passed.
 * Listeners learn what changed, and only that (reasons state absolute times,
 * so a verdict does not change by merely getting older); they never see a
 * half-applied event.
 *
 * Remote records (another aggregator of a shared store holds the node) are
 * judged by their holder: their verdict is the holder's, they vote as it
 * says, and their only deadline here is forget-after; the store's cluster
 * applies them again whenever their row or their holder's state changes
 * (store/cluster.ts). Their times were placed on this aggregator's
 * monotonic clock when read (store/remote-rows.ts).
 */
export class FleetState {
  readonly rules: StatusRules
  readonly forgetAfterMs: number
  readonly network: string | undefined
  private readonly records = new Map<string, NodeRecord>()
  private readonly entries = new Map<string, NodeEntry>()
  private readonly listeners = new Set<FleetListener>()
  private readonly nicknames = new NicknameCounts()
  private readonly tally = new ConsensusTally()
  private readonly deadlines = new DeadlineQueue()
  /** Nodes to re-derive because their network's top height moved (their lag changed). */
  private readonly lagChanged = new Set<string>()
  private forgottenCount = 0
  private revisionCount = 0
  private consensusCache: { revision: number, validUntil: number, result: FleetConsensus } | undefined

  constructor (rules: StatusRules = DEFAULT_STATUS_RULES, options: FleetOptions = {}) {
    this.rules = rules
    this.forgetAfterMs = options.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS
    this.network = options.network
  }

  subscribe (listener: FleetListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /**
   * Bumped whenever something that the views judge by changed: a verdict, a
   * node's head, health, network, name or announced maintenance, a vote, a
   * node joining or leaving, a network's catch-up window closing. Beats that
   * only move `lastSeen` and `seq` leave it alone, so a reader that re-reads
   * the fleet only when it moved (alert evaluation) pays for changes, not
   * for beats.
   */
  get revision (): number {
    return this.revisionCount
  }

  apply (event: FleetEvent, now: Instant): void {
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
    if (before === undefined || judgedFactsDiffer(before, after)) this.revisionCount++
    this.settle(after, now)
    for (const l of this.listeners) l.onNodeChanged?.(event.peerId)
    this.settleLagChanges(now)
  }

  /**
   * Seeds nodes known from before a restart (records made by restoredRecord).
   * A node already heard from in this run keeps its live record.
   */
  restore (records: Iterable<NodeRecord>, now: Instant): number {
    let restored = 0
    for (const record of records) {
      if (this.records.has(record.peerId)) continue
      this.records.set(record.peerId, record)
      this.nicknames.add(record.beat.nickname)
      this.revisionCount++
      this.settle(record, now)
      for (const l of this.listeners) l.onNodeChanged?.(record.peerId)
      restored++
    }
    this.settleLagChanges(now)
    return restored
  }

  /**
   * Takes another aggregator's copy of a node (a record with `remote`, judged
   * by its holder) unless this aggregator has the node connected itself.
   * Returns whether it was taken.
   */
  applyRemote (record: NodeRecord, now: Instant): boolean {
    if (record.remote === undefined) throw new TypeError('applyRemote takes remote records')
    const before = this.records.get(record.peerId)
    if (!remoteReplaces(before, record)) return false
    this.records.set(record.peerId, record)
    if (before === undefined) this.nicknames.add(record.beat.nickname)
    else this.nicknames.rename(before.beat.nickname, record.beat.nickname)
    if (before === undefined || judgedFactsDiffer(before, record)) this.revisionCount++
    this.settle(record, now)
    for (const l of this.listeners) l.onNodeChanged?.(record.peerId)
    this.settleLagChanges(now)
    return true
  }

  /** Re-derives what is due at `now`: nodes whose deadline passed (forgetting those silent past forget-after), networks whose catch-up window closed. */
  tick (now: Instant): void {
    for (const key of this.deadlines.due(now.mono)) {
      if (key.startsWith(NETWORK_KEY)) {
        // A network's catch-up window closed: its counts changed with no vote moving.
        this.revisionCount++
        continue
      }
      const record = this.records.get(key)
      if (record === undefined) continue
      if (now.mono - record.lastSeenMono > this.forgetAfterMs) {
        this.forget(record)
        continue
      }
      if (this.settle(record, now)) {
        for (const l of this.listeners) l.onNodeChanged?.(key)
      }
    }
    this.settleLagChanges(now)
    for (const l of this.listeners) l.onTick?.(now)
  }

  /**
   * Forgets a node at an operator's word (DELETE /api/v1/nodes/:peerId): it
   * leaves the view at once, not counted as forgotten for silence. A beat
   * from it later makes a new node. False when it was not in the view. The
   * nodes whose lag its leaving moves are re-derived at `now`, or at the next
   * tick when no time is given.
   */
  remove (peerId: string, now?: Instant): boolean {
    const record = this.records.get(peerId)
    if (record === undefined) return false
    this.drop(record, 'removed')
    if (now !== undefined) this.settleLagChanges(now)
    return true
  }

  /** Consensus per network at `now` (from the running tally; O(networks)). */
  consensus (now: Instant): FleetConsensus {
    const cached = this.consensusCache
    if (cached !== undefined && cached.revision === this.revisionCount && now.mono < cached.validUntil) return cached.result
    const networks = new Map<string, NetworkConsensus>()
    const contexts = new Map<string, NetworkContext>()
    let validUntil = Number.POSITIVE_INFINITY
    for (const votes of this.tally.networks()) {
      const catchUp = catchUpMs(votes)
      networks.set(votes.network, votes.summary(now.mono, catchUp))
      contexts.set(votes.network, { maxHeight: votes.maxHeight })
      const ends = votes.catchUpEnds(catchUp)
      if (ends !== undefined && ends > now.mono) validUntil = Math.min(validUntil, ends)
    }
    const result: FleetConsensus = { networks, contexts, at: now }
    this.consensusCache = { revision: this.revisionCount, validUntil, result }
    return result
  }

  /** True when another peer id carries the same (non-empty) nickname. */
  sharesNickname (nickname: string): boolean {
    return this.nicknames.isShared(nickname)
  }

  get (peerId: string): NodeRecord | undefined {
    return this.records.get(peerId)
  }

  verdict (peerId: string): StatusVerdict | undefined {
    return this.entries.get(peerId)?.verdict
  }

  /** Whether the node's head counts towards its network's consensus (alive or in its grace, with a head read). */
  isReporting (peerId: string): boolean {
    return this.entries.get(peerId)?.vote.reporting === true
  }

  /** Wall stamp since when the node has had its current status. */
  statusSince (peerId: string): number | undefined {
    return this.entries.get(peerId)?.since
  }

  /** What a node's network says (its top height), as the status rules see it. */
  networkContext (network: string): NetworkContext | undefined {
    const votes = this.tally.get(network)
    return votes === undefined ? undefined : { maxHeight: votes.maxHeight }
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

  /** Deadlines held (nodes and networks): for tests and benchmarks. */
  get pendingDeadlines (): number {
    return this.deadlines.size
  }

  private forget (record: NodeRecord): void {
    this.forgottenCount++
    this.drop(record, 'silent')
  }

  private drop (record: NodeRecord, why: 'silent' | 'removed'): void {
    const entry = this.entries.get(record.peerId)
    if (entry !== undefined) this.moveVote(record.peerId, entry.vote, undefined, undefined)
    this.records.delete(record.peerId)
    this.entries.delete(record.peerId)
    this.deadlines.cancel(record.peerId)
    this.lagChanged.delete(record.peerId)
    this.nicknames.remove(record.beat.nickname)
    this.revisionCount++
    for (const l of this.listeners) l.onNodeForgotten?.(record.peerId, why)
  }

  /**
   * Re-derives one node at `now`: its liveness, its vote (which may move its
   * network's top height), its verdict against its network, its next
   * deadline. True when status, reason or until changed.
   */
  private settle (record: NodeRecord, now: Instant): boolean {
    const peerId = record.peerId
    const remote = record.remote
    // A remote node is as its holder judged it: it votes as that verdict says, and only forget-after is due here.
    const liveness = remote !== undefined ? remoteLiveness(remote.verdict) : livenessOf(record, now.mono, this.rules)
    const previous = this.entries.get(peerId)
    const vote: ConsensusVoter = { network: record.beat.network, head: record.beat.head, height: record.beat.height, reporting: countsTowardsConsensus(liveness, record) }
    if (previous === undefined || !sameVote(previous.vote, vote)) this.moveVote(peerId, previous?.vote, vote, now.mono)
    const next = remote !== undefined ? remote.verdict : deriveStatus(record, now.mono, this.rules, this.networkContext(record.beat.network), liveness)
    const deadline = remote !== undefined ? undefined : nextStatusChange(record, now.mono, this.rules, liveness)
    const forgetAt = record.lastSeenMono + this.forgetAfterMs
    const at = deadline === undefined || forgetAt < deadline ? forgetAt : deadline
    // A deadline never lands in the past: a crossing computed at `now` (float) is looked at again on the next tick.
    this.deadlines.schedule(peerId, at > now.mono ? at : now.mono + 1)
    if (previous !== undefined && previous.verdict.status === next.status && previous.verdict.reason === next.reason && previous.verdict.until === next.until) {
      previous.vote = vote
      return false
    }
    this.revisionCount++
    if (previous?.verdict.status === next.status) {
      (previous as NodeEntry).verdict = next
      ;(previous as NodeEntry).vote = vote
      return true
    }
    // A remote node took its status when its holder says (its stamp, for display); a local one now.
    const since = Math.max(remote?.since ?? now.wall, previous?.since ?? Number.NEGATIVE_INFINITY)
    this.entries.set(peerId, { verdict: next, since, vote })
    const change: StatusChange = { peerId, from: previous?.verdict.status, to: next.status, reason: next.reason, at: since }
    for (const l of this.listeners) l.onStatusChanged?.(change)
    return true
  }

  /** Moves a node's vote in the tally; a network whose top height moved has the nodes whose lag changed re-derived. */
  private moveVote (peerId: string, from: ConsensusVoter | undefined, to: ConsensusVoter | undefined, nowMono: number | undefined): void {
    this.revisionCount++
    const topsBefore = new Map<NetworkVotes, number | undefined>()
    if (from !== undefined) {
      const votes = this.tally.get(from.network)
      if (votes !== undefined) topsBefore.set(votes, votes.maxHeight)
      this.tally.remove(from, peerId)
    }
    if (to !== undefined) {
      const existing = this.tally.get(to.network)
      if (existing !== undefined && !topsBefore.has(existing)) topsBefore.set(existing, existing.maxHeight)
      const votes = this.tally.add(to, peerId, nowMono)
      if (!topsBefore.has(votes)) topsBefore.set(votes, undefined)
    }
    for (const [votes, before] of topsBefore) {
      const after = votes.maxHeight
      if (before === after) continue
      // Lag changes for every node below the higher of the two tops; only those near the threshold change verdict,
      // but lagging ones say the network's height in their reason: re-derive every node below (top - threshold).
      const higher = Math.max(before ?? Number.NEGATIVE_INFINITY, after ?? Number.NEGATIVE_INFINITY)
      for (const member of votes.membersBelow(higher - this.rules.lagThreshold)) if (member !== peerId) this.lagChanged.add(member)
      if (after !== undefined && (before === undefined || after > before) && nowMono !== undefined) {
        const ends = votes.catchUpEnds(catchUpMs(votes))
        if (ends !== undefined) this.deadlines.schedule(`${NETWORK_KEY}${votes.network}`, ends)
      }
    }
  }

  /** Re-derives the nodes whose lag moved (a bounded cascade: re-deriving them moves no top height unless time also made them stale). */
  private settleLagChanges (now: Instant): void {
    let rounds = 0
    while (this.lagChanged.size > 0 && rounds++ < 8) {
      const batch = [...this.lagChanged]
      this.lagChanged.clear()
      for (const peerId of batch) {
        const record = this.records.get(peerId)
        if (record !== undefined && this.settle(record, now)) {
          for (const l of this.listeners) l.onNodeChanged?.(peerId)
        }
      }
    }
  }
}

/** How long a node one block behind a new top height is catching up: the network's block time, known or observed. */
function catchUpMs (votes: NetworkVotes): number {
  return chainOf(votes.network)?.blockTimeMs ?? votes.observedBlockMs ?? 0
}

function sameVote (a: ConsensusVoter, b: ConsensusVoter): boolean {
  return a.reporting === b.reporting && a.height === b.height && a.head === b.head && a.network === b.network
}

/** Whether a beat changed what the views judge by, beyond the beat's own bookkeeping (lastSeen, seq, sentAt). */
function judgedFactsDiffer (a: NodeRecord, b: NodeRecord): boolean {
  const x = a.beat
  const y = b.beat
  if (x.head !== y.head || x.height !== y.height || x.network !== y.network || x.nickname !== y.nickname || x.state !== y.state ||
    x.minerAddress !== y.minerAddress || x.period !== y.period || a.connected !== b.connected || (a.restored === true) !== (b.restored === true) ||
    a.identityConflict !== b.identityConflict || a.remote?.holder !== b.remote?.holder || (a.remote?.restored === true) !== (b.remote?.restored === true)) return true
  if (x.health.status !== y.health.status) return true
  const xc = x.health.components
  const yc = y.health.components
  const names = Object.keys(yc)
  if (names.length !== Object.keys(xc).length) return true
  for (const name of names) if (xc[name]?.status !== yc[name]?.status) return true
  const xm = x.maintenance
  const ym = y.maintenance
  if ((xm === undefined) !== (ym === undefined)) return true
  return xm !== undefined && ym !== undefined && (xm.reason !== ym.reason || (xm.until === undefined) !== (ym.until === undefined))
}
