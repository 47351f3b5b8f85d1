import { type FakeService, json, startFakeService } from './service.ts'

/** A webhook's bucket, as Discord reports it: 5 requests per 2 s. */
const BUCKET = { limit: 5, resetAfterSeconds: 2 }

/**
 * A Discord execute-webhook endpoint, as documented: POST
 * /api/webhooks/{id}/{token} with JSON {content?, embeds?, username?,
 * allowed_mentions?}; with ?wait=true it answers 200 and the message, else
 * 204. Every answer carries X-RateLimit-* headers; an exhausted bucket
 * answers 429 {message, retry_after (seconds), global} with Retry-After.
 * Embeds are checked against Discord's limits (title 256, description 4096).
 * The bucket runs on `now` (a test's manual clock).
 */
export async function startFakeDiscord (options: { id: string, token: string, enforceBucket?: boolean, now?: () => number }): Promise<FakeService & { webhookUrl: string }> {
  let messageId = 1_000_000
  const windows: number[] = []
  const service = await startFakeService((r) => {
    if (r.method !== 'POST' || r.path !== `/api/webhooks/${options.id}/${options.token}`) return json(401, { message: 'Invalid Webhook Token', code: 50027 })
    const now = (options.now ?? Date.now)()
    while (windows.length > 0 && (windows[0] as number) <= now - BUCKET.resetAfterSeconds * 1000) windows.shift()
    const remaining = BUCKET.limit - windows.length
    if (options.enforceBucket === true && remaining <= 0) {
      const retryAfter = ((windows[0] as number) + BUCKET.resetAfterSeconds * 1000 - now) / 1000
      return json(429, { message: 'You are being rate limited.', retry_after: retryAfter, global: false }, { 'retry-after': String(Math.ceil(retryAfter)), 'x-ratelimit-limit': String(BUCKET.limit), 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': retryAfter.toFixed(3), 'x-ratelimit-scope': 'user' })
    }
    const body = r.json as Record<string, any> | undefined
    const embeds = Array.isArray(body?.embeds) ? body.embeds as Array<Record<string, any>> : []
    if (body === undefined || ((typeof body.content !== 'string' || body.content === '') && embeds.length === 0)) return json(400, { message: 'Cannot send an empty message', code: 50006 })
    if (typeof body.content === 'string' && body.content.length > 2000) return json(400, { message: 'Invalid Form Body', code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } })
    for (const e of embeds) {
      if (typeof e.title === 'string' && e.title.length > 256) return json(400, { message: 'Invalid Form Body', code: 50035 })
      if (typeof e.description === 'string' && e.description.length > 4096) return json(400, { message: 'Invalid Form Body', code: 50035 })
      if (e.color !== undefined && !Number.isInteger(e.color)) return json(400, { message: 'Invalid Form Body', code: 50035 })
    }
    windows.push(now)
    const headers = { 'x-ratelimit-limit': String(BUCKET.limit), 'x-ratelimit-remaining': String(Math.max(0, remaining - 1)), 'x-ratelimit-reset-after': String(BUCKET.resetAfterSeconds), 'x-ratelimit-bucket': 'fakebucket' }
    messageId++
    if (r.query.get('wait') !== 'true') return { status: 204, headers }
    return json(200, { id: String(messageId), type: 0, content: body.content ?? '', embeds, webhook_id: options.id }, headers)
  })
  return { ...service, webhookUrl: `${service.url}/api/webhooks/${options.id}/${options.token}` }
}
