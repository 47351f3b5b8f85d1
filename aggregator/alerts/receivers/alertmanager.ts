import { z } from 'zod'
import { type Clock, systemClock } from '../../../shared/clock.ts'
import {
  ALERTMANAGER_ENDS_AFTER_RESENDS, ALERTMANAGER_PATH, ALERTMANAGER_RESEND_MS, DELIVERY_TIMEOUT_MS, RECEIVER_QUEUE_CAPACITY,
} from '../constants.ts'
import { testMessage } from '../message.ts'
import type { AlertNotification, AlertRecord } from '../types.ts'
import { type DeliveryOutcome, DeliveryQueue, type DeliveryState } from './delivery-queue.ts'
import { postJson } from './http-post.ts'
import { TEST_MAX_ATTEMPTS } from './message-receiver.ts'
import type { AlertReceiver, AlertSource, HttpReceiverOptions, ReceiverStats, ReceiverTestOptions } from './receiver.ts'
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

/** The name the watchdog goes by: the same as deploy/prometheus/heartbeat-rules.yml's, so one Alertmanager route takes both. */
export const WATCHDOG_NAME = 'Watchdog'

/**
 * The always-firing Watchdog (kube-prometheus's dead man's switch), as this
 * aggregator sends it to Alertmanager. Its `aggregator` label (the peer id)
 * keeps it apart from Prometheus's own Watchdog, so Alertmanager can route
 * each to its own dead man's switch: one that goes quiet names the broken
 * path. Pure.
 */
export function watchdogAlert (peerId: string, since: number, now: number, resendMs: number, publicUrl: string): AlertmanagerAlert {
  return {
    labels: { alertname: WATCHDOG_NAME, severity: 'none', aggregator: peerId },
    annotations: {
      summary: 'Always firing, so that the alerting pipeline is known to work',
      description: 'Sent by the heartbeat aggregator every minute while it runs. If it stops reaching the dead man\'s switch it is routed to, the aggregator, Alertmanager or the path between them is broken, and no other alert would get through either.',
    },
    startsAt: new Date(since).toISOString(),
    endsAt: new Date(now + ALERTMANAGER_ENDS_AFTER_RESENDS * resendMs).toISOString(),
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
  /** Send the always-firing Watchdog (default on). */
  watchdog?: boolean
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
  private readonly watchdog: boolean
  private readonly startedAt: number
  /** Monotonic: the resend pace is an interval (a wall step must not let Alertmanager expire a firing alert). */
  private lastResendAt: number | undefined
  private readonly clock: Clock

  constructor (options: AlertmanagerReceiverOptions) {
    this.target = redactUrl(options.url)
    this.source = options.source
    this.resendMs = options.resendMs ?? ALERTMANAGER_RESEND_MS
    this.clock = options.clock ?? systemClock
    this.watchdog = options.watchdog ?? true
    this.startedAt = this.clock.wall()
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

  /**
   * After each evaluation: every re-send interval, the firing alerts again
   * and the Watchdog (which also goes out at the first evaluation, so a dead
   * man's switch hears of a new aggregator at once).
   */
  tick (now: number, firing: readonly AlertRecord[]): void {
    const mono = this.clock.monotonic()
    const first = this.lastResendAt === undefined
    if (!first && mono - (this.lastResendAt as number) < this.resendMs) return
    this.lastResendAt = mono
    const publicUrl = this.source.publicUrl()
    // At the first evaluation, what fires was just sent by notify.
    const batch = first ? [] : firing.map((a) => toAlertmanagerAlert(a, now, this.resendMs, publicUrl))
    if (this.watchdog) batch.push(watchdogAlert(this.source.peerId(), this.startedAt, now, this.resendMs, publicUrl))
    if (batch.length > 0) this.queue.push(batch)
  }

  /** A test alert (HeartbeatTest, severity info) that ends by itself after one re-send interval. */
  async test (options: ReceiverTestOptions): Promise<DeliveryOutcome> {
    const publicUrl = this.source.publicUrl().replace(/\/+$/, '')
    const m = testMessage({ publicUrl, peerId: this.source.peerId() }, options.at, options.note)
    const alert: AlertmanagerAlert = {
      labels: { alertname: m.name, severity: 'info', aggregator: this.source.peerId() },
      annotations: { summary: m.cause, description: m.description },
      startsAt: new Date(options.at).toISOString(),
      endsAt: new Date(options.at + this.resendMs).toISOString(),
      generatorURL: `${publicUrl}/api/v1/alerts`,
    }
    return await this.queue.sendNow([alert], { maxAttempts: TEST_MAX_ATTEMPTS, signal: options.signal })
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

export interface AlertmanagerSettings {
  url: string
  /** Send the always-firing Watchdog (default on). */
  watchdog?: boolean
}

const url = z.string().min(1)

/** --alertmanager URL, or `receivers.alertmanagers` in the rules file: a URL, or {url, watchdog?}. */
export const alertmanagerReceiver = defineReceiver({
  kind: 'alertmanager',
  fileKey: 'alertmanagers',
  fileEntry: z.union([url, z.strictObject({ url, watchdog: z.boolean().optional() })])
    .transform((a): AlertmanagerSettings => typeof a === 'string' ? { url: a, watchdog: true } : { url: a.url, watchdog: a.watchdog ?? true }),
  flag: {
    flags: '--alertmanager <url>',
    description: 'send alerts to this Prometheus Alertmanager (API v2), and the always-firing Watchdog; repeatable',
    settings: (value): AlertmanagerSettings => ({ url: value, watchdog: true }),
  },
  check: (settings, where) => ({ ...settings, url: checkReceiverUrl(settings.url, where) }),
  create: (settings, context) => new AlertmanagerReceiver({ ...context, url: settings.url, watchdog: settings.watchdog ?? true }),
})
