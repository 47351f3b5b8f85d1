import { RECEIVER_QUEUE_CAPACITY } from '../constants.ts'
import { type AlertMessage, alertMessage, type MessageSource, testMessage } from '../message.ts'
import type { AlertNotification } from '../types.ts'
import { type DeliveryOutcome, DeliveryQueue, type DeliveryResult, type DeliveryState } from './delivery-queue.ts'
import { Pacer, type RateLimit } from './pacer.ts'
import type { AlertReceiver, ReceiverContext, ReceiverStats, ReceiverTestOptions } from './receiver.ts'
import { DEFAULT_RETRY, type RetryPolicy } from './retry.ts'

/** Test messages are tried at most this often (a wiring check, not a delivery that must get through). */
export const TEST_MAX_ATTEMPTS = 3

export interface MessageReceiverOptions<T> {
  kind: string
  /** For people: where it sends, without its secrets. */
  target: string
  context: ReceiverContext
  /** The service's documented rate limits (pacer.ts). */
  limits: readonly RateLimit[]
  /** The service's request for one message. */
  render: (message: AlertMessage) => T
  /** Sends one request and reads the service's answer. */
  send: (payload: T, signal: AbortSignal) => Promise<DeliveryResult>
  /** For logs (never a secret). */
  describe: (payload: T) => string
  /** What a test sends (PagerDuty: a trigger, then its resolve); the rendered test message when absent. */
  testPayloads?: (message: AlertMessage) => T[]
  /** Reminders of a firing alert are sent (default); a pager that keeps its own incident open skips them. */
  repeats?: boolean
  policy?: RetryPolicy | undefined
  capacity?: number | undefined
  random?: (() => number) | undefined
}

/**
 * The shape every chat, pager and mail receiver shares: a notification
 * becomes an AlertMessage (message.ts: the same facts for every service),
 * the service's file renders its request, and a DeliveryQueue delivers it
 * within the service's rate limits, retried with backoff. `notify` returns
 * at once; nothing waits on the network but the queue's own worker.
 */
export class MessageReceiver<T> implements AlertReceiver {
  readonly kind: string
  readonly target: string
  /** The service's rate limits, shared by notifications and tests (a receiver may hold it after the service said so). */
  readonly pacer: Pacer
  private readonly options: MessageReceiverOptions<T>
  private readonly queue: DeliveryQueue<T>

  constructor (options: MessageReceiverOptions<T>) {
    this.options = options
    this.kind = options.kind
    this.target = options.target
    const { context } = options
    this.pacer = new Pacer(options.limits, context.clock)
    this.queue = new DeliveryQueue<T>({
      capacity: options.capacity ?? RECEIVER_QUEUE_CAPACITY,
      policy: options.policy ?? DEFAULT_RETRY,
      random: options.random,
      clock: context.clock,
      logger: context.logger.child({ receiver: options.kind, target: options.target }),
      describe: options.describe,
      send: options.send,
      pacer: this.pacer,
    })
  }

  notify (n: AlertNotification): void {
    if (n.repeat && this.options.repeats === false) return
    this.queue.push(this.options.render(alertMessage(n, this.messageSource())))
  }

  async test (options: ReceiverTestOptions): Promise<DeliveryOutcome> {
    const message = testMessage(this.messageSource(), options.at, options.note)
    const payloads = this.options.testPayloads?.(message) ?? [this.options.render(message)]
    let outcome: DeliveryOutcome = { delivered: false, attempts: 0, last: { ok: false, retry: false, error: 'nothing to send' } }
    for (const payload of payloads) {
      outcome = await this.queue.sendNow(payload, { maxAttempts: TEST_MAX_ATTEMPTS, signal: options.signal })
      if (!outcome.delivered) break
    }
    return outcome
  }

  stats (): ReceiverStats {
    return this.queue.stats()
  }

  delivery (): DeliveryState {
    return this.queue.delivery()
  }

  /** Resolves once nothing is queued or being sent (tests). */
  async idle (): Promise<void> {
    await this.queue.idle()
  }

  async stop (deadlineMs: number): Promise<void> {
    await this.queue.stop(deadlineMs)
  }

  private messageSource (): MessageSource {
    const { source } = this.options.context
    return { publicUrl: source.publicUrl().replace(/\/+$/, ''), peerId: source.peerId() }
  }
}
