/**
 * Exponential backoff as one pure policy, for everything that retries: the
 * agent's reconnects, the alert receivers' deliveries, the page's live feed.
 * The delay after `failures` consecutive failures (from 1) grows from
 * `initialMs` by `base` per failure up to `capMs`, then is spread at random
 * by the policy's jitter, so that many retriers that failed at the same
 * instant do not come back in step. Randomness is injected: tests pin it.
 * (Pure, no timers: the browser bundle uses it too.)
 */

/** How a delay is spread at random. */
export type Jitter =
  /** Uniform in [0, delay): what spreads thousands of agents that lost one aggregator over the whole window. */
  | { kind: 'full' }
  /** Up to `share` of the delay taken off (0: none, 1: anywhere from 0 to the delay): never longer than the delay. */
  | { kind: 'down', share: number }
  /** Up to `share` of the delay added or taken off, never below the first delay less its share, never above the cap. */
  | { kind: 'around', share: number }

export interface BackoffPolicy {
  /** The delay (before jitter) after the first failure, ms. */
  initialMs: number
  /** Growth of the delay per further failure. */
  base: number
  /** No delay is longer than this, ms. */
  capMs: number
  /** Full jitter when absent. */
  jitter?: Jitter
}

/** A source of uniform numbers in [0, 1), like Math.random. */
export type RandomSource = () => number

/** The delay before jitter after `failures` consecutive failures (0 before any failure). */
export function backoffCeiling (policy: BackoffPolicy, failures: number): number {
  if (failures <= 0) return 0
  // base ** large is Infinity, which min() turns into the cap: no overflow to worry about.
  const grown = policy.initialMs * policy.base ** (failures - 1)
  return Math.max(0, Math.min(policy.capMs, grown))
}

/** The delay after `failures` consecutive failures, jittered by one draw of `random`. */
export function backoffDelay (policy: BackoffPolicy, failures: number, random: RandomSource): number {
  const ceiling = backoffCeiling(policy, failures)
  const jitter = policy.jitter ?? FULL_JITTER
  const draw = random()
  // A misbehaving source must not produce a negative or over-cap delay.
  const unit = Number.isFinite(draw) ? Math.min(Math.max(draw, 0), 1 - Number.EPSILON) : 0
  switch (jitter.kind) {
    // Floored, so the delay stays strictly below the ceiling.
    case 'full': return Math.floor(unit * ceiling)
    case 'down': return Math.round(ceiling * (1 - clamp01(jitter.share) * unit))
    case 'around': {
      const share = clamp01(jitter.share)
      const spread = ceiling * (1 + share * (2 * unit - 1))
      return Math.round(Math.min(policy.capMs, Math.max(policy.initialMs * (1 - share), spread)))
    }
  }
}

const FULL_JITTER: Jitter = { kind: 'full' }

function clamp01 (n: number): number {
  return Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0
}
