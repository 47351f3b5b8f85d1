// Benchmark 6: reconnect storm. N lean agents (bench/workers/lean-agent.ts: the real agent's
// backoff, dial timeout and link ping) connected; the aggregator is killed -9 and
// restarted on the same port and data dir: time until every agent is back, what the storm cost
// the aggregator and the simulated agents, and why attempts failed.
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_BEAT_PERIOD_MS, DEFAULT_RECONNECT_PERIOD_MS } from '../agent/constants.ts'
import { parsePositiveDuration } from '../shared/duration.ts'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import { tempDir } from '../test/support/processes.ts'
import type { SwarmWorker } from '../test/support/swarm-worker.ts'
import {
  AGENTS_PER_WORKER, linkPingMs, rampBudgetMs, startAggregatorProcess, startSwarm, stopSwarm, swarmStats, wholeNumberFlag,
} from './fleet-support.ts'
import { cpuSeconds, rssMiB, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'

/** The quick run (inside npm test) keeps the harness alive in a few seconds. */
const QUICK_RECONNECT_MS = 5_000
const QUICK_PERIOD_MS = 1_000
/** How often the workers report (and the storm's marks are read). */
const REPORT_MS = 250
/** The restarted aggregator's fleet view may be slow to come while it takes thousands of handshakes. */
const AGGREGATOR_VIEW_TIMEOUT_MS = 30_000
/** The restart restores every known node from the store before it listens: a minute, plus this per node. */
const RESTART_BUDGET_PER_AGENT_MS = 5
/** The storm is watched for this many reconnect periods at most. */
const WATCH_PERIODS = 10
/**
 * The simulated agents' niceness (--agents-nice): they yield the cores to the aggregator they measure, as agents
 * on machines of their own would (test/support/swarm-worker.ts). 0 shares them evenly per process.
 */
const DEFAULT_AGENTS_NICE = 10
/**
 * Handshakes each worker runs at once (--handshakes). A real fleet dials in parallel, each agent when its backoff
 * says; the cap only keeps a worker's own event loop (2,000 agents) from becoming the slow side of its handshakes.
 */
const DEFAULT_STORM_HANDSHAKES = 100
/** The goal (docs/BENCHMARKS.md §6): every agent back within this many reconnect periods of the restart. */
const GOAL_PERIODS = 2

export const storm: Benchmark = {
  name: 'storm',
  description: 'N agents; the aggregator is killed and restarted: time until all are back',
  flags: '--agents N[,N...] --period 3s --reconnect 10s --link-ping 10s (0 = off) --per-worker 2000 --handshakes 100 (per worker) --agents-nice 10 --profile DIR',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const flags = ctx.flags ?? {}
    const sizes = ctx.quick ? [50] : (flags.agents ?? process.env.BENCH_STORM_SIZES ?? '1000,3000').split(',').map((text) => {
      const n = Number(text)
      if (!Number.isInteger(n) || n <= 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `--agents: "${text}" is not a positive whole number`)
      return n
    })
    // Without flags, the agent's own defaults: what a fleet left alone runs.
    const reconnectPeriodMs = flags.reconnect !== undefined ? parsePositiveDuration(flags.reconnect, '--reconnect') : ctx.quick ? QUICK_RECONNECT_MS : DEFAULT_RECONNECT_PERIOD_MS
    const beatPeriodMs = flags.period !== undefined ? parsePositiveDuration(flags.period, '--period') : ctx.quick ? QUICK_PERIOD_MS : DEFAULT_BEAT_PERIOD_MS
    const pingMs = linkPingMs(flags['link-ping'])
    const perWorker = wholeNumberFlag(flags['per-worker'], AGENTS_PER_WORKER, '--per-worker')
    const handshakes = wholeNumberFlag(flags.handshakes, DEFAULT_STORM_HANDSHAKES, '--handshakes')
    const nice = flags['agents-nice'] !== undefined ? niceness(flags['agents-nice']) : DEFAULT_AGENTS_NICE
    const profileDir = ctx.quick ? undefined : flags.profile
    const goalMs = GOAL_PERIODS * reconnectPeriodMs
    const rows: BenchResult['rows'] = []
    const notes: string[] = []
    // The admin API says how the restarted aggregator's handshakes ended (read once, after the storm).
    const token = randomBytes(24).toString('hex')
    const tokenFile = join(tempDir('hb-storm-'), 'admin.token')
    writeFileSync(tokenFile, token, { mode: 0o600 })
    const adminArgs = ['--admin-token-file', tokenFile]
    for (const n of sizes) {
      ctx.log(`storm: ${n} agents ...`)
      let aggregator = await startAggregatorProcess({ args: adminArgs })
      const port = Number(aggregator.multiaddr.split('/')[4])
      let workers: SwarmWorker[]
      try {
        workers = await startSwarm(aggregator.multiaddr, n, {
          beatPeriodMs,
          reconnectPeriodMs,
          reportMs: REPORT_MS,
          perWorker,
          linkPingMs: pingMs,
          concurrentHandshakes: handshakes,
          nice,
          readyTimeoutMs: rampBudgetMs(n),
        })
      } catch (err) {
        notes.push(`${n} agents: ${(err as Error).message.slice(0, 500)}`)
        await aggregator.process.stop()
        continue
      }
      try {
        // Let the first aggregator write its roster, as a running one would have long before a crash.
        await new Promise((resolve) => setTimeout(resolve, 2 * beatPeriodMs))
        const killedAt = Date.now()
        aggregator.process.kill('SIGKILL')
        await aggregator.process.exited
        // Every agent has seen its connection drop before the clock starts (their reports lag by REPORT_MS).
        const lostBy = Date.now() + 10 * REPORT_MS + 5_000
        while (swarmStats(workers).connected > 0 && Date.now() < lostBy) await sleep(REPORT_MS)
        const before = totals(workers)
        const load0 = loadavg()[0]!
        const spawnedAt = Date.now()
        aggregator = await startAggregatorProcess({
          dataDir: aggregator.dataDir,
          port,
          args: adminArgs,
          startTimeoutMs: 60_000 + n * RESTART_BUDGET_PER_AGENT_MS,
          ...(profileDir !== undefined ? { env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } } : {}),
        })
        // The clock starts when the restarted aggregator says it started (it listens just before).
        const restartedAt = Date.now()
        const startUs = Number(process.hrtime.bigint() / 1000n)
        const pid = aggregator.process.proc.pid!
        const marks: Record<string, number> = {}
        let back = 0
        let backAtGoal: number | undefined
        let peakRss = 0
        let endedAt = restartedAt
        let cpuAtEnd = 0
        let swarmAtEnd = before
        // Counted by the agents (an agent is back once its stream is open and its first beat sent), so
        // nothing polls the aggregator's HTTP API while it takes the storm.
        while (Date.now() - restartedAt < WATCH_PERIODS * reconnectPeriodMs) {
          await sleep(REPORT_MS)
          const now = Date.now()
          back = swarmStats(workers).connected
          peakRss = Math.max(peakRss, rssMiB(pid))
          if (backAtGoal === undefined && now - restartedAt >= goalMs) backAtGoal = back
          for (const share of [0.5, 0.9, 0.99, 1]) {
            if (marks[share] === undefined && back >= Math.ceil(n * share)) marks[share] = now - restartedAt
          }
          endedAt = now
          cpuAtEnd = cpuSeconds(pid)
          swarmAtEnd = totals(workers)
          if (back >= n) break
        }
        const endUs = Number(process.hrtime.bigint() / 1000n)
        const load1 = loadavg()[0]!
        // The aggregator's own view, once it is over.
        const fleet = await fetch(`${aggregator.url}/api/v1/fleet`, { signal: AbortSignal.timeout(AGGREGATOR_VIEW_TIMEOUT_MS) })
          .then(async (res) => await res.json() as { nodes: Array<{ connected: boolean }> }).catch(() => undefined)
        const seen = fleet === undefined ? 'no answer' : fleet.nodes.filter((x) => x.connected).length
        const security = await fetch(`${aggregator.url}/api/v1/admin/security`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(AGGREGATOR_VIEW_TIMEOUT_MS) })
          .then(async (res) => await res.json() as { admission?: { handshakes?: Record<string, number> } }).catch(() => undefined)
        const aggHandshakes = security?.admission?.handshakes
        const s = (share: number): number | string => marks[share] !== undefined ? Number((marks[share]! / 1000).toFixed(1)) : 'never'
        const watchedS = (endedAt - restartedAt) / 1000
        // CPU from the restarted process's birth: its start-up is part of what the storm costs.
        const aggCpu = cpuAtEnd
        const swarmCpu = swarmAtEnd.cpuSeconds - before.cpuSeconds
        const failed = diff(swarmAtEnd.failures, before.failures)
        const attempts = Object.values(failed).reduce((a, b) => a + b, 0)
        rows.push({
          agents: n,
          'reconnect s': reconnectPeriodMs / 1000,
          'link ping s': pingMs / 1000,
          'handshakes/worker': handshakes,
          'agents nice': nice,
          'down s': Number(((restartedAt - killedAt) / 1000).toFixed(1)),
          'start-up s': Number(((restartedAt - spawnedAt) / 1000).toFixed(1)),
          '50% back s': s(0.5),
          '90% s': s(0.9),
          '99% s': s(0.99),
          'all s': s(1),
          [`back at ${goalMs / 1000} s`]: backAtGoal ?? back,
          back,
          'connected per the aggregator': seen,
          'agg CPU s': Number(aggCpu.toFixed(1)),
          'agg CPU % (storm)': Number(((aggCpu / ((endedAt - spawnedAt) / 1000)) * 100).toFixed(0)),
          'agg CPU ms/agent back': Number(((aggCpu * 1000) / Math.max(1, back)).toFixed(2)),
          'agents CPU s': Number(swarmCpu.toFixed(1)),
          'failed attempts': attempts,
          refused: failed.refused ?? 0,
          reset: failed.reset ?? 0,
          timeout: failed.timeout ?? 0,
          other: failed.other ?? 0,
          'agg handshakes completed': aggHandshakes?.completed ?? 'n/a',
          'agg abandoned': aggHandshakes?.abandoned ?? 'n/a',
          'agg refused (busy)': aggHandshakes?.refused ?? 'n/a',
          'agg peak RSS MiB': Math.round(peakRss),
          'load avg': `${load0.toFixed(1)}→${load1.toFixed(1)}`,
        })
        if (profileDir !== undefined) notes.push(`${n} agents: restarted aggregator's profile in ${profileDir}; storm window ${startUs}..${endUs} µs (bench/profile-window.ts)`)
        if (back < n) notes.push(`${n} agents: ${n - back} not back after ${watchedS.toFixed(0)} s; why (last error, by worker): ${workers.map((w) => JSON.stringify(w.last?.errors ?? {})).join(' ').slice(0, 600)}`)
      } finally {
        await stopSwarm(workers)
        await aggregator.process.stop()
      }
    }
    if (rows.length === 0) rows.push({ agents: sizes.join(','), result: 'no size completed' })
    return { name: 'storm', params: { sizes, beatPeriodMs, reconnectPeriodMs, linkPingMs: pingMs, perWorker, handshakes, agentsNice: nice }, rows, notes }
  },
}

interface Totals { cpuSeconds: number, failures: Record<string, number> }

function totals (workers: SwarmWorker[]): Totals {
  const failures: Record<string, number> = {}
  for (const w of workers) {
    for (const [cause, count] of Object.entries(w.last?.failures ?? {})) failures[cause] = (failures[cause] ?? 0) + count
  }
  return { cpuSeconds: swarmStats(workers).cpuSeconds, failures }
}

function diff (after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]))
}

function niceness (raw: string): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0 || n > 19) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `--agents-nice: "${raw}" is not a niceness from 0 to 19`)
  return n
}


async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
