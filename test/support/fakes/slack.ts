import { type FakeService, startFakeService } from './service.ts'

/**
 * A Slack incoming webhook, as documented: POST /services/T/B/X with JSON
 * {text, blocks?}; answers 200 "ok", 400 "invalid_payload" (no text and no
 * blocks, or a malformed block), 404 "no_service" for an unknown URL, 429
 * with Retry-After when rate limited.
 */
export async function startFakeSlack (options: { path: string }): Promise<FakeService & { webhookUrl: string }> {
  const service = await startFakeService((r) => {
    if (r.method !== 'POST' || r.path !== options.path) return { status: 404, body: 'no_service' }
    const body = r.json as Record<string, any> | undefined
    if (body === undefined) return { status: 400, body: 'invalid_payload' }
    const blocks = body.blocks
    if ((typeof body.text !== 'string' || body.text === '') && !Array.isArray(blocks)) return { status: 400, body: 'no_text' }
    if (blocks !== undefined) {
      if (!Array.isArray(blocks) || blocks.length > 50) return { status: 400, body: 'invalid_blocks' }
      for (const b of blocks) {
        if (typeof b?.type !== 'string') return { status: 400, body: 'invalid_blocks' }
        if (b.type === 'header' && (b.text?.type !== 'plain_text' || String(b.text.text).length > 150)) return { status: 400, body: 'invalid_blocks' }
        if (b.type === 'section' && String(b.text?.text ?? '').length > 3000) return { status: 400, body: 'invalid_blocks' }
      }
    }
    return { status: 200, body: 'ok' }
  })
  return { ...service, webhookUrl: `${service.url}${options.path}` }
}
