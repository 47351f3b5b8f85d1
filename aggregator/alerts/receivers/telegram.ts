import { z } from 'zod'
import { DELIVERY_TIMEOUT_MS } from '../constants.ts'
import { type AlertMessage, clip } from '../message.ts'
import type { DeliveryResult } from './delivery-queue.ts'
import { classifyAnswer, jsonBody, sendAndRead } from './http-post.ts'
import { htmlLines } from './markup.ts'
import { MessageReceiver } from './message-receiver.ts'
import type { RateLimit } from './pacer.ts'
import type { ReceiverContext } from './receiver.ts'
import { defineReceiver } from './registry.ts'
import { envName, filePath, loadSecret, type Secret } from './secret.ts'
import { checkReceiverUrl, redactUrl } from './url.ts'

/** The Bot API's home; `apiUrl` overrides it (a local Bot API server, the tests' fake). */
export const TELEGRAM_API_URL = 'https://api.telegram.org'
/** Telegram's documented limits: about one message per second to a chat, 20 a minute to a group (bots FAQ). */
export const TELEGRAM_CHAT_LIMITS: readonly RateLimit[] = [{ count: 1, perMs: 1_000 }]
export const TELEGRAM_GROUP_LIMITS: readonly RateLimit[] = [{ count: 1, perMs: 1_000 }, { count: 20, perMs: 60_000 }]
/** sendMessage takes at most 4096 characters of text after entities are parsed. */
const TELEGRAM_MAX_TEXT = 4_096

export interface TelegramSettings {
  botToken: Secret
  /** A user's or group's numeric id, or @channelusername. */
  chatId: string
  apiUrl: string
  /** A forum topic of a supergroup. */
  messageThreadId: number | undefined
}

/** The sendMessage request (Bot API): HTML, link previews off. */
export interface TelegramRequest {
  chat_id: string
  text: string
  parse_mode: 'HTML'
  link_preview_options: { is_disabled: true }
  message_thread_id?: number
}

/** One message as a sendMessage request (pure). The text is cut before escaping, so the limit holds. */
export function telegramRequest (m: AlertMessage, settings: Pick<TelegramSettings, 'chatId' | 'messageThreadId'>): TelegramRequest {
  const clipped = { ...m, cause: clip(m.cause, TELEGRAM_MAX_TEXT / 2), heldBack: m.heldBack.map((h) => clip(h, 300)) }
  const request: TelegramRequest = {
    chat_id: settings.chatId,
    text: clip(htmlLines(clipped).join('\n'), TELEGRAM_MAX_TEXT),
    parse_mode: 'HTML',
    link_preview_options: { is_disabled: true },
  }
  if (settings.messageThreadId !== undefined) request.message_thread_id = settings.messageThreadId
  return request
}

/**
 * Reads a Bot API answer: `{"ok": true, "result": {...}}` is delivered;
 * 429 carries `parameters.retry_after` (seconds), which is honoured; other
 * failures say why in `description` (400 "chat not found", 401, 403 "bot
 * was blocked by the user"): refused for good, as retrying cannot help.
 */
export function readTelegramAnswer (answer: { status: number, headers: Headers, text: string }, now: number): DeliveryResult {
  const body = jsonBody(answer) as { ok?: unknown, description?: unknown, parameters?: { retry_after?: unknown }, result?: { message_id?: unknown } } | undefined
  const retryAfter = typeof body?.parameters?.retry_after === 'number' ? body.parameters.retry_after * 1000 : undefined
  const result = classifyAnswer(answer, now, retryAfter)
  if (result.ok && body?.ok !== true) return { ok: false, retry: false, error: `HTTP ${answer.status} without "ok": true: ${answer.text.slice(0, 200)}`, status: answer.status }
  if (result.ok) return { ...result, answer: typeof body?.result?.message_id === 'number' ? `ok, message_id ${body.result.message_id}` : 'ok' }
  const description = typeof body?.description === 'string' ? body.description : undefined
  return description === undefined ? result : { ...result, error: `HTTP ${answer.status}: ${description}`, answer: description }
}

export function createTelegramReceiver (settings: TelegramSettings, context: ReceiverContext): MessageReceiver<TelegramRequest> {
  const apiUrl = settings.apiUrl.replace(/\/+$/, '')
  const isGroup = settings.chatId.startsWith('-') || settings.chatId.startsWith('@')
  return new MessageReceiver<TelegramRequest>({
    kind: 'telegram',
    target: `${redactUrl(apiUrl)} chat ${settings.chatId}`,
    context,
    limits: isGroup ? TELEGRAM_GROUP_LIMITS : TELEGRAM_CHAT_LIMITS,
    render: (m) => telegramRequest(m, settings),
    describe: (r) => r.text.split('\n', 1)[0]?.replace(/<[^>]+>/g, '') ?? '',
    send: async (request, signal) => {
      // The token is in the path, as the Bot API wants it: never logged (the target and errors carry only the host).
      return await sendAndRead({ url: `${apiUrl}/bot${settings.botToken.reveal()}/sendMessage`, body: request }, { signal, timeoutMs: DELIVERY_TIMEOUT_MS, clock: context.clock }, readTelegramAnswer)
    },
  })
}

/** `receivers.telegram` in the rules file: `{botTokenFile | botTokenEnv, chatId, apiUrl?, messageThreadId?}`. */
export const telegramReceiver = defineReceiver({
  kind: 'telegram',
  fileKey: 'telegram',
  fileEntry: z.strictObject({
    botTokenFile: filePath.optional(),
    botTokenEnv: envName.optional(),
    chatId: z.union([z.string().min(1).max(100), z.number().int()]).transform(String),
    apiUrl: z.string().min(1).optional(),
    messageThreadId: z.number().int().positive().optional(),
  }).transform((e) => ({ ...e, apiUrl: e.apiUrl ?? TELEGRAM_API_URL })),
  check: (e, where): TelegramSettings => ({
    botToken: loadSecret({ file: e.botTokenFile, env: e.botTokenEnv }, `${where}: botTokenFile / botTokenEnv`),
    chatId: e.chatId,
    apiUrl: checkReceiverUrl(e.apiUrl, `${where}: apiUrl`),
    messageThreadId: e.messageThreadId,
  }),
  create: (settings, context) => createTelegramReceiver(settings, context),
})
