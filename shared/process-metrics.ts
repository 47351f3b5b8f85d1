import { collectDefaultMetrics, Registry } from 'prom-client'

/**
 * prom-client's gauges that end in `_total`, which Prometheus reserves for
 * counters (`promtool check metrics` rejects them). Their per-type twins
 * without the suffix stay (`nodejs_active_handles{type}` and so on; sum them).
 */
const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

let processRegistry: Registry | undefined

/**
 * The standard process and Node.js runtime metrics, added to the given
 * registry. They describe the process, so they are created once per process
 * (prom-client starts an event-loop monitor and a GC observer for each set,
 * and never stops them) and shared by every registry that shows them.
 */
export function registerProcessMetrics (registry: Registry): void {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
    for (const name of MISNAMED_DEFAULT_METRICS) processRegistry.removeSingleMetric(name)
  }
  for (const { name } of processRegistry.getMetricsAsArray()) {
    const metric = processRegistry.getSingleMetric(name)
    if (metric !== undefined) registry.registerMetric(metric)
  }
}
