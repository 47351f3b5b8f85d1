import { Backoff, type BackoffPolicy, type RandomSource } from './backoff.ts'
import type { WeightedTarget } from './targets.ts'

/**
 * Which aggregator a heartbeat service talks to, and when it may try again:
 * the pure core of delivery to several weighted targets (OpenZeppelin
 * Monitor's endpoint manager, applied to libp2p aggregators).
 *
 * - Preference: higher weight first; equal weights in the order given.
 * - Each target keeps its own backoff (exponential, full jitter), so a
 *   failure on one never delays an attempt on another: the service rotates
 *   to the next target at once and returns to a failed one only when its
 *   backoff allows.
 * - While connected below the best target, `upgradeCandidates` lists the
 *   better ones to probe on the reconnect ticker; the working connection is
 *   kept until a probe succeeds.
 * - A connection that lasted `stableAfterMs` counts as a success: when it
 *   drops, that target's backoff starts over from the initial ceiling. A
 *   connection that drops sooner (an aggregator that accepts then resets)
 *   keeps escalating, so a flapping aggregator is not hammered.
 *
 * No clock and no sockets here: the caller passes `now` to every call.
 */
export interface TargetSelectorOptions {
  policy: BackoffPolicy
  /** A connection that lasted this long resets its target's backoff when it ends (ms). */
  stableAfterMs: number
  random?: RandomSource
}

/** The next attempt: which target, its place in the preference order (0 = best), and when. */
export interface Choice {
  target: WeightedTarget
  rank: number
  /** Earliest time to start the attempt (may be in the past: at once). */
  at: number
}

interface Slot {
  target: WeightedTarget
  key: string
  backoff: Backoff
}

export class TargetSelector {
  private slots: Slot[] = []
  private policy: BackoffPolicy
  private stableAfterMs: number
  private readonly random: RandomSource
  private currentKey: string | undefined
  private connectedAt = 0

  constructor (targets: WeightedTarget[], options: TargetSelectorOptions) {
    if (targets.length === 0) throw new Error('TargetSelector needs at least one target')
    this.policy = options.policy
    this.stableAfterMs = options.stableAfterMs
    this.random = options.random ?? Math.random
    this.slots = rank(targets).map((target) => this.newSlot(target))
  }

  /** The targets in preference order. */
  ranked (): WeightedTarget[] {
    return this.slots.map((s) => s.target)
  }

  /** The connected target, if any. */
  current (): WeightedTarget | undefined {
    return this.slot(this.currentKey)?.target
  }

  /**
   * The target to try next: the best-ranked one whose backoff allows an
   * attempt now; if every one is backing off, the one free soonest.
   */
  next (now: number): Choice {
    const first = this.slots[0] as Slot
    let best: Choice = { target: first.target, rank: 0, at: Math.max(first.backoff.notBefore, now) }
    for (let rank = 1; rank < this.slots.length; rank++) {
      const slot = this.slots[rank] as Slot
      const at = Math.max(slot.backoff.notBefore, now)
      if (at < best.at) best = { target: slot.target, rank, at }
    }
    return best
  }

  /** A dial, a protocol negotiation or a probe failed; returns the backoff delay drawn for that target. */
  onAttemptFailed (key: string, now: number): number {
    return this.slot(key)?.backoff.onFailure(now) ?? 0
  }

  /** A stream to `key` is open and beats go there from now on (a first connection or a switch). */
  onConnected (key: string, now: number): void {
    if (this.slot(key) === undefined) return
    this.currentKey = key
    this.connectedAt = now
  }

  /** The current connection ended (a failed send, or the aggregator closed it). */
  onDisconnected (now: number): number {
    const slot = this.slot(this.currentKey)
    this.currentKey = undefined
    if (slot === undefined) return 0
    if (now - this.connectedAt >= this.stableAfterMs) slot.backoff.reset()
    return slot.backoff.onFailure(now)
  }

  /** The current connection was left on purpose (a switch, a reload, a stop): no failure. */
  onLeft (key: string, now: number): void {
    const slot = this.slot(key)
    if (slot !== undefined && now - this.connectedAt >= this.stableAfterMs) slot.backoff.reset()
    if (this.currentKey === key) this.currentKey = undefined
  }

  /**
   * Better targets than the current one, best first, to probe on the
   * reconnect ticker. Empty when not connected or already on the best.
   * Backoff does not apply: the ticker already paces probes to one per
   * reconnect period, the same as the backoff cap.
   */
  upgradeCandidates (): WeightedTarget[] {
    const index = this.slots.findIndex((s) => s.key === this.currentKey)
    if (index <= 0) return []
    return this.slots.slice(0, index).map((s) => s.target)
  }

  /**
   * New targets and policy (a reload). Backoff state carries over for
   * targets that stay; returns false when the current target is gone (the
   * caller must leave it).
   */
  replaceTargets (targets: WeightedTarget[], policy: BackoffPolicy, stableAfterMs: number): boolean {
    if (targets.length === 0) throw new Error('TargetSelector needs at least one target')
    this.policy = policy
    this.stableAfterMs = stableAfterMs
    const old = new Map(this.slots.map((s) => [s.key, s]))
    this.slots = rank(targets).map((target) => {
      const kept = old.get(keyOf(target))
      if (kept === undefined) return this.newSlot(target)
      kept.backoff.setPolicy(policy)
      return { ...kept, target }
    })
    if (this.currentKey !== undefined && this.slot(this.currentKey) === undefined) {
      this.currentKey = undefined
      return false
    }
    return true
  }

  /** Consecutive failures of one target (for status and tests). */
  failures (key: string): number {
    return this.slot(key)?.backoff.consecutiveFailures ?? 0
  }

  private slot (key: string | undefined): Slot | undefined {
    return key === undefined ? undefined : this.slots.find((s) => s.key === key)
  }

  private newSlot (target: WeightedTarget): Slot {
    return { target, key: keyOf(target), backoff: new Backoff(this.policy, this.random) }
  }
}

/** A target's identity in the selector: its multiaddr as text. */
export function keyOf (t: WeightedTarget): string {
  return t.target.text
}

/** Higher weight first; a stable sort keeps the given order among equal weights. */
function rank (targets: WeightedTarget[]): WeightedTarget[] {
  return [...targets].sort((a, b) => b.weight - a.weight)
}
