import { z } from 'zod'
import { DELIVERY_TIMEOUT_MS, RECEIVER_QUEUE_CAPACITY } from '../constants.ts'
import type { AlertNotification } from '../types.ts'
import { alertView, type AlertView } from '../views.ts'
import { DeliveryQueue } from './delivery-queue.ts'
import { postJson } from './http-post.ts'
import type { AlertReceiver, AlertSource, HttpReceiverOptions, ReceiverStats } from './receiver.ts'
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
  alert: Omit<AlertView, 'state' | 'silenced' | 'firedAt' | 'resolvedAt'> & { startsAt: string | null, endsAt: string | null }
  aggregator: { peerId: string, url: string }
  sentAt: string
}

/** Builds the webhook body for one notification (pure). */
export function webhookBody (n: AlertNotification, source: { peerId: string, url: string }): WebhookBody {
  const { state: _state, silenced: _silenced, firedAt, resolvedAt, ...alert } = alertView(n.alert)
  return {
    version: 1,
    status: n.status,
    repeat: n.repeat,
    text: `[${n.status.toUpperCase()}] ${alert.name} (${alert.severity}): ${alert.summary}`,
    alert: { ...alert, startsAt: firedAt, endsAt: resolvedAt },
    aggregator: source,
    sentAt: new Date(n.at).toISOString(),
  }
}

export interface WebhookReceiverOptions extends HttpReceiverOptions {
  headers?: Record<string, string>
}

/** A JSON POST per notification, retried with backoff from a bounded queue. */
export class WebhookReceiver implements AlertReceiver {
  readonly kind = 'webhook' as const
  readonly target: string
  private readonly queue: DeliveryQueue<WebhookBody>
  private readonly source: AlertSource

  constructor (options: WebhookReceiverOptions) {
    this.target = redactUrl(options.url)
    this.source = options.source
    const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS
    this.queue = new DeliveryQueue<WebhookBody>({
      capacity: options.capacity ?? RECEIVER_QUEUE_CAPACITY,
      policy: options.policy ?? DEFAULT_RETRY,
      random: options.random,
      clock: options.clock,
      logger: options.logger.child({ receiver: 'webhook', target: this.target }),
      describe: (body) => `${body.status} ${body.alert.id}`,
      send: async (body, signal) => await postJson(options.url, body, { signal, timeoutMs, headers: options.headers, clock: options.clock }),
    })
  }

  notify (n: AlertNotification): void {
    this.queue.push(webhookBody(n, { peerId: this.source.peerId(), url: this.source.publicUrl() }))
  }

  stats (): ReceiverStats {
    return this.queue.stats()
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
