// Benchmark 6: reconnect storm. N agents connected; the aggregator is killed -9 and
// restarted on the same port and data dir: time until every agent is back.
import { fetchJson } from '../test/support/processes.ts'
import { startAggregatorProcess, startSwarm, stopSwarm } from './fleet-support.ts'
import { rssMiB, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'

const RECONNECT_PERIOD_MS = 5000

export const storm: Benchmark = {
  name: 'storm',
  description: 'N agents; the aggregator is killed and restarted: time until all are back',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const sizes = ctx.quick ? [50] : (process.env.BENCH_STORM_SIZES ?? '1000,3000').split(',').map(Number)
    const rows: BenchResult['rows'] = []
    for (const n of sizes) {
      ctx.log(`storm: ${n} agents ...`)
      let aggregator = await startAggregatorProcess()
      const port = Number(aggregator.multiaddr.split('/')[4])
      const workers = await startSwarm(aggregator.multiaddr, n, { beatPeriodMs: 1000, reconnectPeriodMs: RECONNECT_PERIOD_MS })
      try {
        aggregator.process.kill('SIGKILL')
        await aggregator.process.exited
        aggregator = await startAggregatorProcess({ dataDir: aggregator.dataDir, port })
        const restartedAt = Date.now()
        const marks: Record<string, number> = {}
        let back = 0
        let peakRss = 0
        while (Date.now() - restartedAt < 10 * RECONNECT_PERIOD_MS) {
          const fleet = await fetchJson(`${aggregator.url}/api/v1/fleet`)
          back = fleet.nodes.filter((x: any) => x.connected).length
          peakRss = Math.max(peakRss, rssMiB(aggregator.process.proc.pid!))
          for (const share of [0.5, 0.9, 0.99, 1]) {
            if (marks[share] === undefined && back >= Math.ceil(n * share)) marks[share] = Date.now() - restartedAt
          }
          if (back >= n) break
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        const s = (share: number): number | string => marks[share] !== undefined ? Number((marks[share]! / 1000).toFixed(1)) : 'never'
        rows.push({ agents: n, 'reconnect period (s)': RECONNECT_PERIOD_MS / 1000, '50% back (s)': s(0.5), '90% (s)': s(0.9), '99% (s)': s(0.99), 'all (s)': s(1), 'back': back, 'agg peak RSS MiB': Math.round(peakRss) })
      } finally {
        await stopSwarm(workers)
        await aggregator.process.stop()
      }
    }
    return { name: 'storm', params: { sizes, reconnectPeriodMs: RECONNECT_PERIOD_MS }, rows }
  },
}
