import { type FakeService, json, type Recorded, startFakeService } from './service.ts'

/**
 * A Telegram Bot API server (sendMessage only), as documented: POST
 * /bot<token>/sendMessage with JSON {chat_id, text, parse_mode?}; answers
 * {"ok": true, "result": Message}, or {"ok": false, "error_code",
 * "description"} (401 for a wrong token, 400 for a bad request or an
 * unparsable HTML text, 429 with parameters.retry_after).
 */
export async function startFakeTelegram (options: { token: string }): Promise<FakeService & { messages: () => Recorded[] }> {
  let messageId = 0
  const service = await startFakeService((r) => {
    if (r.method !== 'POST') return json(405, { ok: false, error_code: 405, description: 'Method Not Allowed' })
    if (r.path !== `/bot${options.token}/sendMessage`) return json(401, { ok: false, error_code: 401, description: 'Unauthorized' })
    const body = r.json as Record<string, unknown> | undefined
    if (body === undefined || !String(r.headers['content-type']).startsWith('application/json')) return json(400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' })
    if (typeof body.chat_id !== 'string' && typeof body.chat_id !== 'number') return json(400, { ok: false, error_code: 400, description: 'Bad Request: chat_id is empty' })
    if (typeof body.text !== 'string' || body.text === '') return json(400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' })
    if (body.text.length > 4096) return json(400, { ok: false, error_code: 400, description: 'Bad Request: message is too long' })
    if (body.parse_mode === 'HTML' && !wellFormedTelegramHtml(body.text)) return json(400, { ok: false, error_code: 400, description: 'Bad Request: can\'t parse entities' })
    messageId++
    return json(200, { ok: true, result: { message_id: messageId, date: Math.floor(Date.now() / 1000), chat: { id: body.chat_id }, text: body.text } })
  })
  return { ...service, messages: () => service.accepted }
}

/** Telegram's 429, as it sends it. */
export function telegramTooMany (seconds: number): { status: number, body: unknown } {
  return { status: 429, body: { ok: false, error_code: 429, description: `Too Many Requests: retry after ${seconds}`, parameters: { retry_after: seconds } } }
}

/** Only the tags Telegram's HTML mode knows, balanced, and no bare < or & outside entities. */
function wellFormedTelegramHtml (text: string): boolean {
  const allowed = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'tg-spoiler', 'blockquote', 'span'])
  const open: string[] = []
  const tag = /<(\/?)([a-z-]+)(?:\s[^>]*)?>|&(?:amp|lt|gt|quot|#\d+);|[<&]/g
  for (const m of text.matchAll(tag)) {
    if (m[0] === '<' || m[0] === '&') return false
    if (m[2] === undefined) continue
    if (!allowed.has(m[2])) return false
    if (m[1] === '/') { if (open.pop() !== m[2]) return false } else open.push(m[2])
  }
  return open.length === 0
}
