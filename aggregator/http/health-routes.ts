import type { FastifyRequest } from 'fastify'
import { type Clock, instantOf } from '../../shared/clock.ts'
import type { HealthRegistry } from '../../shared/health-registry.ts'
import { probeRoutes } from '../../shared/probe-routes.ts'
import { exposeNode } from '../fleet/exposure.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { fleetViews } from '../fleet/view.ts'
import { fleetHealthDocument, HEALTH_JSON } from '../health/fleet-health.ts'
import type { HttpRegistry } from './registry.ts'

export interface HealthRoutesOptions {
  registry: HealthRegistry
  info: () => Record<string, unknown>
  fleet: FleetState
  aggregatorPeerId: () => string
  releaseId: string
  clock: Clock
  /** Whether a request sees nodes' component details (--details); never when absent. */
  showDetails?: (request: FastifyRequest) => boolean
}

/**
 * The aggregator's probe endpoints (its own health: /health, /livez, /readyz,
 * /actuator/...) and the fleet's health as application/health+json.
 */
export function registerHealthRoutes (http: HttpRegistry, options: HealthRoutesOptions): void {
  http.route({
    method: 'GET',
    path: '/api/v1/fleet/health',
    summary: 'the fleet\'s health as application/health+json (IETF draft)',
    handler: async (request, reply) => {
      const details = options.showDetails?.(request) ?? false
      const nodes = fleetViews(options.fleet, instantOf(options.clock)).nodes.map((n) => exposeNode(n, details))
      const answer = fleetHealthDocument({ nodes, aggregatorPeerId: options.aggregatorPeerId(), releaseId: options.releaseId })
      // Serialised here: fastify only knows how to serialise application/json itself.
      return await reply.status(answer.statusCode).header('cache-control', 'no-store').type(HEALTH_JSON).send(JSON.stringify(answer.body))
    },
  })
  for (const route of probeRoutes({ registry: options.registry, info: options.info })) http.route(route)
}
