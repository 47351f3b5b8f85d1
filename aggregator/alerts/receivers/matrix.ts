import { createHash } from 'node:crypto'
import { z } from 'zod'
import { DELIVERY_TIMEOUT_MS } from '../constants.ts'
import { type AlertMessage, clip, messageText } from '../message.ts'
import type { DeliveryResult } from './delivery-queue.ts'
import { classifyAnswer, type HttpAnswer, jsonBody, sendAndRead } from './http-post.ts'
import { htmlLines } from './markup.ts'
import { MessageReceiver } from './message-receiver.ts'
import type { RateLimit } from './pacer.ts'
import type { ReceiverContext } from './receiver.ts'
import { defineReceiver } from './registry.ts'
import { envName, filePath, loadSecret, type Secret } from './secret.ts'
import { checkReceiverUrl, redactUrl } from './url.ts'

/**
 * Synapse's default message rate limit (rc_message: 0.2 a second, bursts
 * of 10), as a sliding window; a homeserver that allows less says so with
 * 429 M_LIMIT_EXCEEDED and retry_after_ms, which is honoured.
 */
export const MATRIX_LIMITS: readonly RateLimit[] = [{ count: 10, perMs: 50_000 }]
/** Events are limited to 64 KiB; a message stays far below. */
const MATRIX_MAX_BODY = 16_000

export interface MatrixSettings {
  /** The homeserver's base URL (https://matrix.example.org). */
  homeserver: string
  /** The room's id (!abc:example.org), which the bot's account has joined. */
  roomId: string
  accessToken: Secret
}

export interface MatrixRequest {
  /** Chosen per message, so a retry after a lost answer is the same transaction and never posts twice. */
  txnId: string
  content: { msgtype: 'm.text', body: string, format: 'org.matrix.custom.html', formatted_body: string }
}

export function matrixRequest (m: AlertMessage): MatrixRequest {
  const txnId = `fil-heartbeat-${createHash('sha256').update(`${m.episode}\u0000${m.kind}\u0000${m.at}`).digest('hex').slice(0, 32)}`
  return {
    txnId,
    content: {
      msgtype: 'm.text',
      body: clip(messageText(m), MATRIX_MAX_BODY),
      format: 'org.matrix.custom.html',
      formatted_body: clip(htmlLines(m, { anchors: true }).join('<br>'), MATRIX_MAX_BODY),
    },
  }
}

/**
 * Reads a send answer: 200 `{"event_id": ...}` is delivered; 429
 * M_LIMIT_EXCEEDED carries retry_after_ms; 401 M_UNKNOWN_TOKEN and 403
 * M_FORBIDDEN (the bot is not in the room) are refused for good.
 */
export function readMatrixAnswer (answer: HttpAnswer, now: number): DeliveryResult {
  const body = jsonBody(answer) as { event_id?: unknown, errcode?: unknown, error?: unknown, retry_after_ms?: unknown } | undefined
  const retryAfter = typeof body?.retry_after_ms === 'number' ? body.retry_after_ms : undefined
  const result = classifyAnswer(answer, now, answer.status === 429 ? retryAfter : undefined)
  if (result.ok) return { ...result, answer: typeof body?.event_id === 'string' ? `event ${body.event_id}` : result.answer }
  const said = [body?.errcode, body?.error].filter((s): s is string => typeof s === 'string').join(': ')
  return said === '' ? result : { ...result, error: `HTTP ${answer.status}: ${said}`, answer: said }
}

export function createMatrixReceiver (settings: MatrixSettings, context: ReceiverContext): MessageReceiver<MatrixRequest> {
  const base = settings.homeserver.replace(/\/+$/, '')
  return new MessageReceiver<MatrixRequest>({
    kind: 'matrix',
    target: `${redactUrl(base)} room ${settings.roomId}`,
    context,
    limits: MATRIX_LIMITS,
    render: matrixRequest,
    describe: (r) => r.content.body.split('\n', 1)[0] ?? '',
    send: async (request, signal) => {
      const url = `${base}/_matrix/client/v3/rooms/${encodeURIComponent(settings.roomId)}/send/m.room.message/${encodeURIComponent(request.txnId)}`
      return await sendAndRead({ url, method: 'PUT', body: request.content, headers: { authorization: `Bearer ${settings.accessToken.reveal()}` } },
        { signal, timeoutMs: DELIVERY_TIMEOUT_MS, clock: context.clock }, readMatrixAnswer)
    },
  })
}

/** `receivers.matrix` in the rules file: `{homeserver, roomId, accessTokenFile | accessTokenEnv}`. */
export const matrixReceiver = defineReceiver({
  kind: 'matrix',
  fileKey: 'matrix',
  fileEntry: z.strictObject({
    homeserver: z.string().min(1),
    roomId: z.string().regex(/^![^:\s]+:\S+$/, 'a room id such as !abcdef:example.org (Room settings, Advanced)'),
    accessTokenFile: filePath.optional(),
    accessTokenEnv: envName.optional(),
  }),
  check: (e, where): MatrixSettings => ({
    homeserver: checkReceiverUrl(e.homeserver, `${where}: homeserver`),
    roomId: e.roomId,
    accessToken: loadSecret({ file: e.accessTokenFile, env: e.accessTokenEnv }, `${where}: accessTokenFile / accessTokenEnv`),
  }),
  create: (settings, context) => createMatrixReceiver(settings, context),
})
