import { type Clock, systemClock, type Timer } from '../../../shared/clock.ts'
import type { Logger } from '../../../shared/log.ts'
import type { Pacer } from './pacer.ts'
import { retryDelay, type RetryPolicy } from './retry.ts'
import type { ReceiverStats } from './receiver.ts'

/** What the service said, when it said anything: its status code and answer (for test-alert and the logs). */
export interface ServiceAnswer {
  /** HTTP status, or the SMTP reply code. */
  status?: number | undefined
  /** The service's answer ("ok", `{"ok":true,...}`, "250 2.0.0 queued"), trimmed and bounded. */
  answer?: string | undefined
}

/** How one delivery attempt ended. */
export type DeliveryResult = ServiceAnswer & (
  | { ok: true }
  /** Worth another try (network error, timeout, 5xx, 429); the receiver may say when. */
  | { ok: false, retry: true, error: string, retryAfterMs?: number }
  /** The receiver refused it for good (other 4xx): retrying would not help. */
  | { ok: false, retry: false, error: string }
)

/** How a delivery ended, after its retries: for test-alert, which prints it. */
export interface DeliveryOutcome {
  delivered: boolean
  attempts: number
  /** The last attempt's result. */
  last: DeliveryResult
}

/** Whether a receiver is getting through, for the API and the page. Times are wall clock (ms). */
export interface DeliveryState {
  /** The last delivery failed for good, or is being retried. */
  failing: boolean
  lastError: string | null
  lastErrorAt: number | null
  lastDeliveredAt: number | null
}

export interface DeliveryQueueOptions<T> {
  /** Items waiting at most (besides the one being sent); a push beyond drops the oldest (the newest state matters most). */
  capacity: number
  send: (item: T, signal: AbortSignal) => Promise<DeliveryResult>
  policy: RetryPolicy
  random?: (() => number) | undefined
  /** The retry waits and the stop deadline; the system clock when absent. */
  clock?: Clock | undefined
  logger: Logger
  /** For logs. */
  describe: (item: T) => string
  /** The service's rate limits: every attempt waits for a slot, and a Retry-After holds every send back. */
  pacer?: Pacer | undefined
}

/**
 * A bounded FIFO with one sender: items go out in order, each retried with
 * backoff until it is delivered, refused or given up on. `push` returns at
 * once, so whoever pushes (the alert evaluation, hence the fleet tick) is
 * never held up by a slow receiver.
 */
export class DeliveryQueue<T> {
  private readonly options: DeliveryQueueOptions<T>
  private readonly items: T[] = []
  private readonly stopController = new AbortController()
  private readonly random: () => number
  private readonly clock: Clock
  private readonly counters = { sent: 0, failed: 0, dropped: 0, retries: 0 }
  private worker: Promise<void> | undefined
  private inFlight = false
  /** Whether the receiver is failing now (to log the first failure and the recovery, not each retry). */
  private failing = false
  private lastError: string | null = null
  private lastErrorAt: number | null = null
  private lastDeliveredAt: number | null = null

  constructor (options: DeliveryQueueOptions<T>) {
    this.options = options
    this.random = options.random ?? Math.random
    this.clock = options.clock ?? systemClock
  }

  push (item: T): boolean {
    if (this.stopController.signal.aborted) {
      this.count('dropped')
      return false
    }
    let accepted = true
    if (this.items.length >= this.options.capacity) {
      this.items.shift()
      this.count('dropped')
      accepted = false
    }
    this.items.push(item)
    this.worker ??= this.drain().finally(() => { this.worker = undefined })
    return accepted
  }

  stats (): ReceiverStats {
    return { ...this.counters, queued: this.items.length + (this.inFlight ? 1 : 0) }
  }

  delivery (): DeliveryState {
    return { failing: this.failing, lastError: this.lastError, lastErrorAt: this.lastErrorAt, lastDeliveredAt: this.lastDeliveredAt }
  }

