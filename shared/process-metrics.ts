import { collectDefaultMetrics, Registry } from 'prom-client'

/**
 * prom-client's gauges that end in `_total`, which Prometheus reserves for
 * counters (`promtool check metrics` rejects them). Their per-type twins
 * without the suffix stay (`nodejs_active_handles{type}` and so on; sum them).
 */
const MISNAMED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

/**
 * How often prom-client's event-loop monitor samples (its default is 10 ms):
 * every sample is a wake-up of an otherwise idle process, 100 a second by
 * default, which was half of an idle aggregator's CPU (docs/BENCHMARKS.md §2).
 * A stall longer than this still shows in full in the lag percentiles (the
 * late sample measures it); nodejs_eventloop_lag_seconds itself is measured
 * at each scrape.
 */
export const EVENT_LOOP_MONITOR_RESOLUTION_MS = 100

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
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_MONITOR_RESOLUTION_MS })
    for (const name of MISNAMED_DEFAULT_METRICS) processRegistry.removeSingleMetric(name)
  }
  for (const { name } of processRegistry.getMetricsAsArray()) {
    const metric = processRegistry.getSingleMetric(name)
    if (metric !== undefined) registry.registerMetric(metric)
  }
}
