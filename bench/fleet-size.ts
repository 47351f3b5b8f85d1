// Benchmark 2: N lean simulated agents (own identities, own connections, real Noise and Yamux;
// bench/workers/lean-agent.ts) at one beat per period, spread over worker processes.
// Phases: ramp (every agent connected and beating), settle, then a measuring window during
// which nothing talks to the aggregator's HTTP API: its CPU from /proc/<pid>/stat, its RSS
// from /proc/<pid>/status. After the window: beats received and lost (seq gaps the aggregator
// counted), all-N-healthy, a sample of GET /api/v1/fleet latencies while it ingests, and the
// time from a beat's send to its being visible in /api/v1/nodes/:id for a few nodes.
import { loadavg } from 'node:os'
import { FLEET_DEMAND_MS, FLEET_PUBLISH_TICK_MS } from '../aggregator/constants.ts'
import { parsePositiveDuration } from '../shared/duration.ts'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import type { SwarmWorker } from '../test/support/swarm-worker.ts'
import { cpuSeconds, percentile, rssMiB, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'
import { AGENTS_PER_WORKER, fleet, linkPingMs, rampBudgetMs, startAggregatorProcess, startSwarm, stopSwarm, swarmStats } from './fleet-support.ts'

const DEFAULT_SIZES = '1000'
/** The agent's default beat period (agent/constants.ts). */
const DEFAULT_PERIOD = '3s'
const DEFAULT_WINDOW = '60s'
/** Time for the last agents' first beats to fold and every status to settle, before measuring. */
const SETTLE_PERIODS = 2
/** GET /api/v1/fleet requests after the window, one after another. */
const FLEET_GET_SAMPLES = 30
/** The agent's default reconnect period (agent/constants.ts). */
const RECONNECT_PERIOD_MS = 10_000

interface Plan {
  sizes: number[]
  periodMs: number
  windowMs: number
  perWorker: number
  handshakes: number | undefined
  linkPingMs: number
  /** Write the aggregator's CPU profile (node --cpu-prof) here; the window's bounds go in the JSON. */
  profileDir: string | undefined
  /** Extra NODE_OPTIONS for the aggregator alone (V8 flags to try), e.g. `--aggregator-node-options=--no-memory-reducer`. */
  aggregatorNodeOptions: string | undefined
}

function plan (ctx: BenchContext): Plan {
  const flags = ctx.flags ?? {}
  if (ctx.quick) return { sizes: [50], periodMs: 1000, windowMs: 4000, perWorker: AGENTS_PER_WORKER, handshakes: undefined, linkPingMs: linkPingMs(undefined), profileDir: undefined, aggregatorNodeOptions: undefined }
  const sizes = (flags.agents ?? process.env.BENCH_FLEET_SIZES ?? DEFAULT_SIZES).split(',').map((s) => {
    const n = Number(s)
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `--agents: "${s}" is not a positive whole number`)
    return n
  })
  const count = (name: string, fallback: number): number => {
    const raw = flags[name]
    if (raw === undefined) return fallback
    const n = Number(raw)
    if (!Number.isInteger(n) || n < 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `--${name}: "${raw}" is not a whole number`)
    return n
  }
  return {
    sizes,
    periodMs: parsePositiveDuration(flags.period ?? DEFAULT_PERIOD, '--period'),
    windowMs: parsePositiveDuration(flags.window ?? DEFAULT_WINDOW, '--window'),
    perWorker: count('per-worker', AGENTS_PER_WORKER),
    handshakes: flags.handshakes !== undefined ? count('handshakes', 0) : undefined,
    linkPingMs: linkPingMs(flags['link-ping']),
    profileDir: flags.profile,
    aggregatorNodeOptions: flags['aggregator-node-options'],
  }
}

const sum = (nodes: any[], key: string): number => nodes.reduce((s: number, x: any) => s + (x[key] as number), 0)


