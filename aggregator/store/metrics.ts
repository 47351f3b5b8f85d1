import { Counter, Gauge, type Registry } from 'prom-client'
import { METRIC_PREFIX as P } from '../metrics/constants.ts'
import type { FleetStore } from './index.ts'

/**
 * The store's own series, read when Prometheus scrapes: write failures,
 * rows waiting to be written, the age of the last write that landed, rows
 * given up on (the pending bound was hit), and with a shared store the
 * aggregators by state. An alert on the age catches a store that stopped
 * taking writes whatever the reason (docs/operations.md).
 */
export function registerStoreMetrics (registry: Registry, store: () => FleetStore | undefined): void {
  const registers = [registry]
  const failures: Counter = new Counter({
    name: `${P}store_write_failures_total`, help: 'Store writes (one transaction per flush) that failed and were kept to be tried again.', registers,
    collect: () => { failures.reset(); failures.inc(store()?.writeStats.failures ?? 0) },
  })
  const flushes: Counter = new Counter({
    name: `${P}store_flushes_total`, help: 'Store writes that landed.', registers,
    collect: () => { flushes.reset(); flushes.inc(store()?.writeStats.flushes ?? 0) },
  })
  const dropped: Counter = new Counter({
    name: `${P}store_dropped_rows_total`, help: 'Pending rows given up on (oldest height samples first, then status changes) while the store kept refusing writes.', registers,
    collect: () => { dropped.reset(); dropped.inc(store()?.writeStats.dropped ?? 0) },
  })
  const pending: Gauge = new Gauge({
    name: `${P}store_pending_rows`, help: 'Rows (changed nodes, height samples, status changes) waiting to be written to the store.', registers,
    collect: () => { pending.set(store()?.writeStats.pendingRows ?? 0) },
  })
  const age: Gauge = new Gauge({
    name: `${P}store_last_flush_age_seconds`, help: 'Seconds since the last store write that landed (since start, before the first).', registers,
    collect: () => {
      const s = store()
      if (s === undefined) age.reset()
      else age.set(s.writeStats.lastFlushAgeSeconds)
    },
  })
  const aggregators: Gauge = new Gauge({
    name: `${P}aggregators`, help: 'Aggregators sharing the store, by state (reporting, silent: stopped renewing its lease, stopped).', labelNames: ['state'], registers,
    collect: () => {
      aggregators.reset()
      const s = store()
      if (s === undefined) return
      const counts = { reporting: 0, silent: 0, stopped: 0 }
      for (const a of s.aggregators({ peerId: '', multiaddrs: [], version: '', url: '', startedAt: '' })) counts[a.state]++
      for (const [state, n] of Object.entries(counts)) aggregators.set({ state }, n)
    },
  })
}
