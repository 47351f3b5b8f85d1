import { z } from 'zod'
import { DELIVERY_TIMEOUT_MS } from '../constants.ts'
import { type AlertMessage, clip, messageText } from '../message.ts'
import type { DeliveryResult } from './delivery-queue.ts'
import { classifyAnswer, type HttpAnswer, sendAndRead } from './http-post.ts'
import { escapeMrkdwn } from './markup.ts'
import { MessageReceiver } from './message-receiver.ts'
import type { RateLimit } from './pacer.ts'
import type { ReceiverContext } from './receiver.ts'
import { defineReceiver } from './registry.ts'
import { envName, filePath, loadSecret, type Secret } from './secret.ts'
import { checkReceiverUrl, redactUrl } from './url.ts'

/** Slack's incoming webhooks take one message per second (short bursts tolerated, not promised). */
export const SLACK_LIMITS: readonly RateLimit[] = [{ count: 1, perMs: 1_000 }]

export interface SlackSettings {
  /** The incoming-webhook URL is its own credential. */
  url: Secret
}

/** An incoming-webhook message: `text` (what notifications and old clients show) and Block Kit blocks. */
export interface SlackRequest {
  text: string
  blocks: Array<Record<string, unknown>>
}

export function slackRequest (m: AlertMessage): SlackRequest {
  const node = m.node === undefined ? [] : [`*Node:* ${m.node.nickname !== '' ? `${escapeMrkdwn(m.node.nickname)} · ` : ''}\`${escapeMrkdwn(m.node.peerId)}\``]
  const lines = [
    escapeMrkdwn(m.cause),
    ...node,
    escapeMrkdwn(m.duration),
    ...(m.heldBack.length > 0 ? [`*Held back (same cause):* ${escapeMrkdwn(m.heldBack.join('; '))}`] : []),
  ]
  return {
    text: clip(messageText(m), 3_000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: clip(m.title, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), 3_000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `<${m.link.url}|Open ${escapeMrkdwn(m.link.text)}>` }] },
    ],
  }
}

/**
 * Reads an incoming-webhook answer: 200 "ok" is delivered; 429 comes with
 * Retry-After; the documented refusals (400 invalid_payload, 403
 * action_prohibited, 404 no_service, 410 channel_is_archived) are for good.
 */
export function readSlackAnswer (answer: HttpAnswer, now: number): DeliveryResult {
  const result = classifyAnswer(answer, now)
  const text = answer.text.trim()
  return text === '' ? result : { ...result, answer: text.slice(0, 200) }
}

export function createSlackReceiver (settings: SlackSettings, context: ReceiverContext): MessageReceiver<SlackRequest> {
  return new MessageReceiver<SlackRequest>({
    kind: 'slack',
    target: redactUrl(settings.url.reveal()),
    context,
    limits: SLACK_LIMITS,
    render: slackRequest,
    describe: (r) => r.text.split('\n', 1)[0] ?? '',
    send: async (request, signal) => {
      return await sendAndRead({ url: settings.url.reveal(), body: request }, { signal, timeoutMs: DELIVERY_TIMEOUT_MS, clock: context.clock }, readSlackAnswer)
    },
  })
}

/** `receivers.slack` in the rules file: `{url | urlFile | urlEnv}` (the webhook URL is a secret: a file is best). */
export const slackReceiver = defineReceiver({
  kind: 'slack',
  fileKey: 'slack',
  fileEntry: z.strictObject({ url: z.string().min(1).optional(), urlFile: filePath.optional(), urlEnv: envName.optional() }),
  check: (e, where): SlackSettings => {
    const url = loadSecret({ value: e.url, file: e.urlFile, env: e.urlEnv }, `${where}: url / urlFile / urlEnv`)
    checkReceiverUrl(url.reveal(), `${where}: the webhook URL`, { secret: true })
    return { url }
  },
  create: (settings, context) => createSlackReceiver(settings, context),
})
