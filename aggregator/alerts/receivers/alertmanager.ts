import { z } from 'zod'
import { type Clock, systemClock } from '../../../shared/clock.ts'
import {
  ALERTMANAGER_ENDS_AFTER_RESENDS, ALERTMANAGER_PATH, ALERTMANAGER_RESEND_MS, DELIVERY_TIMEOUT_MS, RECEIVER_QUEUE_CAPACITY,
} from '../constants.ts'
import type { AlertNotification, AlertRecord } from '../types.ts'
import { DeliveryQueue } from './delivery-queue.ts'
import { postJson } from './http-post.ts'
import type { AlertReceiver, AlertSource, HttpReceiverOptions, ReceiverStats } from './receiver.ts'
import { defineReceiver } from './registry.ts'
import { DEFAULT_RETRY } from './retry.ts'
import { checkReceiverUrl, redactUrl } from './url.ts'

/** One alert as Alertmanager's API v2 takes it (POST /api/v2/alerts, a JSON array). */
export interface AlertmanagerAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  startsAt: string
  endsAt: string
  generatorURL: string
}

/**
 * The Alertmanager form of an alert (pure). Firing: endsAt lies a few
 * re-send intervals ahead, so Alertmanager resolves it by itself if the
 * aggregator dies; resolved: endsAt is the moment it resolved.
 */
export function toAlertmanagerAlert (a: AlertRecord, now: number, resendMs: number, publicUrl: string): AlertmanagerAlert {
  const endsAt = a.resolvedAt ?? now + ALERTMANAGER_ENDS_AFTER_RESENDS * resendMs
  const annotations: Record<string, string> = { summary: a.summary }
  if (a.description !== '') annotations.description = a.description
  return {
    labels: a.labels,
    annotations,
    startsAt: new Date(a.firedAt ?? a.activeSince).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    generatorURL: `${publicUrl.replace(/\/+$/, '')}/api/v1/alerts`,
  }
}

/** The API v2 endpoint under an Alertmanager base URL (a URL that already names it is kept). */
export function alertmanagerEndpoint (baseUrl: string): string {
  const url = new URL(baseUrl)
  if (!url.pathname.endsWith(ALERTMANAGER_PATH)) url.pathname = `${url.pathname.replace(/\/+$/, '')}${ALERTMANAGER_PATH}`
  return url.toString()
}

export interface AlertmanagerReceiverOptions extends HttpReceiverOptions {
  resendMs?: number
}

/**
 * Prometheus Alertmanager, API v2. Sends each change at once, and re-sends
 * every firing alert each re-send interval, as Alertmanager expects of its
 * clients (it forgets an alert once its endsAt has passed). Repeats are left
 * to Alertmanager's own repeat_interval.
 */
export class AlertmanagerReceiver implements AlertReceiver {
  readonly kind = 'alertmanager' as const
  readonly target: string
  private readonly queue: DeliveryQueue<AlertmanagerAlert[]>
  private readonly source: AlertSource
  private readonly resendMs: number
  /** Monotonic: the resend pace is an interval (a wall step must not let Alertmanager expire a firing alert). */
  private lastResendAt: number | undefined
  private readonly clock: Clock

  constructor (options: AlertmanagerReceiverOptions) {
    this.target = redactUrl(options.url)
    this.source = options.source
    this.resendMs = options.resendMs ?? ALERTMANAGER_RESEND_MS
    this.clock = options.clock ?? systemClock
    const endpoint = alertmanagerEndpoint(options.url)
    const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS
    this.queue = new DeliveryQueue<AlertmanagerAlert[]>({
      capacity: options.capacity ?? RECEIVER_QUEUE_CAPACITY,
      policy: options.policy ?? DEFAULT_RETRY,
      random: options.random,
      clock: options.clock,
      logger: options.logger.child({ receiver: 'alertmanager', target: this.target }),
      describe: (batch) => `${batch.length} alert(s): ${batch.map((a) => a.labels.alertname).join(', ')}`,
      send: async (batch, signal) => await postJson(endpoint, batch, { signal, timeoutMs, clock: options.clock }),
    })
  }

  notify (n: AlertNotification): void {
    if (n.repeat) return
    this.queue.push([toAlertmanagerAlert(n.alert, n.at, this.resendMs, this.source.publicUrl())])
  }

  tick (now: number, firing: readonly AlertRecord[]): void {
    const mono = this.clock.monotonic()
    if (this.lastResendAt === undefined) {
      this.lastResendAt = mono
      return
    }
    if (mono - this.lastResendAt < this.resendMs) return
    this.lastResendAt = mono
    if (firing.length === 0) return
    const publicUrl = this.source.publicUrl()
    this.queue.push(firing.map((a) => toAlertmanagerAlert(a, now, this.resendMs, publicUrl)))
  }

  stats (): ReceiverStats {
    return this.queue.stats()
  }

  async stop (deadlineMs: number): Promise<void> {
    await this.queue.stop(deadlineMs)
  }
}

export interface AlertmanagerSettings { url: string }

const url = z.string().min(1)

/** --alertmanager URL, or `receivers.alertmanagers` in the rules file: a URL, or {url}. */
export const alertmanagerReceiver = defineReceiver({
  kind: 'alertmanager',
  fileKey: 'alertmanagers',
  fileEntry: z.union([url, z.strictObject({ url })]).transform((a): AlertmanagerSettings => ({ url: typeof a === 'string' ? a : a.url })),
  flag: {
    flags: '--alertmanager <url>',
    description: 'send alerts to this Prometheus Alertmanager (API v2); repeatable',
    settings: (value): AlertmanagerSettings => ({ url: value }),
  },
  check: (settings, where) => ({ url: checkReceiverUrl(settings.url, where) }),
  create: (settings, context) => new AlertmanagerReceiver({ ...context, url: settings.url }),
})
