import { type Clock, type Instant, instantOf, systemClock } from '../../shared/clock.ts'
import { NODE_VIEW_DEFER_MAX_MS, NODE_VIEW_MAX_AGE_MS, NODE_VIEW_REBUILD_BUDGET } from '../constants.ts'
import { exposeNode, withoutDetails } from '../fleet/exposure.ts'
import type { FleetConsensus, FleetState } from '../fleet/fleet-state.ts'
import { lagOf } from '../fleet/status.ts'
import { compareNodeViews, nodeView, nodeViewContext, type NodeView } from '../fleet/view.ts'
import { changedKeys, HEALTH_DETAILS_ONLY, mergeChange, onlyTimeMoved, sameValue, type NodeChange } from './view-delta.ts'

/** One node's view as the fleet document and the live feed serve it, built once per change. */
export interface NodeEntry {
  readonly peerId: string
  /** Through the registry's decorator chain (scope `fleet`), before exposure. */
  readonly view: NodeView
  readonly remoteAddr: string | undefined
  /** When it was built (monotonic clock): time alone moves phi, the head's age and uptime (TIME_MOVED_FIELDS), so an old entry is rebuilt. */
  readonly builtAt: number
  /** The exposed view's JSON per exposure ([without details, with details]), made on first use. */
  readonly json: [Buffer | undefined, Buffer | undefined]
  /** Its fleet health checks' JSON per exposure (GET /api/v1/fleet/health), made on first use. */
  readonly checks: [Buffer | undefined, Buffer | undefined]
  /** Lower-cased nickname and peer id, for `?q=`; made on first use. */
  search?: string
}

export interface FleetViewCacheOptions {
  fleet: FleetState
  /** The node-view decorator chain (HttpRegistry.decorate, scope `fleet`). */
  decorate: (view: NodeView, now: Instant) => NodeView
  /** Wall clock for the views, monotonic for their age. */
  clock?: Clock
  /** Rebuild an entry this old even if nothing said it changed (phi and uptime move with time). */
  maxAgeMs?: number
  /** Existing views rebuilt at most per refresh for the beat stream (NODE_VIEW_REBUILD_BUDGET). */
  budget?: number
  /** The longest the budget defers a view's rebuild (NODE_VIEW_DEFER_MAX_MS). */
  deferMaxMs?: number
}

/**
 * Every node's view, built when it changed rather than per request: the
 * fleet state's change notices, `invalidate` for what decorators show, and
 * two checks no notice covers (a network's maximum height moved: lags; a
 * nickname came or went: duplicate flags) mark entries stale, and `refresh`
 * rebuilds only those. Entries keep their JSON, so a document is a join of
 * bytes already made.
 *
 * While changes are tracked (the live feed has clients), each rebuild notes
 * which fields of the view changed; `takeChanges` hands them over. A node
 * noted again before it was taken keeps every field noted, so what a client
 * holds (a snapshot, then the deltas) never misses a change, whichever build
 * its snapshot came from.
 */
export class FleetViewCache {
  private readonly fleet: FleetState
  private readonly decorate: (view: NodeView, now: Instant) => NodeView
  private readonly clock: Clock
  private readonly maxAgeMs: number
  /** In build order, oldest first (a rebuilt entry moves to the end): the aged ones are at the front. */
  private readonly entries = new Map<string, NodeEntry>()
  /**
   * Beat-stream changes, aged views, moved lags and duplicates, each with when
   * (monotonic) it was first marked, oldest first: rebuilt within a budget per
   * refresh, but none deferred longer than deferMaxMs.
   */
  private readonly stale = new Map<string, number>()
  /** What a part or an operator said changed, status changes and removals: rebuilt at the next refresh, whatever the budget. */
  private readonly urgentStale = new Map<string, number>()
  private readonly deferMaxMs: number
  private readonly budget: number
  private everything = true
  /** Peer ids in the document's order; undefined when it must be sorted again. */
  private order: string[] | undefined
  /** Each network's maximum height when lags were last checked. */
  private maxHeights = new Map<string, number | undefined>()
  /** Nicknames that came, went or moved since duplicates were last checked. */
  private readonly movedNicknames = new Set<string>()
  private tracked: Map<string, NodeChange> | undefined
  private readonly unsubscribe: () => void
  private generationCount = 0
  private membershipCount = 0
  private noticeCount = 0
  private urgentCount = 0

  constructor (options: FleetViewCacheOptions) {
    this.fleet = options.fleet
    this.decorate = options.decorate
    this.clock = options.clock ?? systemClock
    this.maxAgeMs = options.maxAgeMs ?? NODE_VIEW_MAX_AGE_MS
    this.budget = options.budget ?? NODE_VIEW_REBUILD_BUDGET
    this.deferMaxMs = options.deferMaxMs ?? NODE_VIEW_DEFER_MAX_MS
    this.unsubscribe = this.fleet.subscribe({
      // Beats and ticks: the documents may hold these back (FleetDocuments).
      onNodeChanged: (peerId) => { this.invalidate([peerId], false) },
      // A status that changed (a deadline passed with no beat, a beat that turned it) is never held back:
      // a document must not show a verdict the fleet has left. onNodeChanged follows for the same node.
      onStatusChanged: (change) => { this.invalidate([change.peerId]) },
      // Gone from the state: the next refresh finds no record and drops the entry.
      onNodeForgotten: (peerId) => { this.invalidate([peerId]) },
    })
  }

