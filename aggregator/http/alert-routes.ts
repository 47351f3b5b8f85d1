import { peerIdFromString } from '@libp2p/peer-id'
import { z } from 'zod'
import { type Clock, type Instant, instantOf } from '../../shared/clock.ts'
import { formatDuration, parseDuration } from '../../shared/duration.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { Alerting } from '../alerts/alerting.ts'
import { MAX_MAINTENANCE_MS, MAX_MAINTENANCE_REASON } from '../alerts/constants.ts'
import type { MaintenanceScope } from '../alerts/maintenance.ts'
import { maintenanceView } from '../alerts/views.ts'
import type { HttpRegistry } from './registry.ts'

const scopeFields = {
  peerId: z.string().min(1).max(200).optional(),
  fleet: z.boolean().optional(),
}
const startBody = z.strictObject({
  ...scopeFields,
  duration: z.string().min(1),
  reason: z.string().max(MAX_MAINTENANCE_REASON).optional(),
})
const endBody = z.strictObject({ ...scopeFields, fleet: z.union([z.boolean(), z.enum(['true', 'false'])]).optional() })
const testBody = z.strictObject({
  receivers: z.array(z.string().min(1).max(100)).min(1).max(100).optional(),
  note: z.string().max(200).optional(),
})

/**
 * Alerts and maintenance over HTTP:
 *   GET    /api/v1/alerts       pending, firing and recently resolved alerts, rules, receivers, maintenance
 *   GET    /api/v1/maintenance  the maintenance windows in force
 *   POST   /api/v1/maintenance  {peerId | fleet: true, duration, reason?}  (admin)
 *   DELETE /api/v1/maintenance  {peerId | fleet: true}, as JSON body or query (admin)
 *   POST   /api/v1/alerts/test   {receivers?: [name], note?}: a test message to each receiver, and what each answered (admin)
 */
export function registerAlertRoutes (http: HttpRegistry, options: { alerting: Alerting, clock: Clock, logger: Logger }): void {
  const { alerting, clock, logger } = options
  const now = (): Instant => instantOf(clock)

  http.route({ method: 'GET', path: '/api/v1/alerts', summary: 'pending, firing and resolved alerts; rules; receivers', handler: async () => alerting.document(now()) })

  http.route({
    method: 'POST',
    path: '/api/v1/alerts/test',
    summary: 'send a test message to every receiver (or {receivers: [names]}); 200 when all delivered, else 502',
    admin: true,
    handler: async (request, reply) => {
      const body = parse(testBody, request.body)
      // Bounded by the test deadline (TEST_DEADLINE_MS), whether or not the caller still waits.
      const results = await alerting.testReceivers({ names: body.receivers, note: body.note, signal: new AbortController().signal })
      const delivered = results.every((r) => r.delivered)
      logger.info({ receivers: results.map((r) => `${r.name}: ${r.delivered ? 'delivered' : `failed (${r.error ?? ''})`}`), remote: request.ip }, 'test alert sent')
      return await reply.status(delivered ? 200 : 502).send({ delivered, results })
    },
  })

  http.route({
    method: 'GET',
    path: '/api/v1/maintenance',
    summary: 'maintenance windows in force',
    handler: async () => {
      const t = now()
      return { generatedAt: new Date(t.wall).toISOString(), ...alerting.maintenanceDocument(t) }
    },
  })

  http.route({
    method: 'POST',
    path: '/api/v1/maintenance',
    summary: 'start a window: {peerId | fleet: true, duration, reason}',
    admin: true,
    handler: async (request, reply) => {
      const body = parse(startBody, request.body)
      const scope = toScope(body)
      let durationMs: number
      try {
        durationMs = parseDuration(body.duration, 'duration')
      } catch (err) {
        throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, (err as Error).message)
      }
      if (durationMs <= 0 || durationMs > MAX_MAINTENANCE_MS) {
        throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `duration must be more than 0s and at most ${formatDuration(MAX_MAINTENANCE_MS)}`)
      }
      const t = now()
      const entry = alerting.maintenance.start(scope, durationMs, body.reason ?? '', t)
      logger.info({ scope: 'fleet' in scope ? 'fleet' : scope.peerId, until: new Date(entry.until ?? t.wall).toISOString(), reason: entry.reason, remote: request.ip },
        'maintenance started: alerts held back')
      return await reply.status(201).send({ ...('peerId' in scope ? { peerId: scope.peerId } : { fleet: true }), ...maintenanceView(entry) })
    },
  })

  http.route({
    method: 'DELETE',
    path: '/api/v1/maintenance',
    summary: 'end a window: {peerId | fleet: true}, as JSON body or query',
    admin: true,
    handler: async (request) => {
      const raw = request.body !== undefined && request.body !== null ? request.body : request.query
      const body = parse(endBody, raw)
      const scope = toScope({ peerId: body.peerId, fleet: body.fleet === true || body.fleet === 'true' })
      const ended = alerting.maintenance.end(scope, now())
      if (ended) logger.info({ scope: 'fleet' in scope ? 'fleet' : scope.peerId, remote: request.ip }, 'maintenance ended by an operator')
      return { ended }
    },
  })
}

function parse<T> (schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value ?? {})
  if (!result.success) {
    const issue = result.error.issues[0]
    const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `
    throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `invalid request: ${where}${issue?.message ?? 'bad input'}`)
  }
  return result.data
}

function toScope (body: { peerId?: string | undefined, fleet?: boolean | undefined }): MaintenanceScope {
  const fleet = body.fleet === true
  if (fleet === (body.peerId !== undefined)) {
    throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, 'give either peerId (one node) or fleet: true (every node), not both')
  }
  if (fleet) return { fleet: true }
  const peerId = body.peerId as string
  try {
    peerIdFromString(peerId)
  } catch {
    throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `invalid peerId "${peerId}": not a libp2p peer id`)
  }
  return { peerId }
}
