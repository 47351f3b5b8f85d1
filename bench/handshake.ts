// Benchmark 7: what one inbound connection costs the aggregator. N lean agents (bench/workers/lean-agent.ts)
// connect at a bounded number of handshakes at once, each doing what a real agent does on connecting (TCP,
// multistream-select, Noise XX, Yamux, the heartbeat stream's negotiation, its first beat), then stay
// connected and quiet (a beat period far longer than the run). The aggregator's CPU from /proc over the
// ramp, divided by N, is its all-in cost per handshake: the figure that bounds how fast a restarted
// aggregator can take its fleet back (bench/storm.ts, docs/BENCHMARKS.md §6).
import { loadavg } from 'node:os'
import { DEFAULT_RECONNECT_PERIOD_MS } from '../agent/constants.ts'
import { rampBudgetMs, startAggregatorProcess, startSwarm, stopSwarm, swarmStats, wholeNumberFlag } from './fleet-support.ts'
import { cpuSeconds, cpuSplit, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'

const DEFAULT_AGENTS = 2000
/** Handshakes at once per worker: few enough that neither side queues, so the figure is cost, not contention. */
const DEFAULT_HANDSHAKES = 2
/** Agents beat once on connecting and then stay quiet for the rest of the run. */
const QUIET_PERIOD_MS = 60 * 60_000
/** The idle aggregator is measured this long before the ramp. */
const IDLE_WINDOW_MS = 5_000
/** Workers that dial in parallel (the agents are split evenly over them). */
const WORKERS = 2

export const handshake: Benchmark = {
  name: 'handshake',
  description: 'N agents connect, a few at a time: the aggregator\'s CPU per inbound handshake (and the agents\')',
  flags: '--agents 2000 --handshakes 2 (per worker, 2 workers) --profile DIR',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const flags = ctx.flags ?? {}
    const n = ctx.quick ? 40 : wholeNumberFlag(flags.agents, DEFAULT_AGENTS, '--agents')
    const handshakes = wholeNumberFlag(flags.handshakes, DEFAULT_HANDSHAKES, '--handshakes')
    const profileDir = ctx.quick ? undefined : flags.profile
    const aggregator = await startAggregatorProcess(profileDir !== undefined ? { env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } } : {})
    const pid = aggregator.process.proc.pid!
    const notes: string[] = []
    try {
      // Let start-up work (page build check, store open) finish, then take the idle aggregator's own rate
      // (its timers), which the ramp's figure leaves out.
      await new Promise((resolve) => setTimeout(resolve, ctx.quick ? 200 : 2_000))
      const idle0 = cpuSeconds(pid)
      const idleT0 = performance.now()
      await new Promise((resolve) => setTimeout(resolve, ctx.quick ? 500 : IDLE_WINDOW_MS))
      const idleRate = (cpuSeconds(pid) - idle0) / ((performance.now() - idleT0) / 1000)
      const load0 = loadavg()[0]!
      const cpu0 = cpuSeconds(pid)
      const split0 = cpuSplit(pid)
      const t0 = performance.now()
      const startUs = Number(process.hrtime.bigint() / 1000n)
      const workers = await startSwarm(aggregator.multiaddr, n, {
        beatPeriodMs: QUIET_PERIOD_MS,
        reconnectPeriodMs: DEFAULT_RECONNECT_PERIOD_MS,
        perWorker: Math.ceil(n / WORKERS),
        concurrentHandshakes: handshakes,
        linkPingMs: 0,
        reportMs: 250,
        readyTimeoutMs: rampBudgetMs(n),
      })
      const seconds = (performance.now() - t0) / 1000
      const endUs = Number(process.hrtime.bigint() / 1000n)
      const aggCpu = cpuSeconds(pid) - cpu0
      const split1 = cpuSplit(pid)
      const load1 = loadavg()[0]!
      // Workers report every 250 ms: wait for a report that includes the end of the ramp.
      await new Promise((resolve) => setTimeout(resolve, 500))
      const swarm = swarmStats(workers)
      const failures = workers.reduce((sum, w) => sum + (w.last?.connectFailures ?? 0), 0)
      await stopSwarm(workers)
      if (profileDir !== undefined) notes.push(`aggregator profile in ${profileDir}; window ${startUs}..${endUs} µs (bench/profile-window.ts)`)
      // The window opens before the workers start: their start-up (module loading, every key generated) is in it. The
      // aggregator is idle meanwhile, so its CPU above idle per handshake is not inflated; the rates over the window are.
      notes.push('the window includes each worker\'s start-up (key generation, module loading): agent CPU per handshake, ramp s and handshakes/s count it; the aggregator\'s CPU above idle per handshake does not (it idles meanwhile)')
      return {
        name: 'handshake',
        params: { agents: n, handshakesPerWorker: handshakes, workers: WORKERS },
        rows: [{
          agents: n,
          'handshakes at once': handshakes * WORKERS,
          'ramp s': Number(seconds.toFixed(1)),
          'handshakes/s': Math.round(n / seconds),
          'agg CPU %': Number(((aggCpu / seconds) * 100).toFixed(1)),
          'agg CPU ms/handshake': Number(((aggCpu * 1000) / n).toFixed(2)),
          'above idle ms/handshake': Number((((aggCpu - idleRate * seconds) * 1000) / n).toFixed(2)),
          'idle agg CPU %': Number((idleRate * 100).toFixed(1)),
          'of which kernel %': Math.round(((split1.system - split0.system) / Math.max(0.01, aggCpu)) * 100),
          'agents CPU ms/handshake': Number(((swarm.cpuSeconds * 1000) / n).toFixed(2)),
          'failed attempts': failures,
          'load avg': `${load0.toFixed(2)}→${load1.toFixed(2)}`,
        }],
        notes,
      }
    } finally {
      await aggregator.process.stop()
    }
  },
}

