import Fastify, { type FastifyInstance } from 'fastify'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { fleetViews, nodeView } from '../fleet/view.ts'
import { errorHandler, notFoundHandler } from './errors.ts'
import { serveEvents } from './events.ts'
import { registerPage } from './page.ts'
import type { Logger } from '../../shared/log.ts'

export interface AggregatorInfo {
  peerId: string
  multiaddrs: string[]
  version: string
  startedAt: string
}

export interface HttpServerOptions {
  fleet: FleetState
  info: () => AggregatorInfo
  now: () => number
  logger?: Logger
}

/** Headers on every answer: no sniffing, no framing, nothing loaded from elsewhere. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
}

export function buildHttpServer (options: HttpServerOptions): FastifyInstance {
  const { fleet, info, now } = options
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, routerOptions: { maxParamLength: 200 }, return503OnClosing: true, forceCloseConnections: true })
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  app.addHook('onSend', async (_request, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v)
  })

  const fleetDocument = (): unknown => {
    const { nodes, summary } = fleetViews(fleet)
    return { aggregator: info(), generatedAt: new Date(now()).toISOString(), summary, nodes }
  }

  app.get('/api/v1/fleet', async () => fleetDocument())

  app.get<{ Params: { peerId: string } }>('/api/v1/nodes/:peerId', async (request) => {
    const { peerId } = request.params
    const record = fleet.get(peerId)
    const verdict = fleet.verdict(peerId)
    if (record === undefined || verdict === undefined) throw new HeartbeatError(ErrorCodes.NODE_NOT_FOUND, `no node with peer id ${peerId}`)
    return nodeView(record, verdict)
  })

  app.get('/api/v1/events', serveEvents(fleet, fleetDocument, () => fleetViews(fleet).summary))

  registerPage(app, { logger: options.logger })

  return app
}

/** Parses HOST:PORT (IPv6 as [::1]:8080). */
export function parseHostPort (text: string): { host: string, port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[3])
  if (match === null || !Number.isInteger(port) || port > 65535) {
    throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `invalid --http "${text}": expected HOST:PORT such as 127.0.0.1:8080 or [::1]:8080`)
  }
  return { host: (match[1] ?? match[2]) as string, port }
}
