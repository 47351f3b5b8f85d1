// Benchmark 4: reads at 10,000 nodes while beats are folded. Every node beats
// once per 3 s period (3,333 beats/s), folded in this process (what the
// ingest would fold; the fleet-size benchmark drives real agents), and the
// chain moves one height per 30 s. Meanwhile, from other processes (so their
// parsing and decompressing are not the aggregator's work):
// - GET /api/v1/fleet, one request every BENCH_READ_GAP_MS, timed to the last
//   byte: plain, gzip, br, conditional (If-None-Match: 304s while nothing
//   changed), filtered (?status=unhealthy,down) and paged (?limit=100);
// - the live feed to one client (?delta=1, as the page reads it; BENCH_FEED_SHAPE=batch
//   for the full-view events older pages read): changes received of those
//   folded, the delay from fold to arrival, whether the client was dropped.
import { loadavg } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { startTestAggregator } from '../test/support/in-process.ts'
import { benchHeartbeat } from './fixtures.ts'
import { Worker } from './workers/spawn.ts'
import { percentile, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'

const FLEET_READER = new URL('./workers/fleet-reader.ts', import.meta.url).pathname
const FEED_READER = new URL('./workers/feed-reader.ts', import.meta.url).pathname
const PERIOD_MS = 3_000
const SLICE_MS = 50
const BLOCK_MS = 30_000
const BASE_HEIGHT = 4_200_000

type Aggregator = Awaited<ReturnType<typeof startTestAggregator>>

const peerIdOf = (i: number): string => `12D3KooWBench${String(i).padStart(8, '0')}`

/**
 * Folds one beat per node per period, in slices (as agents spread over a
 * period would). Every 97th node reports not_ready (unhealthy), every 50th
 * lags three heights behind. `seed` beats every node once; `start` runs the
 * slices until `stop`, which says how many it folded.
 */
function beatLoop (aggregator: Aggregator, nodes: number): { seed: () => void, start: () => void, stop: () => number } {
  const startedAt = Date.now()
  const slices = PERIOD_MS / SLICE_MS
  let slice = 0
  let folded = 0
  let seq = 1
  let timer: NodeJS.Timeout | undefined
  const fold = (i: number, now: number): void => {
    const height = BASE_HEIGHT + Math.floor((now - startedAt) / BLOCK_MS) - (i % 50 === 0 ? 3 : 0)
    const sick = i % 97 === 0
    aggregator.apply({
      type: 'beat',
      peerId: peerIdOf(i),
      protocol: 'v2',
      heartbeat: benchHeartbeat(seq, startedAt - 60_000, {
        nickname: `node-${i}`, sentAt: now, period: PERIOD_MS, height, head: `{bafy2bzacea${String(height).padStart(16, '0')}}`,
        health: { status: sick ? 'not_ready' : 'ready', components: { chain_source: { status: 'ready', details: { source: 'lotus', height, latencyMs: 3 } }, sync: { status: sick ? 'not_ready' : 'ready' } } },
      }),
    })
    folded++
  }
  return {
    seed: () => { const now = Date.now(); for (let i = 0; i < nodes; i++) fold(i, now) },
    start: () => {
      folded = 0
      timer = setInterval(() => {
        const now = Date.now()
        for (let i = slice; i < nodes; i += slices) fold(i, now)
        slice = (slice + 1) % slices
        if (slice === 0) seq++
      }, SLICE_MS)
    },
    stop: () => { clearInterval(timer); timer = undefined; return folded },
  }
}

export const reads: Benchmark = {
  name: 'reads',
  description: 'at 10,000 nodes beating every 3 s: /api/v1/fleet p50/p99 (plain, gzip, br, 304, filtered, paged) and the live feed to one client',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const nodes = ctx.quick ? 500 : Number(process.env.BENCH_READ_NODES ?? 10_000)
    const requests = ctx.quick ? 10 : Number(process.env.BENCH_READ_REQUESTS ?? 200)
    const gapMs = Number(process.env.BENCH_READ_GAP_MS ?? 100)
    const feedSeconds = ctx.quick ? 3 : Number(process.env.BENCH_FEED_SECONDS ?? 30)
    const shape = process.env.BENCH_FEED_SHAPE === 'batch' ? 'batch' : 'delta'
    const aggregator = await startTestAggregator()
    const beats = beatLoop(aggregator, nodes)
    beats.seed()
    beats.start()
    try {
      // Let the first period pass: every node has beaten under load once.
      await new Promise((resolve) => setTimeout(resolve, PERIOD_MS))
      const modes = [
        { name: 'plain', path: '/api/v1/fleet' },
        { name: 'gzip', path: '/api/v1/fleet', headers: { 'accept-encoding': 'gzip' } },
        { name: 'br', path: '/api/v1/fleet', headers: { 'accept-encoding': 'br, gzip' } },
        { name: 'conditional gzip', path: '/api/v1/fleet', headers: { 'accept-encoding': 'gzip' }, conditional: true },
        { name: 'filtered ?status=unhealthy,down', path: '/api/v1/fleet?status=unhealthy,down', headers: { 'accept-encoding': 'gzip' } },
        { name: 'paged ?limit=100', path: '/api/v1/fleet?limit=100', headers: { 'accept-encoding': 'gzip' } },
        { name: 'health (application/health+json) gzip', path: '/api/v1/fleet/health', headers: { 'accept-encoding': 'gzip' } },
      ]
      // What folding alone costs this process, to tell the reads' share from it.
      const baselineSeconds = ctx.quick ? 1 : 10
      const baselineCpu = process.cpuUsage()
      const baselineStarted = performance.now()
      await new Promise((resolve) => setTimeout(resolve, baselineSeconds * 1000))
      const baseline = process.cpuUsage(baselineCpu)
      const baselinePercent = Math.round((baseline.user + baseline.system) / 10 / (performance.now() - baselineStarted))
      const reader = new Worker(FLEET_READER, { url: aggregator.url, modes, requests, gapMs })
      await reader.waitFor('READY')
      const loadBefore = loadavg()
      // How long the aggregator's event loop (this process) was held at a stretch, and its CPU, while it served the reads and folded.
      const loop = monitorEventLoopDelay({ resolution: 10 })
      const cpuBefore = process.cpuUsage()
      const readsStarted = performance.now()
      loop.enable()
      reader.send('GO')
      const { cold, modes: read } = JSON.parse((await reader.waitFor('RESULT', 30 * 60_000)).slice('RESULT '.length)) as { cold: number, modes: Array<{ name: string, times: number[], bytes: number[], statuses: number[] }> }
      loop.disable()
      const cpu = process.cpuUsage(cpuBefore)
      const cpuPercent = Math.round((cpu.user + cpu.system) / 10 / (performance.now() - readsStarted))
      const loadAfterReads = loadavg()

      // The feed: one client in another process, as a browser would be. Beats pause while it takes its snapshot, so every change after it is counted.
      const foldedBefore = beats.stop()
      const feed = new Worker(FEED_READER, { url: aggregator.url, clients: 1, shape })
      await feed.waitFor('READY')
      beats.start()
      await new Promise((resolve) => setTimeout(resolve, feedSeconds * 1000))
      const foldedInWindow = beats.stop()
      // What was folded last must still arrive: a flush and some.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      feed.proc.stdin?.end()
      const got = JSON.parse((await feed.waitFor('RESULT')).slice('RESULT '.length)) as { views: number, delays: number[], droppedByServer: number, bytes: number, gaps: number }
      const loadAfterFeed = loadavg()

      const kib = (n: number): number => Math.round(n / 1024)
      const ms = (ns: number): number => Math.round(ns / 1e6)
      const rows: Array<Record<string, string | number>> = read.map((m) => ({
        read: `GET ${m.name}`,
        'p50 ms': Math.round(percentile(m.times, 50)),
        'p99 ms': Math.round(percentile(m.times, 99)),
        'KiB (median)': kib(percentile(m.bytes, 50)),
        answers: [...new Set(m.statuses)].sort().map((s) => `${m.statuses.filter((x) => x === s).length}×${s}`).join(' '),
      }))
      rows.push({
        read: `live feed ?${shape}=1, 1 client, ${Math.round(nodes * 1000 / PERIOD_MS)} beats/s for ${feedSeconds} s`,
        'p50 ms': Math.round(percentile(got.delays, 50)),
        'p99 ms': Math.round(percentile(got.delays, 99)),
        'KiB (median)': `${kib(got.bytes / feedSeconds)}/s`,
        answers: `${got.views}/${foldedInWindow} changes, ${got.gaps} gaps, ${got.droppedByServer === 0 ? 'not dropped' : 'dropped'}`,
      })
      return {
        name: 'reads',
        params: { nodes, requests, gapMs, feedSeconds, shape, periodMs: PERIOD_MS },
        rows,
        data: { loadavg: { beforeReads: loadBefore, afterReads: loadAfterReads, afterFeed: loadAfterFeed }, foldedBefore, coldMs: Math.round(cold), times: Object.fromEntries(read.map((m) => [m.name, m.times.map((t) => Math.round(t))])), eventLoopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) }, cpuPercent, baselinePercent },
        notes: [
          `load average (1, 5, 15 min): ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before the reads, ${loadAfterReads.map((l) => l.toFixed(2)).join(' ')} after them, ${loadAfterFeed.map((l) => l.toFixed(2)).join(' ')} after the feed`,
          `the first request of all (every node's view built for it): ${Math.round(cold)} ms`,
          `the aggregator process used ${baselinePercent}% of one core folding ${Math.round(nodes * 1000 / PERIOD_MS)} beats/s alone (${baselineSeconds} s), ${cpuPercent}% while also serving the reads; its event loop was late by p50 ${ms(loop.percentile(50))} ms, p99 ${ms(loop.percentile(99))} ms, max ${ms(loop.max)} ms`,
        ],
      }
    } finally {
      beats.stop()
      await aggregator.stop()
    }
  },
}
