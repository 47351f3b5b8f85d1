import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { HealthRegistry } from '../../shared/health-registry.ts'
import { registerProbeRoutes } from '../../shared/probe-routes.ts'
import { exposeNode } from '../fleet/exposure.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { fleetViews } from '../fleet/view.ts'
import { fleetHealthDocument, HEALTH_JSON } from '../health/fleet-health.ts'

export interface HealthRoutesOptions {
  registry: HealthRegistry
  info: () => Record<string, unknown>
  fleet: FleetState
  aggregatorPeerId: () => string
  releaseId: string
  now: () => number
  /** Whether a request sees nodes' component details (--details); never when absent. */
  showDetails?: (request: FastifyRequest) => boolean
}

/**
 * The aggregator's probe endpoints (its own health: /health, /livez, /readyz,
 * /actuator/...) and the fleet's health as application/health+json.
 */
export function registerHealthRoutes (app: FastifyInstance, options: HealthRoutesOptions): void {
  registerProbeRoutes(app, { registry: options.registry, info: options.info })

  app.get('/api/v1/fleet/health', async (request, reply) => {
    const details = options.showDetails?.(request) ?? false
    const nodes = fleetViews(options.fleet, options.now()).nodes.map((n) => exposeNode(n, details))
    const answer = fleetHealthDocument({ nodes, aggregatorPeerId: options.aggregatorPeerId(), releaseId: options.releaseId })
    // Serialised here: fastify only knows how to serialise application/json itself.
    return await reply.status(answer.statusCode).header('cache-control', 'no-store').type(HEALTH_JSON).send(JSON.stringify(answer.body))
  })
}
