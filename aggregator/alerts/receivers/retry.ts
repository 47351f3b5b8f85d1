import { backoffDelay, type BackoffPolicy, type RandomSource } from '../../../shared/backoff.ts'
import {
  RETRY_AFTER_CAP_MS, RETRY_FACTOR, RETRY_INITIAL_DELAY_MS, RETRY_JITTER, RETRY_MAX_ATTEMPTS, RETRY_MAX_DELAY_MS,
} from '../constants.ts'

/** How a receiver retries a delivery: the product's BackoffPolicy, a number of attempts, and how far a Retry-After is honoured. */
export interface RetryPolicy extends BackoffPolicy {
  /** Attempts in all, the first included; after the last one fails the delivery is given up. */
  maxAttempts: number
  /** A receiver's Retry-After is honoured up to this (ms). */
  retryAfterCapMs: number
}

/** Jittered downwards, so that many aggregators retrying the same receiver spread out but never wait longer than the backoff. */
export const DEFAULT_RETRY: RetryPolicy = {
  initialMs: RETRY_INITIAL_DELAY_MS,
  base: RETRY_FACTOR,
  capMs: RETRY_MAX_DELAY_MS,
  jitter: { kind: 'down', share: RETRY_JITTER },
  maxAttempts: RETRY_MAX_ATTEMPTS,
  retryAfterCapMs: RETRY_AFTER_CAP_MS,
}

/**
 * How long to wait after failed attempt number `attempt` (1 = the first), or
 * undefined to give up. A Retry-After from the receiver lengthens the wait
 * (never shortens it), up to a cap.
 */
export function retryDelay (policy: RetryPolicy, attempt: number, random: RandomSource, retryAfterMs?: number): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined
  const delay = backoffDelay(policy, Math.max(1, attempt), random)
  if (retryAfterMs === undefined) return delay
  return Math.max(delay, Math.min(retryAfterMs, policy.retryAfterCapMs))
}

/** An HTTP Retry-After header (seconds, or an HTTP date) as milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter (value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}
