// Benchmark 6: reconnect storm. N lean agents (bench/workers/lean-agent.ts: the real agent's
// backoff, full jitter capped by the reconnect period) connected; the aggregator is killed -9
// and restarted on the same port and data dir: time until every agent is back.
import { parsePositiveDuration } from '../shared/duration.ts'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import { startAggregatorProcess, startSwarm, stopSwarm, swarmStats } from './fleet-support.ts'
import { rssMiB, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'

const DEFAULT_RECONNECT = '5s'
const DEFAULT_PERIOD = '1s'
/** How often the workers report (and the storm's marks are read). */
const REPORT_MS = 250
/** The restarted aggregator's fleet view may be slow to come while it takes thousands of handshakes. */
const AGGREGATOR_VIEW_TIMEOUT_MS = 30_000
/** A ramp slower than this per agent (plus a minute) has failed. */
const RAMP_BUDGET_PER_AGENT_MS = 30

export const storm: Benchmark = {
  name: 'storm',
  description: 'N agents; the aggregator is killed and restarted: time until all are back',
  flags: '--agents N[,N...] --period 1s --reconnect 5s',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const flags = ctx.flags ?? {}
    const sizes = ctx.quick ? [50] : (flags.agents ?? process.env.BENCH_STORM_SIZES ?? '1000,3000').split(',').map((text) => {
      const n = Number(text)
      if (!Number.isInteger(n) || n <= 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `--agents: "${text}" is not a positive whole number`)
      return n
    })
    const reconnectPeriodMs = parsePositiveDuration(flags.reconnect ?? DEFAULT_RECONNECT, '--reconnect')
    const beatPeriodMs = parsePositiveDuration(flags.period ?? DEFAULT_PERIOD, '--period')
    const rows: BenchResult['rows'] = []
    const notes: string[] = []
    for (const n of sizes) {
      ctx.log(`storm: ${n} agents ...`)
      let aggregator = await startAggregatorProcess()
      const port = Number(aggregator.multiaddr.split('/')[4])
      let workers
      try {
        workers = await startSwarm(aggregator.multiaddr, n, { beatPeriodMs, reconnectPeriodMs, reportMs: REPORT_MS, readyTimeoutMs: 60_000 + n * RAMP_BUDGET_PER_AGENT_MS })
      } catch (err) {
        notes.push(`${n} agents: ${(err as Error).message.slice(0, 500)}`)
        await aggregator.process.stop()
        continue
      }
      try {
        aggregator.process.kill('SIGKILL')
        await aggregator.process.exited
        // Every agent has seen its connection drop before the clock starts (their reports lag by REPORT_MS).
        const lostBy = Date.now() + 10 * REPORT_MS + 5_000
        while (swarmStats(workers).connected > 0 && Date.now() < lostBy) await new Promise((resolve) => setTimeout(resolve, REPORT_MS))
        aggregator = await startAggregatorProcess({ dataDir: aggregator.dataDir, port })
        const restartedAt = Date.now()
        const marks: Record<string, number> = {}
        let back = 0
        let peakRss = 0
        // Counted by the agents (an agent is back once its stream is open and its first beat sent), so
        // nothing polls the aggregator's HTTP API while it takes the storm.
        while (Date.now() - restartedAt < 10 * reconnectPeriodMs) {
          await new Promise((resolve) => setTimeout(resolve, REPORT_MS))
          back = swarmStats(workers).connected
          peakRss = Math.max(peakRss, rssMiB(aggregator.process.proc.pid!))
          for (const share of [0.5, 0.9, 0.99, 1]) {
            if (marks[share] === undefined && back >= Math.ceil(n * share)) marks[share] = Date.now() - restartedAt
          }
          if (back >= n) break
        }
        // The aggregator's own view, once it is over.
        const fleet = await fetch(`${aggregator.url}/api/v1/fleet`, { signal: AbortSignal.timeout(AGGREGATOR_VIEW_TIMEOUT_MS) })
          .then(async (res) => await res.json() as { nodes: Array<{ connected: boolean }> }).catch(() => undefined)
        const seen = fleet === undefined ? 'no answer' : fleet.nodes.filter((x) => x.connected).length
        const s = (share: number): number | string => marks[share] !== undefined ? Number((marks[share]! / 1000).toFixed(1)) : 'never'
        rows.push({ agents: n, 'reconnect period (s)': reconnectPeriodMs / 1000, '50% back (s)': s(0.5), '90% (s)': s(0.9), '99% (s)': s(0.99), 'all (s)': s(1), 'back': back, 'connected per the aggregator': seen, 'agg peak RSS MiB': Math.round(peakRss) })
      } finally {
        await stopSwarm(workers)
        await aggregator.process.stop()
      }
    }
    if (rows.length === 0) rows.push({ agents: sizes.join(','), result: 'no size completed' })
    return { name: 'storm', params: { sizes, beatPeriodMs, reconnectPeriodMs }, rows, notes }
  },
}
