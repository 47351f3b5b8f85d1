import { createHash } from 'node:crypto'
import { z } from 'zod'
import { DELIVERY_TIMEOUT_MS } from '../constants.ts'
import { type AlertMessage, clip } from '../message.ts'
import type { DeliveryResult } from './delivery-queue.ts'
import { classifyAnswer, type HttpAnswer, jsonBody, sendAndRead } from './http-post.ts'
import { bodyLines } from './markup.ts'
import { MessageReceiver } from './message-receiver.ts'
import type { RateLimit } from './pacer.ts'
import type { ReceiverContext } from './receiver.ts'
import { defineReceiver } from './registry.ts'
import { envName, filePath, loadSecret, type Secret } from './secret.ts'
import { checkReceiverUrl, redactUrl } from './url.ts'

/** The Events API v2 endpoint; `url` overrides it (EU accounts: events.eu.pagerduty.com, the tests' fake). */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue'
/** About 120 events a minute per integration key (Events API rate limits). */
export const PAGERDUTY_LIMITS: readonly RateLimit[] = [{ count: 120, perMs: 60_000 }]
/** dedup_key is at most 255 characters. */
const MAX_DEDUP_KEY = 255

export interface PagerDutySettings {
  routingKey: Secret
  url: string
}

/** One Events API v2 event (trigger or resolve). */
export interface PagerDutyEvent {
  routing_key: string
  event_action: 'trigger' | 'resolve'
  dedup_key: string
  payload?: {
    summary: string
    source: string
    severity: 'critical' | 'error' | 'warning' | 'info'
    timestamp: string
    component?: string
    class: string
    custom_details: Record<string, unknown>
  }
  client?: string
  client_url?: string
  links?: Array<{ href: string, text: string }>
}

/**
 * The dedup key of an alert: its id (rule + subject), the same for its
 * trigger and its resolve, so the resolve closes the incident the trigger
 * opened, and stable across restarts. An id longer than PagerDuty allows is
 * hashed.
 */
export function pagerDutyDedupKey (alertId: string): string {
  return alertId.length <= MAX_DEDUP_KEY ? alertId : `sha256:${createHash('sha256').update(alertId).digest('hex')}`
}

/** The event for one message (pure); the routing key is added when it is sent, so a rendered event never holds it. */
export function pagerDutyEvent (m: AlertMessage, publicUrl: string): Omit<PagerDutyEvent, 'routing_key'> {
  const dedup = pagerDutyDedupKey(m.alertId)
  if (m.kind === 'resolved') return { event_action: 'resolve', dedup_key: dedup }
  const source = m.node !== undefined ? (m.node.nickname !== '' ? `${m.node.nickname} (${m.node.peerId})` : m.node.peerId) : 'fil-heartbeat fleet'
  const payload: NonNullable<PagerDutyEvent['payload']> = {
    summary: clip(`${m.title}: ${m.cause}`, 1_024),
    source: clip(source, 255),
    severity: m.severity === 'critical' ? 'critical' : m.severity === 'warning' ? 'warning' : 'info',
    timestamp: new Date(m.at).toISOString(),
    class: m.name,
    custom_details: {
      cause: m.cause,
      duration: m.duration,
      ...(m.node !== undefined ? { nickname: m.node.nickname, peer_id: m.node.peerId } : {}),
      ...(m.heldBack.length > 0 ? { held_back: m.heldBack } : {}),
      details: bodyLines(m).join('\n'),
      ...(m.description !== '' ? { description: m.description } : {}),
    },
  }
  if (m.component !== undefined) payload.component = m.component
  return {
    event_action: 'trigger',
    dedup_key: dedup,
    payload,
    client: 'fil-heartbeat aggregator',
    client_url: `${publicUrl.replace(/\/+$/, '')}/`,
    links: [{ href: m.link.url, text: `Open ${m.link.text}` }],
  }
}

/**
 * Reads an enqueue answer: 202 `{"status": "success", "dedup_key": ...}` is
 * delivered; 400 (an invalid event, with `errors`) is refused for good; 429
 * and 5xx are retried (PagerDuty suggests a backoff of minutes on 429; the
 * queue's backoff grows to that).
 */
export function readPagerDutyAnswer (answer: HttpAnswer, now: number): DeliveryResult {
  const body = jsonBody(answer) as { status?: unknown, message?: unknown, dedup_key?: unknown, errors?: unknown } | undefined
  const result = classifyAnswer(answer, now)
  const said = [body?.status, body?.message, body?.dedup_key !== undefined ? `dedup_key ${String(body.dedup_key)}` : undefined, Array.isArray(body?.errors) ? body.errors.join('; ') : undefined]
    .filter((s): s is string => typeof s === 'string' && s !== '').join(', ')
  if (said === '') return result
  return result.ok ? { ...result, answer: said } : { ...result, error: `HTTP ${answer.status}: ${said}`, answer: said }
}

export function createPagerDutyReceiver (settings: PagerDutySettings, context: ReceiverContext): MessageReceiver<Omit<PagerDutyEvent, 'routing_key'>> {
  return new MessageReceiver<Omit<PagerDutyEvent, 'routing_key'>>({
    kind: 'pagerduty',
    target: redactUrl(settings.url),
    context,
    limits: PAGERDUTY_LIMITS,
    // The incident stays open in PagerDuty: a reminder would only add to its log.
    repeats: false,
    render: (m) => pagerDutyEvent(m, context.source.publicUrl()),
    // A test opens an incident and closes it at once, so nobody is left with one to acknowledge.
    testPayloads: (m) => [pagerDutyEvent(m, context.source.publicUrl()), pagerDutyEvent({ ...m, kind: 'resolved' }, context.source.publicUrl())],
    describe: (e) => `${e.event_action} ${e.dedup_key}`,
    send: async (event, signal) => {
      const body: PagerDutyEvent = { routing_key: settings.routingKey.reveal(), ...event }
      return await sendAndRead({ url: settings.url, body }, { signal, timeoutMs: DELIVERY_TIMEOUT_MS, clock: context.clock }, readPagerDutyAnswer)
    },
  })
}

/** `receivers.pagerduty` in the rules file: `{routingKeyFile | routingKeyEnv, url?}`. */
export const pagerdutyReceiver = defineReceiver({
  kind: 'pagerduty',
  fileKey: 'pagerduty',
  fileEntry: z.strictObject({ routingKeyFile: filePath.optional(), routingKeyEnv: envName.optional(), url: z.string().min(1).optional() }),
  check: (e, where): PagerDutySettings => ({
    routingKey: loadSecret({ file: e.routingKeyFile, env: e.routingKeyEnv }, `${where}: routingKeyFile / routingKeyEnv`),
    url: checkReceiverUrl(e.url ?? PAGERDUTY_EVENTS_URL, `${where}: url`),
  }),
  create: (settings, context) => createPagerDutyReceiver(settings, context),
})
