import type { HealthRegistry } from '../../shared/health-registry.ts'
import { probeRoutes } from '../../shared/probe-routes.ts'
import type { HttpRegistry } from './registry.ts'

export interface HealthRoutesOptions {
  registry: HealthRegistry
  info: () => Record<string, unknown>
}

/**
 * The aggregator's probe endpoints (its own health: /health, /livez, /readyz,
 * /actuator/...). The fleet's health (GET /api/v1/fleet/health) is a fleet
 * view, served from the cached node views by fleet-routes.ts.
 */
export function registerHealthRoutes (http: HttpRegistry, options: HealthRoutesOptions): void {
  for (const route of probeRoutes({ registry: options.registry, info: options.info })) http.route(route)
}
