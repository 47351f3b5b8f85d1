import { type Clock, systemClock, type Timer } from '../../../shared/clock.ts'
import type { Logger } from '../../../shared/log.ts'
import { retryDelay, type RetryPolicy } from './retry.ts'
import type { ReceiverStats } from './receiver.ts'

/** How one delivery attempt ended. */
export type DeliveryResult =
  | { ok: true }
  /** Worth another try (network error, timeout, 5xx, 429); the receiver may say when. */
  | { ok: false, retry: true, error: string, retryAfterMs?: number }
  /** The receiver refused it for good (other 4xx): retrying would not help. */
  | { ok: false, retry: false, error: string }

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

  constructor (options: DeliveryQueueOptions<T>) {
    this.options = options
    this.random = options.random ?? Math.random
    this.clock = options.clock ?? systemClock
  }

  push (item: T): boolean {
    if (this.stopController.signal.aborted) {
      this.counters.dropped++
      return false
    }
    let accepted = true
    if (this.items.length >= this.options.capacity) {
      this.items.shift()
      this.counters.dropped++
      accepted = false
    }
    this.items.push(item)
    this.worker ??= this.drain().finally(() => { this.worker = undefined })
    return accepted
  }

  stats (): ReceiverStats {
    return { ...this.counters, queued: this.items.length + (this.inFlight ? 1 : 0) }
  }

  /** Resolves once nothing is queued or being sent (tests; stop waits with a deadline instead). */
  async idle (): Promise<void> {
    while (this.worker !== undefined) await this.worker
  }

  /** Gives the queue `deadlineMs` to empty, then abandons what is left (counted as dropped). */
  async stop (deadlineMs: number): Promise<void> {
    const worker = this.worker
    if (worker !== undefined) {
      let timer: Timer | undefined
      await Promise.race([worker, new Promise<void>((resolve) => { timer = this.clock.timeout(deadlineMs, resolve) })])
      timer?.cancel()
    }
    this.stopController.abort()
    await this.worker
    this.counters.dropped += this.items.splice(0).length
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
      const result = await this.options.send(item, signal).catch((err: unknown): DeliveryResult => ({ ok: false, retry: true, error: String(err) }))
      if (result.ok) {
        this.counters.sent++
        if (this.failing) logger.info({ item: this.options.describe(item) }, 'alert receiver is delivering again')
        this.failing = false
        return
      }
      if (signal.aborted) { this.counters.dropped++; return }
      const delay = result.retry ? retryDelay(policy, attempt, this.random, result.retryAfterMs) : undefined
      if (delay === undefined) {
        this.counters.failed++
        this.failing = true
        logger.error({ item: this.options.describe(item), attempts: attempt, err: result.error },
          result.retry ? 'alert receiver failed; gave up on this notification' : 'alert receiver refused the notification')
        return
      }
      this.counters.retries++
      if (!this.failing) logger.warn({ item: this.options.describe(item), err: result.error, retryInMs: delay }, 'alert receiver failed; retrying with backoff')
      this.failing = true
      await this.clock.sleep(delay, signal)
      if (signal.aborted) { this.counters.dropped++; return }
    }
  }
}
