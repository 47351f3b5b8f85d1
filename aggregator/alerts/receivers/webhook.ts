import { z } from 'zod'
import { DELIVERY_TIMEOUT_MS, RECEIVER_QUEUE_CAPACITY } from '../constants.ts'
import { alertMessage, messageText, testMessage } from '../message.ts'
import type { AlertNotification } from '../types.ts'
import { alertView, type AlertView } from '../views.ts'
import { type DeliveryOutcome, DeliveryQueue, type DeliveryState } from './delivery-queue.ts'
import { postJson } from './http-post.ts'
import { TEST_MAX_ATTEMPTS } from './message-receiver.ts'
import type { AlertReceiver, AlertSource, HttpReceiverOptions, ReceiverStats, ReceiverTestOptions } from './receiver.ts'
import { defineReceiver } from './registry.ts'
import { DEFAULT_RETRY } from './retry.ts'
import { checkReceiverUrl, redactUrl } from './url.ts'

/** The body of a generic webhook POST (version 1). Times are ISO 8601. */
export interface WebhookBody {
  version: 1
  status: 'firing' | 'resolved'
  /** A reminder of an alert already announced. */
  repeat: boolean
  /** One line for chat tools that show `text`. */
  text: string
  /** The alert as GET /api/v1/alerts shows it, with its firing and resolving times as startsAt and endsAt. */
  alert: Omit<AlertView, 'state' | 'silenced' | 'firedAt' | 'resolvedAt' | 'inhibitedBy'> & { startsAt: string | null, endsAt: string | null }
  /** The alerts this one holds back (same cause: its node is down or unhealthy), by id. */
  holdsBack: string[]
  /** The message chat receivers send, as plain text lines joined by newlines (title, cause, node, for how long, link). */
  message: string
  aggregator: { peerId: string, url: string }
  sentAt: string
}

/** Builds the webhook body for one notification (pure). */
export function webhookBody (n: AlertNotification, source: { peerId: string, url: string }): WebhookBody {
  const { state: _state, silenced: _silenced, firedAt, resolvedAt, inhibitedBy: _inhibitedBy, ...alert } = alertView(n.alert)
  return {
    version: 1,
    status: n.status,
    repeat: n.repeat,
    text: `[${n.status.toUpperCase()}] ${alert.name} (${alert.severity}): ${alert.summary}`,
    alert: { ...alert, startsAt: firedAt, endsAt: resolvedAt },
    holdsBack: (n.holdsBack ?? []).map((a) => a.id),
    message: messageText(alertMessage(n, { publicUrl: source.url.replace(/\/+$/, ''), peerId: source.peerId })),
    aggregator: source,
    sentAt: new Date(n.at).toISOString(),
  }
}

/** The body of a test POST (test-alert): status "test", no alert. */
export type WebhookTestBody = Omit<WebhookBody, 'status' | 'alert'> & { status: 'test', alert: null }

export function webhookTestBody (source: { peerId: string, url: string }, at: number, note?: string): WebhookTestBody {
  const m = testMessage({ publicUrl: source.url.replace(/\/+$/, ''), peerId: source.peerId }, at, note)
  return { version: 1, status: 'test', repeat: false, text: `${m.title}: ${m.cause}`, alert: null, holdsBack: [], message: messageText(m), aggregator: source, sentAt: new Date(at).toISOString() }
}

export interface WebhookReceiverOptions extends HttpReceiverOptions {
  headers?: Record<string, string>
}

/** A JSON POST per notification, retried with backoff from a bounded queue. */
export class WebhookReceiver implements AlertReceiver {
  readonly kind = 'webhook' as const
  readonly target: string
  private readonly queue: DeliveryQueue<WebhookBody | WebhookTestBody>
  private readonly source: AlertSource

  constructor (options: WebhookReceiverOptions) {
    this.target = redactUrl(options.url)
    this.source = options.source
    const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS
    this.queue = new DeliveryQueue<WebhookBody | WebhookTestBody>({
      capacity: options.capacity ?? RECEIVER_QUEUE_CAPACITY,
      policy: options.policy ?? DEFAULT_RETRY,
      random: options.random,
      clock: options.clock,
      logger: options.logger.child({ receiver: 'webhook', target: this.target }),
      describe: (body) => `${body.status} ${body.alert?.id ?? 'test'}`,
      send: async (body, signal) => await postJson(options.url, body, { signal, timeoutMs, headers: options.headers, clock: options.clock }),
    })
  }

  notify (n: AlertNotification): void {
    this.queue.push(webhookBody(n, { peerId: this.source.peerId(), url: this.source.publicUrl() }))
  }

  async test (options: ReceiverTestOptions): Promise<DeliveryOutcome> {
    return await this.queue.sendNow(webhookTestBody({ peerId: this.source.peerId(), url: this.source.publicUrl() }, options.at, options.note), { maxAttempts: TEST_MAX_ATTEMPTS, signal: options.signal })
  }

  stats (): ReceiverStats {
    return this.queue.stats()
  }

  delivery (): DeliveryState {
    return this.queue.delivery()
  }

  async stop (deadlineMs: number): Promise<void> {
    await this.queue.stop(deadlineMs)
  }
}

export interface WebhookSettings { url: string, headers: Record<string, string> }

const url = z.string().min(1)

/** --alert-webhook URL, or `receivers.webhooks` in the rules file: a URL, or {url, headers}. */
export const webhookReceiver = defineReceiver({
  kind: 'webhook',
  fileKey: 'webhooks',
  fileEntry: z.union([url, z.strictObject({ url, headers: z.record(z.string().min(1), z.string()).optional() })])
    .transform((w): WebhookSettings => typeof w === 'string' ? { url: w, headers: {} } : { url: w.url, headers: w.headers ?? {} }),
  flag: {
    flags: '--alert-webhook <url>',
    description: 'POST each firing/resolved alert as JSON to this URL; repeatable',
    settings: (value): WebhookSettings => ({ url: value, headers: {} }),
  },
  check: (settings, where) => ({ ...settings, url: checkReceiverUrl(settings.url, where) }),
  create: (settings, context) => new WebhookReceiver({ ...context, url: settings.url, headers: settings.headers }),
})
