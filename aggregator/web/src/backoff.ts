import { backoffDelay, type BackoffPolicy } from '../../../shared/backoff.ts'
import { RECONNECT_FACTOR, RECONNECT_JITTER, RECONNECT_MAX_MS, RECONNECT_MIN_MS } from './constants.ts'

export type { BackoffPolicy }

/** The live feed's reconnects: the product's one BackoffPolicy, jittered both ways so many pages do not reconnect in step. */
export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: RECONNECT_MIN_MS,
  base: RECONNECT_FACTOR,
  capMs: RECONNECT_MAX_MS,
  jitter: { kind: 'around', share: RECONNECT_JITTER },
}

/** Wait before reconnect attempt `attempt` (0 = the first retry). `random` returns [0, 1) and is injected for tests. */
export function reconnectDelay (attempt: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return backoffDelay(policy, attempt + 1, random)
}
