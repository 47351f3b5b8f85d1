import { DELIVERY_TIMEOUT_MS, RECEIVER_QUEUE_CAPACITY } from '../constants.ts'
import { redactUrl } from '../config.ts'
import type { AlertNotification, AlertRecord } from '../types.ts'
import { DEFAULT_BACKOFF } from './backoff.ts'
import { DeliveryQueue } from './delivery-queue.ts'
import { postJson } from './http-post.ts'
import type { AlertReceiver, AlertSource, HttpReceiverOptions, ReceiverStats } from './receiver.ts'

/** The body of a generic webhook POST (version 1). Times are ISO 8601. */
export interface WebhookBody {
  version: 1
  status: 'firing' | 'resolved'
  /** A reminder of an alert already announced. */
  repeat: boolean
  /** One line for chat tools that show `text`. */
  text: string
  alert: {
    id: string
    name: string
    severity: string
    summary: string
    description: string
    labels: Record<string, string>
    node: { peerId: string, nickname: string } | null
    network: string | null
    component: string | null
    activeSince: string
    startsAt: string | null
    endsAt: string | null
  }
  aggregator: { peerId: string, url: string }
  sentAt: string
}

const iso = (ms: number | undefined): string | null => ms === undefined ? null : new Date(ms).toISOString()

/** Builds the webhook body for one notification (pure). */
export function webhookBody (n: AlertNotification, source: { peerId: string, url: string }): WebhookBody {
  const a: AlertRecord = n.alert
  const node = a.subject.kind === 'node' ? { peerId: a.subject.peerId, nickname: a.subject.nickname } : null
  return {
    version: 1,
    status: n.status,
    repeat: n.repeat,
    text: `[${n.status.toUpperCase()}] ${a.name} (${a.severity}): ${a.summary}`,
    alert: {
      id: a.id,
      name: a.name,
      severity: a.severity,
      summary: a.summary,
      description: a.description,
      labels: a.labels,
      node,
      network: a.subject.kind === 'network' ? a.subject.network : null,
      component: a.subject.kind === 'node' ? a.subject.component ?? null : null,
      activeSince: new Date(a.activeSince).toISOString(),
      startsAt: iso(a.firedAt),
      endsAt: iso(a.resolvedAt),
    },
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
      policy: options.policy ?? DEFAULT_BACKOFF,
      random: options.random,
      logger: options.logger.child({ receiver: 'webhook', target: this.target }),
      describe: (body) => `${body.status} ${body.alert.id}`,
      send: async (body, signal) => await postJson(options.url, body, { signal, timeoutMs, headers: options.headers }),
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
