// Benchmark 2: N simulated agents (own identities, spread over worker processes) at one
// beat per second: the aggregator's CPU, RSS and RSS per agent; beats lost (seq gaps);
// p50/p99 from send to visible in the API.
import { cpuSeconds, percentile, rssMiB, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'
import { fleet, startAggregatorProcess, startSwarm, stopSwarm, swarmStats } from './fleet-support.ts'

const BEAT_PERIOD_MS = 1000

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

export const fleetSize: Benchmark = {
  name: 'fleet-size',
  description: 'N agents at 1 beat/s: aggregator CPU, RSS, beats lost, send-to-visible latency',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const sizes = ctx.quick ? [50] : (process.env.BENCH_FLEET_SIZES ?? '1000,5000,10000').split(',').map(Number)
    const windowMs = ctx.quick ? 4000 : 30_000
    const rows: BenchResult['rows'] = []
    const notes: string[] = []
    for (const n of sizes) {
      ctx.log(`fleet-size: ${n} agents ...`)
      const aggregator = await startAggregatorProcess()
      const pid = aggregator.process.proc.pid!
      const connectStart = Date.now()
      let workers
      try {
        workers = await startSwarm(aggregator.multiaddr, n, { beatPeriodMs: BEAT_PERIOD_MS, reconnectPeriodMs: 5000 })
      } catch (err) {
        notes.push(`${n} agents: could not start the swarm (${(err as Error).message})`)
        await aggregator.process.stop()
        continue
      }
      const connectedMs = Date.now() - connectStart
      const { peerIds } = swarmStats(workers)
      const probes = peerIds.filter((_, i) => i % Math.max(1, Math.floor(peerIds.length / 10)) === 0).slice(0, 10)
      const before = (await fleet(aggregator)).nodes.reduce((s: number, x: any) => s + x.seqGaps, 0)
      const cpu0 = cpuSeconds(pid)
      const t0 = Date.now()
      const latencies = await probeLatency(aggregator.url, probes, windowMs)
      const cpuPct = ((cpuSeconds(pid) - cpu0) / ((Date.now() - t0) / 1000)) * 100
      const rss = rssMiB(pid)
      const after = await fleet(aggregator)
      const lost = after.nodes.reduce((s: number, x: any) => s + x.seqGaps, 0) - before
      const received = after.nodes.reduce((s: number, x: any) => s + x.beats, 0)
      const { rssMiB: swarmRss } = swarmStats(workers)
      rows.push({
        agents: n,
        'connect all (s)': Number((connectedMs / 1000).toFixed(1)),
        'nodes seen': after.summary.total,
        healthy: after.summary.byStatus.healthy,
        'agg CPU %': Math.round(cpuPct),
        'agg RSS MiB': Math.round(rss),
        'RSS KiB/agent': Math.round((rss * 1024) / n),
        'beats lost': lost,
        'p50 ms': Math.round(percentile(latencies, 50)),
        'p99 ms': Math.round(percentile(latencies, 99)),
        samples: latencies.length,
        'swarm RSS MiB': Math.round(swarmRss),
      })
      notes.push(`${n} agents: ${received} beats received in total`)
      await stopSwarm(workers)
      await aggregator.process.stop()
    }
    return { name: 'fleet-size', params: { sizes, windowMs, beatPeriodMs: BEAT_PERIOD_MS }, rows, notes }
  },
}