/** Polls a few nodes' views; a seq change is a beat made visible: visible time minus its sentAt. */
async function probeLatency (url: string, peerIds: string[], durationMs: number): Promise<number[]> {
  const latencies: number[] = []
  const lastSeq = new Map<string, number>()
  const end = Date.now() + durationMs
  while (Date.now() < end) {
    await Promise.all(peerIds.map(async (peerId) => {
      const res = await fetch(`${url}/api/v1/nodes/${peerId}`)
      const seenAt = Date.now()
      if (!res.ok) return
      const node = await res.json() as { seq: number, lastSeen: string, skewMs: number }
      const previous = lastSeq.get(peerId)
      if (previous !== undefined && node.seq === previous + 1) {
        const sentAt = Date.parse(node.lastSeen) - node.skewMs
        latencies.push(seenAt - sentAt)
      }
      lastSeq.set(peerId, node.seq)
    }))
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return latencies
}


/** The send-to-visible probe runs this long after the window (a few beats of each probed node). */
const PROBE_PERIODS = 3
/** Nodes whose views the probe polls. */
const PROBED_NODES = 10

async function fleetGetLatencies (url: string): Promise<number[]> {
  const latencies: number[] = []
  for (let i = 0; i < FLEET_GET_SAMPLES; i++) {
    const started = performance.now()
    const res = await fetch(`${url}/api/v1/fleet`, { signal: AbortSignal.timeout(10_000) })
    await res.arrayBuffer()
    latencies.push(performance.now() - started)
  }
  return latencies
}

/** The aggregator's JS heap (used/total) and external memory, from its /metrics (read after the window). */
async function heapFigures (url: string): Promise<string> {
  const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) }).then(async (r) => await r.text()).catch(() => '')
  const mib = (name: string): string => {
    const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]
    return value === undefined ? '?' : String(Math.round(Number(value) / 2 ** 20))
  }
  return `${mib('nodejs_heap_size_used_bytes')}/${mib('nodejs_heap_size_total_bytes')} MiB used/total, external ${mib('nodejs_external_memory_bytes')} MiB`
}

