import { RECONNECT_FACTOR, RECONNECT_JITTER, RECONNECT_MAX_MS, RECONNECT_MIN_MS } from './constants.ts'

export interface BackoffPolicy {
  minMs: number
  factor: number
  maxMs: number
  /** Share of the delay added or taken at random, so many pages do not reconnect in step. */
  jitter: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  minMs: RECONNECT_MIN_MS,
  factor: RECONNECT_FACTOR,
  maxMs: RECONNECT_MAX_MS,
  jitter: RECONNECT_JITTER,
}

/**
 * Wait before reconnect attempt `attempt` (0 = the first retry): exponential,
 * capped, with jitter. `random` returns [0, 1) and is injected for tests.
 */
export function reconnectDelay (attempt: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, Math.min(attempt, 64))
  const base = Math.min(policy.maxMs, policy.minMs * policy.factor ** exponent)
  const spread = 1 + policy.jitter * (2 * random() - 1)
  return Math.round(Math.min(policy.maxMs, Math.max(policy.minMs * (1 - policy.jitter), base * spread)))
}
