import { collectDefaultMetrics, type Registry } from 'prom-client'

/**
 * prom-client's gauges that end in `_total`, which Prometheus reserves for
 * counters (`promtool check metrics` rejects them). Their per-type twins
 * without the suffix stay (`nodejs_active_handles{type}` and so on; sum them).
 */
const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

/** The standard process and Node.js runtime metrics, on the given registry. */
export function registerProcessMetrics (registry: Registry): void {
  collectDefaultMetrics({ register: registry })
  for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name)
}