export const fleetSize: Benchmark = {
  name: 'fleet-size',
  description: 'N lean agents at one beat per period: aggregator CPU per beat, RSS per agent, beats lost, fleet GET latency',
  flags: '--agents N[,N...] --period 3s --window 60s --per-worker 2000 --handshakes 4 --link-ping 10s (a yamux PING per agent this often, as the real agent\'s link watcher sends; 0 = off) --profile DIR --aggregator-node-options=FLAGS',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const p = plan(ctx)
    const rows: BenchResult['rows'] = []
    const notes: string[] = []
    for (const n of p.sizes) {
      ctx.log(`fleet-size: ${n} agents, one beat per ${p.periodMs} ms ...`)
      const nodeOptions = [p.profileDir !== undefined ? `--cpu-prof --cpu-prof-dir=${p.profileDir}` : '', p.aggregatorNodeOptions ?? ''].join(' ').trim()
      const aggregator = await startAggregatorProcess(nodeOptions !== '' ? { env: { NODE_OPTIONS: nodeOptions } } : {})
      const pid = aggregator.process.proc.pid!
      const baseRss = rssMiB(pid)
      let workers: SwarmWorker[] | undefined
      try {
        const rampStart = Date.now()
        let rampCpu = { at: cpuSeconds(pid), t: rampStart }
        workers = await startSwarm(aggregator.multiaddr, n, {
          beatPeriodMs: p.periodMs,
          reconnectPeriodMs: RECONNECT_PERIOD_MS,
          perWorker: p.perWorker,
          ...(p.handshakes !== undefined ? { concurrentHandshakes: p.handshakes } : {}),
          linkPingMs: p.linkPingMs,
          readyTimeoutMs: rampBudgetMs(n),
          onProgress: (connected, ws) => {
            const cpu = cpuSeconds(pid)
            ctx.log(`fleet-size: ramp ${((Date.now() - rampStart) / 1000).toFixed(0)} s: ${connected}/${n} connected; aggregator CPU ${(((cpu - rampCpu.at) / ((Date.now() - rampCpu.t) / 1000)) * 100).toFixed(0)}%, RSS ${Math.round(rssMiB(pid))} MiB; swarm CPU ${swarmStats(ws).cpuSeconds.toFixed(0)} s; load ${loadavg()[0]!.toFixed(1)}`)
            rampCpu = { at: cpu, t: Date.now() }
          },
        })
        const rampMs = Date.now() - rampStart
        ctx.log(`fleet-size: ${n} agents beating after ${(rampMs / 1000).toFixed(1)} s; settling ...`)
        await new Promise((resolve) => setTimeout(resolve, SETTLE_PERIODS * p.periodMs))
        const before = await fleet(aggregator)
        const beforeAt = performance.now()
        // The GET's own cost stays out of the window, and so does what it set going: the fleet documents' publisher keeps
        // them current for FLEET_DEMAND_MS after the last read (aggregator/http/fleet-documents.ts), then stops.
        await new Promise((resolve) => setTimeout(resolve, FLEET_DEMAND_MS + 2 * FLEET_PUBLISH_TICK_MS))

        // The window: no HTTP, only /proc reads.
        const load0 = loadavg()[0]!
        const cpu0 = cpuSeconds(pid)
        const swarm0 = swarmStats(workers)
        const t0 = performance.now()
        const windowStartUs = Number(process.hrtime.bigint() / 1000n)
        let peakRss = rssMiB(pid)
        const sampler = setInterval(() => { peakRss = Math.max(peakRss, rssMiB(pid)) }, 1000)
        await new Promise((resolve) => setTimeout(resolve, p.windowMs))
        clearInterval(sampler)
        const seconds = (performance.now() - t0) / 1000
        const windowEndUs = Number(process.hrtime.bigint() / 1000n)
        const aggCpu = cpuSeconds(pid) - cpu0
        const rss = rssMiB(pid)
        const load1 = loadavg()[0]!
        const swarm1 = swarmStats(workers)

        const afterAt = performance.now()
        // The first read after a window without readers: every view the beats changed is rebuilt for it (cold).
        const after = await fleet(aggregator)
        const coldGetMs = performance.now() - afterAt
        // Beats and gaps are counted between the two GETs (a little longer than the window).
        const beats = sum(after.nodes, 'beats') - sum(before.nodes, 'beats')
        const lost = sum(after.nodes, 'seqGaps') - sum(before.nodes, 'seqGaps')
        const countedSeconds = (afterAt - beforeAt) / 1000
        const expected = Math.round((n * countedSeconds * 1000) / p.periodMs)
        const beatsInWindow = (beats / countedSeconds) * seconds
        const latencies = await fleetGetLatencies(aggregator.url)
        const heap = await heapFigures(aggregator.url)
        const { peerIds } = swarmStats(workers)
        const probes = peerIds.filter((_, i) => i % Math.max(1, Math.floor(peerIds.length / PROBED_NODES)) === 0).slice(0, PROBED_NODES)
        const visible = await probeLatency(aggregator.url, probes, Math.max(ctx.quick ? 2000 : 5000, PROBE_PERIODS * p.periodMs))
        const swarmCpu = swarm1.cpuSeconds - swarm0.cpuSeconds
        rows.push({
          agents: n,
          'period s': p.periodMs / 1000,
          'link ping s': p.linkPingMs / 1000,
          'ramp s': Number((rampMs / 1000).toFixed(1)),
          connected: after.nodes.filter((x: any) => x.connected).length,
          healthy: after.summary.byStatus.healthy,
          'agg CPU %': Number(((aggCpu / seconds) * 100).toFixed(1)),
          'agg µs/beat': Math.round((aggCpu / Math.max(1, beatsInWindow)) * 1e6),
          'agg RSS MiB': Math.round(rss),
          'RSS KiB/agent': Math.round((rss * 1024) / n),
          'RSS KiB/agent above idle': Math.round(((rss - baseRss) * 1024) / n),
          'beats received': beats,
          'beats expected': expected,
          'beats lost': lost,
          'GET fleet cold ms': Math.round(coldGetMs),
          'GET fleet p50 ms': Math.round(percentile(latencies, 50)),
          'GET fleet p99 ms': Math.round(percentile(latencies, 99)),
          'send→visible p50 ms': Math.round(percentile(visible, 50)),
          'send→visible p99 ms': Math.round(percentile(visible, 99)),
          'swarm CPU %': Number(((swarmCpu / seconds) * 100).toFixed(1)),
          'swarm µs/beat': Math.round((swarmCpu / Math.max(1, beatsInWindow)) * 1e6),
          'swarm RSS MiB': Math.round(swarm1.rssMiB),
          workers: workers.length,
          'load avg': `${load0.toFixed(2)}→${load1.toFixed(2)}`,
        })
        const dead = workers.filter((w) => !w.alive)
        if (dead.length > 0) notes.push(`${n} agents: ${dead.length} swarm worker(s) died: ${dead.map((w) => w.stderr.slice(-300)).join(' | ')}`)
        if (p.profileDir !== undefined) notes.push(`${n} agents: aggregator profile in ${p.profileDir}; window ${windowStartUs}..${windowEndUs} µs (bench/profile-window.ts)`)
        notes.push(`${n} agents: the ${FLEET_GET_SAMPLES} GETs after the cold one, in order (ms): ${latencies.map((ms) => Math.round(ms)).join(' ')}`)
        notes.push(`${n} agents: idle aggregator RSS ${Math.round(baseRss)} MiB, peak in window ${Math.round(peakRss)} MiB; after the window JS heap ${heap}; ${after.summary.total} nodes seen`)
      } catch (err) {
        notes.push(`${n} agents: ${(err as Error).message.slice(0, 500)}`)
      } finally {
        if (workers !== undefined) await stopSwarm(workers)
        await aggregator.process.stop()
      }
    }
    if (rows.length === 0) rows.push({ agents: p.sizes.join(','), result: 'no size completed' })
    return { name: 'fleet-size', params: { ...p }, rows, notes }
  },
}

