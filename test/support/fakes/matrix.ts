import { type FakeService, json, startFakeService } from './service.ts'

/**
 * A Matrix homeserver's send endpoint, as the client-server API documents
 * it: PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}
 * with a bearer token and {msgtype, body, format?, formatted_body?};
 * answers 200 {event_id}, the same event for a repeated transaction id
 * (idempotent), 401 M_UNKNOWN_TOKEN, 403 M_FORBIDDEN (not in the room), 429
 * M_LIMIT_EXCEEDED with retry_after_ms.
 */
export async function startFakeMatrix (options: { roomId: string, accessToken: string }): Promise<FakeService & { events: Map<string, unknown> }> {
  const events = new Map<string, unknown>()
  const prefix = `/_matrix/client/v3/rooms/${encodeURIComponent(options.roomId)}/send/m.room.message/`
  const service = await startFakeService((r) => {
    if (r.headers.authorization !== `Bearer ${options.accessToken}`) return json(401, { errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token passed.' })
    if (r.method !== 'PUT' || !r.path.startsWith(prefix)) return json(403, { errcode: 'M_FORBIDDEN', error: 'User not in room' })
    const txnId = decodeURIComponent(r.path.slice(prefix.length))
    const c = r.json as Record<string, any> | undefined
    if (c === undefined || typeof c.msgtype !== 'string' || typeof c.body !== 'string') return json(400, { errcode: 'M_BAD_JSON', error: 'Content must have msgtype and body' })
    if (c.formatted_body !== undefined && c.format !== 'org.matrix.custom.html') return json(400, { errcode: 'M_BAD_JSON', error: 'formatted_body needs format' })
    if (!events.has(txnId)) events.set(txnId, c)
    return json(200, { event_id: `$${[...events.keys()].indexOf(txnId)}:fake.example` })
  })
  return { ...service, events }
}
