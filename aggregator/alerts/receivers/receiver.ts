import type { Clock } from '../../../shared/clock.ts'
import type { Logger } from '../../../shared/log.ts'
import type { AlertNotification, AlertRecord } from '../types.ts'
import type { DeliveryOutcome, DeliveryState } from './delivery-queue.ts'
import type { RetryPolicy } from './retry.ts'

/** Counters every receiver keeps; shown in GET /api/v1/alerts. */
export interface ReceiverStats {
  /** Notifications (or batches) delivered. */
  sent: number
  /** Given up on after the last retry, or refused by the receiver (4xx). */
  failed: number
  /** Thrown away because the receiver's queue was full. */
  dropped: number
  /** Attempts that failed and were retried. */
  retries: number
  /** Waiting to be delivered. */
  queued: number
}

/**
 * Where alerts go. `notify` never blocks and never throws: a receiver queues
 * what it cannot deliver at once, so a slow or dead receiver cannot hold up
 * ingest or the other receivers. Receivers are made from their registration
 * (registry.ts, index.ts).
 */
export interface AlertReceiver {
  /** Its registered kind ('log' for the log, always there). */
  readonly kind: string
  /** Unique among the receivers (receivers/index.ts names them); the log's is "log". */
  readonly name?: string
  /** For people: the URL without its path and query (they may hold secrets). */
  readonly target: string
  notify (notification: AlertNotification): void
  /** Called after each evaluation with the firing alerts that are announced and not silenced. */
  tick? (now: number, firing: readonly AlertRecord[]): void
  stats (): ReceiverStats
  /** Whether it is getting through (receivers that deliver over the network). */
  delivery? (): DeliveryState | undefined
  /** Sends one test message now and says how the service answered (test-alert, POST /api/v1/alerts/test). */
  test? (options: ReceiverTestOptions): Promise<DeliveryOutcome>
  /** Delivers what is queued within `deadlineMs`, then gives up. */
  stop (deadlineMs: number): Promise<void>
}

export interface ReceiverTestOptions {
  /** Wall clock (ms): the message says when it was sent. */
  at: number
  signal: AbortSignal
  /** Added to the message (who asked for it). */
  note?: string | undefined
}

/** Where the alerts came from, for receivers to link back. */
export interface AlertSource {
  /** The aggregator's peer id. */
  peerId: () => string
  /** The URL people reach the aggregator's page at. */
  publicUrl: () => string
}

/** What every receiver is made with (besides its own settings). */
export interface ReceiverContext {
  source: AlertSource
  logger: Logger
  /** Retry timers (monotonic) and the stamps of what is sent (wall clock); the system clock when absent. */
  clock?: Clock
}

/** What every HTTP receiver (webhook, Alertmanager) is built from: where, and how its queue retries. */
export interface HttpReceiverOptions extends ReceiverContext {
  url: string
  policy?: RetryPolicy
  capacity?: number
  timeoutMs?: number
  random?: () => number
}
