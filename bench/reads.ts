// Benchmark 4: reads at 10,000 nodes: /api/v1/fleet p50/p99, and the live feed to 50
// clients while every node beats once a second (delay from fold to event received).
import { startTestAggregator } from '../test/support/in-process.ts'
import { benchHeartbeat } from './fixtures.ts'
import { Worker } from './workers/spawn.ts'
import { percentile, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'

function seed (aggregator: Awaited<ReturnType<typeof startTestAggregator>>, nodes: number, seq: number): void {
  const now = Date.now()
  for (let i = 0; i < nodes; i++) {
    aggregator.apply({ type: 'beat', peerId: `12D3KooWBench${String(i).padStart(8, '0')}`, protocol: 'v2', heartbeat: benchHeartbeat(seq, now - 60_000, { nickname: `node-${i}`, sentAt: now }) })
  }
}

const FEED_READER = new URL('./workers/feed-reader.ts', import.meta.url).pathname

export const reads: Benchmark = {
  name: 'reads',
  description: 'at 10,000 nodes: /api/v1/fleet p50/p99 and the live feed to 50 clients',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const nodes = ctx.quick ? 500 : 10_000
    const requests = ctx.quick ? 10 : 50
    const clients = ctx.quick ? 5 : Number(process.env.BENCH_FEED_CLIENTS ?? 50)
    const feedSeconds = ctx.quick ? 2 : 10
    const aggregator = await startTestAggregator()
    try {
      seed(aggregator, nodes, 0)
      const times: number[] = []
      let bytes = 0
      for (let i = 0; i < requests; i++) {
        const t0 = performance.now()
        const body = await (await fetch(`${aggregator.url}/api/v1/fleet`)).text()
        times.push(performance.now() - t0)
        bytes = body.length
      }
      ctx.log(`reads: fleet document ${Math.round(bytes / 1024)} KiB`)

      // The clients live in another process, as browsers would: parsing is not the aggregator's work.
      const reader = new Worker(FEED_READER, { url: aggregator.url, clients })
      await reader.waitFor('READY')
      // Every node beats once a second, spread over the second in 20 slices.
      for (let s = 1; s <= feedSeconds; s++) {
        for (let slice = 0; slice < 20; slice++) {
          const now = Date.now()
          for (let i = slice; i < nodes; i += 20) {
            aggregator.apply({ type: 'beat', peerId: `12D3KooWBench${String(i).padStart(8, '0')}`, protocol: 'v2', heartbeat: benchHeartbeat(s, now - 60_000, { nickname: `node-${i}`, sentAt: now }) })
          }
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1000))
      reader.proc.stdin?.end()
      const { views: events, delays, droppedByServer } = JSON.parse((await reader.waitFor('RESULT')).slice('RESULT '.length)) as { views: number, delays: number[], droppedByServer: number }
      const expected = nodes * feedSeconds * clients
      return {
        name: 'reads',
        params: { nodes, requests, clients, feedSeconds },
        rows: [
          { read: `GET /api/v1/fleet (${nodes} nodes, ${Math.round(bytes / 1024)} KiB)`, 'p50 ms': Math.round(percentile(times, 50)), 'p99 ms': Math.round(percentile(times, 99)), delivered: `${requests}/${requests}` },
          { read: `live feed (?batch=1), ${clients} clients, ${nodes} beats/s`, 'p50 ms': Math.round(percentile(delays, 50)), 'p99 ms': Math.round(percentile(delays, 99)), delivered: `${events}/${expected} views, ${droppedByServer} clients dropped` },
        ],
      }
    } finally {
      await aggregator.stop()
    }
  },
}