  /** Bumps whenever an entry changed, came or went (not when a rebuild found it the same). */
  get generation (): number {
    return this.generationCount
  }

  /** Bumps whenever a node came or went. */
  get membership (): number {
    return this.membershipCount
  }

  /** Bumps on every notice that what the views show may have changed (nodes or not). */
  get notices (): number {
    return this.noticeCount
  }

  /**
   * Notices that are not the beat stream: a node's status changed (on a beat
   * or on a deadline), an operator's action, an alert or a window that
   * changed, a node removed. The documents never hold these back.
   */
  get urgentNotices (): number {
    return this.urgentCount
  }

  /**
   * Marks nodes stale (all of them without `peerIds`), or, with an empty
   * list, only says that something else changed. `urgent`: see urgentNotices
   * (only the fleet's own node changes are not).
   */
  invalidate (peerIds?: Iterable<string>, urgent = true): void {
    this.noticeCount++
    if (urgent) this.urgentCount++
    if (peerIds === undefined) this.everything = true
    else for (const peerId of peerIds) mark(urgent ? this.urgentStale : this.stale, peerId, this.clock.monotonic())
  }

  /** Starts or stops noting changes for `takeChanges` (the live feed while it has clients). */
  trackChanges (on: boolean): void {
    this.tracked = on ? new Map() : undefined
  }

  /** The changes noted since the last call, by peer id. */
  takeChanges (): Map<string, NodeChange> {
    const taken = this.tracked ?? new Map<string, NodeChange>()
    if (this.tracked !== undefined) this.tracked = new Map()
    return taken
  }

  /**
   * Brings the entries up to date; `prepare` sees each entry built (to
   * serialise it while the work is spread out). New and gone nodes and what
   * was said urgently are always done; of the rest (a beat, a moved lag, an
   * old view) at most `budget` views are rebuilt, the others at the next
   * refresh: when a block moves every node's lag at once, the work is spread
   * over a few refreshes instead of one long stop. Returns the network picture
   * lags were judged by: the fleet's as of now (its running tally), so a
   * document's summary and its views agree with what was folded.
   */
  refresh (prepare?: (entry: NodeEntry) => void): FleetConsensus {
    const now = instantOf(this.clock)
    const at = now.mono
    // The fleet's running tally: O(networks), and the same picture its statuses were judged by.
    const consensus = this.fleet.consensus(now)
    if (this.everything) {
      this.everything = false
      for (const peerId of this.entries.keys()) mark(this.stale, peerId, at)
      for (const record of this.fleet.nodes()) mark(this.stale, record.peerId, at)
    }
    for (const entry of this.entries.values()) {
      if (at - entry.builtAt < this.maxAgeMs && at >= entry.builtAt) break
      mark(this.stale, entry.peerId, at)
    }
    this.markMovedLags(consensus, at)
    this.rebuild(this.urgentStale, Number.POSITIVE_INFINITY, consensus, now, at, prepare)
    const budget = this.rebuild(this.stale, this.budget, consensus, now, at, prepare)
    if (this.movedNicknames.size > 0) {
      this.markMovedDuplicates(at)
      this.rebuild(this.stale, budget, consensus, now, at, prepare)
    }
    return consensus
  }

  /** The entries in the document's order (by display name, then peer id), as of the last refresh. */
  ordered (): NodeEntry[] {
    if (this.order === undefined) {
      const all = [...this.entries.values()].sort((a, b) => compareNodeViews(a.view, b.view))
      this.order = all.map((e) => e.peerId)
      return all
    }
    return this.order.map((peerId) => this.entries.get(peerId) as NodeEntry)
  }

  entry (peerId: string): NodeEntry | undefined {
    return this.entries.get(peerId)
  }

  close (): void {
    this.unsubscribe()
  }

  /** A network whose maximum height moved changes the lag of its nodes, which no node notice says. */
  private markMovedLags (consensus: FleetConsensus, at: number): void {
    const moved = new Set<string>()
    const heights = new Map<string, number | undefined>()
    for (const [network, context] of consensus.contexts) {
      heights.set(network, context.maxHeight)
      if (this.maxHeights.get(network) !== context.maxHeight) moved.add(network)
    }
    this.maxHeights = heights
    if (moved.size === 0) return
    for (const entry of this.entries.values()) {
      if (!moved.has(entry.view.network) || this.stale.has(entry.peerId) || this.urgentStale.has(entry.peerId)) continue
      const record = this.fleet.get(entry.peerId)
      if (record === undefined || lagOf(record, consensus.contexts.get(record.beat.network)) !== entry.view.lag) mark(this.stale, entry.peerId, at)
    }
  }