  /**
   * Sends one item now, beside the queue (test-alert): within the same rate
   * limits, retried like a queued one but at most `maxAttempts` times, and
   * says how it ended. Not counted in the queue's stats.
   */
  async sendNow (item: T, options: { maxAttempts: number, signal: AbortSignal }): Promise<DeliveryOutcome> {
    const policy = { ...this.options.policy, maxAttempts: Math.min(this.options.policy.maxAttempts, options.maxAttempts) }
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(item, options.signal)
      if (result.ok) return { delivered: true, attempts: attempt, last: result }
      const delay = result.retry && !options.signal.aborted ? retryDelay(policy, attempt, this.random, result.retryAfterMs) : undefined
      if (delay === undefined) return { delivered: false, attempts: attempt, last: result }
      await this.clock.sleep(delay, options.signal)
      if (options.signal.aborted) return { delivered: false, attempts: attempt, last: result }
    }
  }

  /** One attempt: a rate-limit slot, the send, and the service's "not before" remembered. */
  private async attempt (item: T, signal: AbortSignal): Promise<DeliveryResult> {
    await this.options.pacer?.take(signal)
    if (signal.aborted) return { ok: false, retry: false, error: 'aborted' }
    const result = await this.options.send(item, signal).catch((err: unknown): DeliveryResult => ({ ok: false, retry: true, error: String(err) }))
    if (!result.ok && result.retry && result.retryAfterMs !== undefined) this.options.pacer?.hold(result.retryAfterMs)
    return result
  }

  private count (outcome: 'sent' | 'failed' | 'dropped' | 'retries', n = 1): void {
    this.counters[outcome] += n
  }

  /** Resolves once nothing is queued or being sent (tests; stop waits with a deadline instead). */
  async idle (): Promise<void> {
    while (this.worker !== undefined) await this.worker
  }

  /** Gives the queue `deadlineMs` to empty (0: none), then abandons what is left (counted as dropped). */
  async stop (deadlineMs: number): Promise<void> {
    const worker = this.worker
    if (worker !== undefined && deadlineMs > 0) {
      let timer: Timer | undefined
      await Promise.race([worker, new Promise<void>((resolve) => { timer = this.clock.timeout(deadlineMs, resolve) })])
      timer?.cancel()
    }
    this.stopController.abort()
    await this.worker
    this.count('dropped', this.items.splice(0).length)
  }

  private async drain (): Promise<void> {
    const signal = this.stopController.signal
    while (this.items.length > 0 && !signal.aborted) {
      // The item being sent is out of the array: a full queue drops the oldest waiting one, never this.
      const item = this.items.shift() as T
      this.inFlight = true
      try {
        await this.deliver(item, signal)
      } finally {
        this.inFlight = false
      }
    }
  }

  private async deliver (item: T, signal: AbortSignal): Promise<void> {
    const { logger, policy } = this.options
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(item, signal)
      if (result.ok) {
        this.count('sent')
        this.lastDeliveredAt = this.clock.wall()
        if (this.failing) logger.info({ item: this.options.describe(item) }, 'alert receiver is delivering again')
        this.failing = false
        return
      }
      if (signal.aborted) { this.count('dropped'); return }
      const wasFailing = this.failing
      this.failing = true
      this.lastError = result.error
      this.lastErrorAt = this.clock.wall()
      const delay = result.retry ? retryDelay(policy, attempt, this.random, result.retryAfterMs) : undefined
      if (delay === undefined) {
        this.count('failed')
        logger.error({ item: this.options.describe(item), attempts: attempt, err: result.error },
          result.retry ? 'alert receiver failed; gave up on this notification' : 'alert receiver refused the notification')
        return
      }
      this.count('retries')
      // The first failure of a failing run is a WARN; its retries are not logged until it delivers or gives up.
      if (!wasFailing) logger.warn({ item: this.options.describe(item), err: result.error, retryInMs: delay }, 'alert receiver failed; retrying with backoff')
      await this.clock.sleep(delay, signal)
      if (signal.aborted) { this.count('dropped'); return }
    }
  }
}
