import {
  RETRY_AFTER_CAP_MS, RETRY_FACTOR, RETRY_INITIAL_DELAY_MS, RETRY_JITTER, RETRY_MAX_ATTEMPTS, RETRY_MAX_DELAY_MS,
} from '../constants.ts'

export interface BackoffPolicy {
  /** Delay after the first failed attempt (ms). */
  initialDelayMs: number
  /** No delay is longer than this (ms). */
  maxDelayMs: number
  /** Each further failure multiplies the delay by this. */
  factor: number
  /** Fraction of each delay left to chance (0: none, 1: anywhere from 0 to the delay). */
  jitter: number
  /** Attempts in all, the first included; after the last one fails the delivery is given up. */
  maxAttempts: number
  /** A receiver's Retry-After is honoured up to this (ms). */
  retryAfterCapMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialDelayMs: RETRY_INITIAL_DELAY_MS,
  maxDelayMs: RETRY_MAX_DELAY_MS,
  factor: RETRY_FACTOR,
  jitter: RETRY_JITTER,
  maxAttempts: RETRY_MAX_ATTEMPTS,
  retryAfterCapMs: RETRY_AFTER_CAP_MS,
}

/**
 * How long to wait after failed attempt number `attempt` (1 = the first), or
 * undefined to give up. Exponential, capped, and jittered downwards so that
 * many aggregators retrying the same receiver spread out; `random` returns
 * [0, 1) and is injected so the policy is tested without chance. A
 * Retry-After from the receiver lengthens the wait (never shortens it), up
 * to a cap.
 */
export function retryDelay (policy: BackoffPolicy, attempt: number, random: () => number, retryAfterMs?: number): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 1))
  const jitter = Math.min(1, Math.max(0, policy.jitter))
  const delay = Math.round(exponential * (1 - jitter * clamp01(random())))
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

function clamp01 (n: number): number {
  return Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0
}