  /** A nickname that came or went flips the duplicate flag of the other nodes carrying it. */
  private markMovedDuplicates (at: number): void {
    for (const entry of this.entries.values()) {
      const { nickname, duplicateNickname } = entry.view
      if (this.movedNicknames.has(nickname) && this.fleet.sharesNickname(nickname) !== duplicateNickname) mark(this.stale, entry.peerId, at)
    }
    this.movedNicknames.clear()
  }

  /** Rebuilds the nodes of `pending` (taking them out), existing views at most `budget` of them; returns what is left of it. */
  private rebuild (pending: Map<string, number>, budget: number, consensus: FleetConsensus, now: Instant, at: number, prepare: ((entry: NodeEntry) => void) | undefined): number {
    for (const [peerId, since] of pending) {
      const old = this.entries.get(peerId)
      const record = this.fleet.get(peerId)
      const verdict = this.fleet.verdict(peerId)
      if (record === undefined || verdict === undefined) {
        pending.delete(peerId)
        if (old === undefined) continue
        this.entries.delete(peerId)
        this.dropped(old)
        continue
      }
      // A node not in the view yet always comes in: a document never lacks a node the fleet holds.
      // The budget spreads a burst over refreshes; it never leaves a view behind longer than deferMaxMs (a document
      // built after a quiet spell, with no refresh in between, rebuilds every view that changed).
      if (old !== undefined) {
        if (budget <= 0 && at - since < this.deferMaxMs && at >= since) continue
        budget--
      }
      pending.delete(peerId)
      this.stale.delete(peerId)
      const view = this.decorate(nodeView(record, verdict, nodeViewContext(this.fleet, record, consensus, now)), now)
      const change = old === undefined ? 'full' : this.changeOf(old, view, record.remoteAddr)
      // Rebuilt for a notice that did not concern it: time alone moved it, and it is not old yet. It stays as it was.
      if (old !== undefined && change !== 'full' && change.size > 0 && onlyTimeMoved(change) && at - old.builtAt < this.maxAgeMs && at >= old.builtAt) continue
      const unchanged = change !== 'full' && change.size === 0
      // Unchanged views keep their JSON: only the age is new.
      const kept = unchanged ? old : undefined
      const entry: NodeEntry = {
        peerId, view, remoteAddr: record.remoteAddr, builtAt: at, json: kept?.json ?? [undefined, undefined], checks: kept?.checks ?? [undefined, undefined], search: kept?.search,
      }
      this.entries.delete(peerId)
      this.entries.set(peerId, entry)
      if (unchanged) continue
      prepare?.(entry)
      this.generationCount++
      if (old === undefined || old.view.displayName !== view.displayName) this.order = undefined
      if (old === undefined) this.membershipCount++
      if (old === undefined) this.movedNicknames.add(view.nickname)
      else if (old.view.nickname !== view.nickname) {
        this.movedNicknames.add(old.view.nickname)
        this.movedNicknames.add(view.nickname)
      }
      this.note(peerId, change)
    }
    return budget
  }

  private dropped (old: NodeEntry): void {
    this.generationCount++
    this.membershipCount++
    this.order = undefined
    this.movedNicknames.add(old.view.nickname)
    this.note(old.peerId, 'removed')
  }

  private changeOf (old: NodeEntry, view: NodeView, remoteAddr: string | undefined): ReadonlySet<string> | 'full' {
    const found = changedKeys(old.view, view)
    if (found === 'full') return found
    if (old.remoteAddr !== remoteAddr && remoteAddr === undefined) return 'full'
    if (old.remoteAddr === remoteAddr && !found.has('health')) return found
    const keys = new Set(found)
    if (old.remoteAddr !== remoteAddr) keys.add('remoteAddr')
    if (keys.has('health') && sameValue(withoutDetails(old.view.health), withoutDetails(view.health))) {
      keys.delete('health')
      keys.add(HEALTH_DETAILS_ONLY)
    }
    return keys
  }

  private note (peerId: string, change: NodeChange): void {
    if (this.tracked === undefined) return
    this.tracked.set(peerId, mergeChange(this.tracked.get(peerId), change))
  }
}

/** Marks a node stale at `at`, keeping the time it was first marked. */
function mark (pending: Map<string, number>, peerId: string, at: number): void {
  if (!pending.has(peerId)) pending.set(peerId, at)
}

/** The JSON of an entry's view as a caller with (or without) details may see it; made once per entry and exposure. */
export function entryJson (entry: NodeEntry, details: boolean): Buffer {
  const slot = details ? 1 : 0
  let json = entry.json[slot]
  if (json === undefined) {
    json = Buffer.from(JSON.stringify(exposeNode(entry.view, details, entry.remoteAddr)))
    entry.json[slot] = json
  }
  return json
}

const COMMA = Buffer.from(',')

/** JSON pieces with a comma between each two (the members of an array or object). */
export function commaJoined (parts: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out.push(COMMA)
    out.push(parts[i] as Buffer)
  }
  return out
}
