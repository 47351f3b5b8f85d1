import { type FakeService, json, startFakeService } from './service.ts'

/**
 * PagerDuty's Events API v2 (POST /v2/enqueue), as documented: an event
 * {routing_key, event_action: trigger | acknowledge | resolve, dedup_key,
 * payload: {summary, source, severity, ...}} answers 202 {status: "success",
 * message: "Event processed", dedup_key}; an invalid one 400 {status:
 * "invalid event", message, errors}; 429 when rate limited. It keeps the
 * incidents a trigger opened, so a test can see a resolve close one.
 */
export async function startFakePagerDuty (options: { routingKey: string }): Promise<FakeService & { enqueueUrl: string, open: Set<string> }> {
  const open = new Set<string>()
  const invalid = (...errors: string[]): ReturnType<typeof json> => json(400, { status: 'invalid event', message: 'Event object is invalid', errors })
  const service = await startFakeService((r) => {
    if (r.method !== 'POST' || r.path !== '/v2/enqueue') return json(404, { status: 'not found' })
    const e = r.json as Record<string, any> | undefined
    if (e === undefined) return invalid('Malformed JSON')
    if (e.routing_key !== options.routingKey) return invalid('\'routing_key\' is invalid')
    const action = e.event_action
    if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve') return invalid('\'event_action\' is invalid')
    if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255)) return invalid('\'dedup_key\' is invalid')
    if (action === 'trigger') {
      const p = e.payload
      if (typeof p?.summary !== 'string' || p.summary === '' || p.summary.length > 1024) return invalid('\'payload.summary\' is missing or invalid')
      if (typeof p.source !== 'string' || p.source === '') return invalid('\'payload.source\' is missing or blank')
      if (!['critical', 'error', 'warning', 'info'].includes(p.severity)) return invalid('\'payload.severity\' is invalid (must be one of the following: \'critical\', \'warning\', \'error\' or \'info\')')
      if (p.timestamp !== undefined && Number.isNaN(Date.parse(p.timestamp))) return invalid('\'payload.timestamp\' is invalid')
    } else if (typeof e.dedup_key !== 'string') {
      return invalid('\'dedup_key\' is required for acknowledge and resolve')
    }
    const dedup = typeof e.dedup_key === 'string' ? e.dedup_key : `generated-${service.requests.length}`
    if (action === 'trigger') open.add(dedup)
    if (action === 'resolve') open.delete(dedup)
    return json(202, { status: 'success', message: 'Event processed', dedup_key: dedup })
  })
  return { ...service, enqueueUrl: `${service.url}/v2/enqueue`, open }
}
