/**
 * The agent's reconnect backoff: exponential with full jitter. The delay
 * before retry n (n = consecutive failures, from 1) is uniform in
 * [0, min(cap, initial * base^(n-1))). Full jitter (rather than a fixed
 * delay, or a small jitter around one) is what spreads thousands of agents
 * that lost the same aggregator at the same instant over the whole window,
 * so its restart is met by a trickle instead of a wall. The policy itself is
 * the product's one BackoffPolicy (shared/backoff.ts).
 *
 * Time and randomness come from the caller, so tests walk sequences without
 * sleeping and pin the random draw.
 */
import { backoffCeiling, backoffDelay, type BackoffPolicy, type RandomSource } from '../shared/backoff.ts'

export { backoffCeiling, type BackoffPolicy, type RandomSource }

/** One full-jitter draw: uniform in [0, ceiling), whatever jitter the policy names. */
export function fullJitterDelay (policy: BackoffPolicy, failures: number, random: RandomSource): number {
  return backoffDelay({ ...policy, jitter: { kind: 'full' } }, failures, random)
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
    const delay = backoffDelay(this.policy, this.failures, this.random)
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
