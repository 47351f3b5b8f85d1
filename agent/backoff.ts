/**
 * Exponential backoff with full jitter, as a pure policy. The delay before
 * retry n (n = consecutive failures, from 1) is uniform in
 * [0, min(cap, initial * base^(n-1))). Full jitter (rather than a fixed
 * delay, or a small jitter around one) is what spreads thousands of agents
 * that lost the same aggregator at the same instant over the whole window,
 * so its restart is met by a trickle instead of a wall.
 *
 * Time and randomness come from the caller, so tests walk sequences without
 * sleeping and pin the random draw.
 */
export interface BackoffPolicy {
  /** Ceiling of the first retry's delay, ms (the seed's 250 ms). */
  initialMs: number
  /** Growth factor of the ceiling per consecutive failure (the seed's 2). */
  base: number
  /** The ceiling never grows past this, ms (the agent uses its reconnect period). */
  capMs: number
}

/** A source of uniform numbers in [0, 1), like Math.random. */
export type RandomSource = () => number

/** The upper bound of the delay after `failures` consecutive failures (0 before any failure). */
export function backoffCeiling (policy: BackoffPolicy, failures: number): number {
  if (failures <= 0) return 0
  // base ** large is Infinity, which min() turns into the cap: no overflow to worry about.
  const grown = policy.initialMs * policy.base ** (failures - 1)
  return Math.max(0, Math.min(policy.capMs, grown))
}

/** One full-jitter draw: uniform in [0, ceiling). */
export function fullJitterDelay (policy: BackoffPolicy, failures: number, random: RandomSource): number {
  const draw = random()
  // A misbehaving source must not produce a negative or over-cap delay.
  const unit = Number.isFinite(draw) ? Math.min(Math.max(draw, 0), 1 - Number.EPSILON) : 0
  return Math.floor(unit * backoffCeiling(policy, failures))
}

/** Backoff state of one target: how many failures in a row, and when the next attempt may start. */
export class Backoff {
  private policy: BackoffPolicy
  private readonly random: RandomSource
  private failures = 0
  private notBeforeAt = Number.NEGATIVE_INFINITY

  constructor (policy: BackoffPolicy, random: RandomSource = Math.random) {
    this.policy = policy
    this.random = random
  }

  /** Records a failure at `now`; returns the delay drawn before the next attempt. */
  onFailure (now: number): number {
    this.failures++
    const delay = fullJitterDelay(this.policy, this.failures, this.random)
    this.notBeforeAt = now + delay
    return delay
  }

  /** A success: the next failure starts again from the initial ceiling, and an attempt may start at once. */
  reset (): void {
    this.failures = 0
    this.notBeforeAt = Number.NEGATIVE_INFINITY
  }

  /** Live reconfiguration (a new reconnect period changes the cap); the current wait is kept. */
  setPolicy (policy: BackoffPolicy): void {
    this.policy = policy
  }

  /** The earliest time the next attempt may start (-Infinity: at once). */
  get notBefore (): number {
    return this.notBeforeAt
  }

  get consecutiveFailures (): number {
    return this.failures
  }
}
