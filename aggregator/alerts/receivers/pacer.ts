import { type Clock, systemClock } from '../../../shared/clock.ts'

/** At most `count` sends in any `perMs` (a service's documented rate limit). */
export interface RateLimit {
  count: number
  perMs: number
}

/**
 * When the next send may go, given when the last ones went (monotonic ms,
 * oldest first) and the limits: never before `heldUntil` (the service said
 * so: a Retry-After, Discord's X-RateLimit-Remaining 0), and never so that
 * any window would hold more than its count. Pure.
 */
export function nextSendAt (sent: readonly number[], limits: readonly RateLimit[], now: number, heldUntil: number): number {
  let at = Math.max(now, heldUntil)
  for (const limit of limits) {
    if (limit.count <= 0 || sent.length < limit.count) continue
    // The send `count` back from the newest must have left the window.
    const oldestInWindow = sent[sent.length - limit.count] as number
    at = Math.max(at, oldestInWindow + limit.perMs)
  }
  return at
}

/**
 * Keeps one receiver within its service's rate limits: each send first
 * `take`s a slot, waiting (on the injected clock, abortably) until the
 * sliding windows allow it; `hold` pushes every send back after the service
 * said "not before then". Used by the delivery queue, so notifications and
 * test messages share the same budget. Waits, never drops.
 */
export class Pacer {
  private readonly limits: readonly RateLimit[]
  private readonly clock: Clock
  private readonly keep: number
  private readonly sent: number[] = []
  private heldUntil = Number.NEGATIVE_INFINITY
  /** Sends are serialised through this chain, so two callers never take the same slot. */
  private chain: Promise<void> = Promise.resolve()

  constructor (limits: readonly RateLimit[], clock: Clock = systemClock) {
    this.limits = limits
    this.clock = clock
    this.keep = Math.max(0, ...limits.map((l) => l.count))
  }

  /** Resolves when a send may go now (and counts it), or at once when `signal` aborts. */
  async take (signal: AbortSignal): Promise<void> {
    const turn = this.chain.then(async () => { await this.waitForSlot(signal) })
    this.chain = turn.catch(() => {})
    await turn
  }

  /** Nothing goes out for `ms` from now (the service asked for it). */
  hold (ms: number): void {
    if (!(ms > 0)) return
    this.heldUntil = Math.max(this.heldUntil, this.clock.monotonic() + ms)
  }

  /** How long a send would wait now (ms), for the API's view of the receiver. */
  waitMs (): number {
    const now = this.clock.monotonic()
    return Math.max(0, nextSendAt(this.sent, this.limits, now, this.heldUntil) - now)
  }

  private async waitForSlot (signal: AbortSignal): Promise<void> {
    for (;;) {
      if (signal.aborted) return
      const now = this.clock.monotonic()
      const at = nextSendAt(this.sent, this.limits, now, this.heldUntil)
      if (at <= now) break
      await this.clock.sleep(at - now, signal)
    }
    this.sent.push(this.clock.monotonic())
    if (this.sent.length > this.keep) this.sent.splice(0, this.sent.length - this.keep)
  }
}
