// Benchmark 4: reads at 10,000 nodes: /api/v1/fleet p50/p99, and the live feed to 50
// clients while every node beats once a second (delay from fold to event received).
import { startTestAggregator } from '../test/support/in-process.ts'
import { benchHeartbeat } from './fixtures.ts'
import { percentile, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'

function seed (aggregator: Awaited<ReturnType<typeof startTestAggregator>>, nodes: number, seq: number): void {
  const now = Date.now()
  for (let i = 0; i < nodes; i++) {
    aggregator.apply({ type: 'beat', peerId: `12D3KooWBench${String(i).padStart(8, '0')}`, protocol: 'v2', heartbeat: benchHeartbeat(seq, now - 60_000, { nickname: `node-${i}`, sentAt: now }) })
  }
}

/** Reads an SSE stream, calling onEvent(name, data) per event, until aborted. */
async function followFeed (url: string, signal: AbortSignal, onEvent: (name: string, data: string) => void): Promise<void> {
  const res = await fetch(url, { signal })
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += value
      let cut: number
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut)
        buffer = buffer.slice(cut + 2)
        const name = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (name !== undefined && data !== undefined) onEvent(name, data)
      }
    }
  } catch { /* aborted */ }
}

export const reads: Benchmark = {
  name: 'reads',
  description: 'at 10,000 nodes: /api/v1/fleet p50/p99 and the live feed to 50 clients',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const nodes = ctx.quick ? 500 : 10_000
    const requests = ctx.quick ? 10 : 50
    const clients = ctx.quick ? 5 : 50
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

      const controller = new AbortController()
      const delays: number[] = []
      let events = 0
      const feeds = Array.from({ length: clients }, async () => await followFeed(`${aggregator.url}/api/v1/events`, controller.signal, (name, data) => {
        if (name !== 'node') return
        events++
        // lastSeen is the fold time on this same clock.
        const lastSeen = /"lastSeen":"([^"]+)"/.exec(data)?.[1]
        if (lastSeen !== undefined) delays.push(Date.now() - Date.parse(lastSeen))
      }))
      await new Promise((resolve) => setTimeout(resolve, 500))
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
      controller.abort()
      await Promise.all(feeds)
      const expected = nodes * feedSeconds * clients
      return {
        name: 'reads',
        params: { nodes, requests, clients, feedSeconds },
        rows: [
          { read: `GET /api/v1/fleet (${nodes} nodes, ${Math.round(bytes / 1024)} KiB)`, 'p50 ms': Math.round(percentile(times, 50)), 'p99 ms': Math.round(percentile(times, 99)), delivered: `${requests}/${requests}` },
          { read: `live feed, ${clients} clients, ${nodes} beats/s`, 'p50 ms': Math.round(percentile(delays, 50)), 'p99 ms': Math.round(percentile(delays, 99)), delivered: `${events}/${expected}` },
        ],
      }
    } finally {
      await aggregator.stop()
    }
  },
}
