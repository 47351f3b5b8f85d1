import { z } from 'zod'
import { DELIVERY_TIMEOUT_MS } from '../constants.ts'
import { type AlertMessage, clip } from '../message.ts'
import type { DeliveryResult } from './delivery-queue.ts'
import { classifyAnswer, type HttpAnswer, jsonBody, sendAndRead } from './http-post.ts'
import { bodyLines } from './markup.ts'
import { MessageReceiver } from './message-receiver.ts'
import type { Pacer, RateLimit } from './pacer.ts'
import type { ReceiverContext } from './receiver.ts'
import { defineReceiver } from './registry.ts'
import { envName, filePath, loadSecret, type Secret } from './secret.ts'
import { checkReceiverUrl, redactUrl } from './url.ts'

/**
 * Discord's webhook limits: the headers say 5 requests per 2 s per webhook,
 * and a channel takes about 30 messages a minute; the headers
 * (X-RateLimit-Remaining, X-RateLimit-Reset-After) are obeyed on top.
 */
export const DISCORD_LIMITS: readonly RateLimit[] = [{ count: 5, perMs: 2_000 }, { count: 30, perMs: 60_000 }]
/** Embed colours by status and severity (Discord wants an integer). */
const COLOURS = { resolved: 0x2e7d32, critical: 0xc62828, warning: 0xef6c00, info: 0x1565c0, test: 0x546e7a } as const

export interface DiscordSettings {
  /** The webhook URL is its own credential. */
  url: Secret
  /** The name the messages are posted under. */
  username: string
}

/** An execute-webhook request: the title as content (what notifications show), the rest as one embed; no mentions ever. */
export interface DiscordRequest {
  username: string
  content: string
  embeds: Array<{ title: string, description: string, color: number, timestamp: string, url?: string }>
  allowed_mentions: { parse: [] }
}

export function discordRequest (m: AlertMessage, username: string): DiscordRequest {
  const colour = m.kind === 'resolved' ? COLOURS.resolved : m.kind === 'test' ? COLOURS.test : COLOURS[m.severity as 'critical' | 'warning' | 'info'] ?? COLOURS.info
  const embed: DiscordRequest['embeds'][number] = {
    title: clip(m.title, 256),
    description: clip(bodyLines(m).join('\n'), 4_096),
    color: colour,
    timestamp: new Date(m.at).toISOString(),
  }
  // Discord refuses an embed whose url it does not consider well formed; a link in the text always works.
  if (m.link.url.startsWith('https://')) embed.url = m.link.url
  return { username, content: clip(m.title, 2_000), embeds: [embed], allowed_mentions: { parse: [] } }
}

/**
 * Reads a webhook answer: 200 (with ?wait=true, the message) or 204 is
 * delivered; 429 carries `retry_after` in seconds in its body (and a
 * Retry-After header). Whatever the answer, an exhausted bucket
 * (X-RateLimit-Remaining 0) holds the next send until X-RateLimit-Reset-After.
 */
export function readDiscordAnswer (answer: HttpAnswer, now: number, pacer?: Pick<Pacer, 'hold'>): DeliveryResult {
  const remaining = answer.headers.get('x-ratelimit-remaining')
  const resetAfter = Number(answer.headers.get('x-ratelimit-reset-after'))
  if (remaining === '0' && Number.isFinite(resetAfter) && resetAfter > 0) pacer?.hold(resetAfter * 1000)
  const body = jsonBody(answer) as { retry_after?: unknown, message?: unknown, id?: unknown } | undefined
  const retryAfter = typeof body?.retry_after === 'number' ? body.retry_after * 1000 : undefined
  const result = classifyAnswer(answer, now, answer.status === 429 ? retryAfter : undefined)
  if (result.ok) return { ...result, answer: typeof body?.id === 'string' ? `message ${body.id}` : answer.status === 204 ? 'accepted' : result.answer }
  return typeof body?.message === 'string' ? { ...result, error: `HTTP ${answer.status}: ${body.message}`, answer: body.message } : result
}

/** The webhook URL with ?wait=true, so Discord answers with the message it posted (and errors are real errors). */
function waitUrl (url: string): string {
  const u = new URL(url)
  u.searchParams.set('wait', 'true')
  return u.toString()
}

export function createDiscordReceiver (settings: DiscordSettings, context: ReceiverContext): MessageReceiver<DiscordRequest> {
  let pacer: Pick<Pacer, 'hold'> | undefined
  const receiver = new MessageReceiver<DiscordRequest>({
    kind: 'discord',
    target: redactUrl(settings.url.reveal()),
    context,
    limits: DISCORD_LIMITS,
    render: (m) => discordRequest(m, settings.username),
    describe: (r) => r.content,
    send: async (request, signal) => {
      return await sendAndRead({ url: waitUrl(settings.url.reveal()), body: request }, { signal, timeoutMs: DELIVERY_TIMEOUT_MS, clock: context.clock }, (answer, now) => readDiscordAnswer(answer, now, pacer))
    },
  })
  pacer = receiver.pacer
  return receiver
}

const entry = z.strictObject({
  url: z.string().min(1).optional(),
  urlFile: filePath.optional(),
  urlEnv: envName.optional(),
  username: z.string().min(1).max(80).optional(),
})

/** `receivers.discord` in the rules file: `{url | urlFile | urlEnv, username?}` (the webhook URL is a secret: a file is best). */
export const discordReceiver = defineReceiver({
  kind: 'discord',
  fileKey: 'discord',
  fileEntry: entry,
  check: (e, where): DiscordSettings => {
    const url = loadSecret({ value: e.url, file: e.urlFile, env: e.urlEnv }, `${where}: url / urlFile / urlEnv`)
    checkReceiverUrl(url.reveal(), `${where}: the webhook URL`, { secret: true })
    return { url, username: e.username ?? 'fil-heartbeat' }
  },
  create: (settings, context) => createDiscordReceiver(settings, context),
})
