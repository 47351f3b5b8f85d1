// Benchmark 1: heartbeats per second the aggregator folds over K connections x M beats,
// beside a baseline on the same machine: the same CBOR frames over plain TCP, decoded,
// validated and folded by the same code with no libp2p (the ceiling of this runtime).
import { createServer, type AddressInfo } from 'node:net'
import { FleetState } from '../aggregator/fleet/fleet-state.ts'
import { decodeFrameBody, FrameDecoder } from '../shared/codec.ts'
import { validateHeartbeat } from '../shared/heartbeat.ts'
import { DEFAULT_MAX_FRAME_BYTES } from '../shared/protocol.ts'
import { startTestAggregator } from '../test/support/in-process.ts'
import type { BenchContext, BenchResult, Benchmark } from './harness.ts'
import { Worker } from './workers/spawn.ts'
import { at } from '../test/support/instant.ts'

const SENDER = new URL('./workers/ingest-sender.ts', import.meta.url).pathname

async function waitUntil (done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  return true
}

async function measure (mode: 'libp2p' | 'tcp', connections: number, beats: number): Promise<{ rate: number, elapsedMs: number, folded: number }> {
  const total = connections * beats
  let folded: () => number
  let target: string
  let stop: () => Promise<void>
  if (mode === 'libp2p') {
    // Raw ingest capacity: lift the per-peer beat budget, which would (rightly) treat
    // thousands of beats per second from one peer as a flood (docs/security.md).
    const aggregator = await startTestAggregator({ limits: { beatRatePerSecond: 1e9, beatBurst: 1e9 } })
    target = aggregator.multiaddrs()[0]!
    folded = () => aggregator.inspect().ingest.accepted
    stop = async () => { await aggregator.stop() }
  } else {
    const fleet = new FleetState()
    let count = 0
    let socketIndex = 0
    const server = createServer((socket) => {
      const peerId = `tcp-${socketIndex++}`
      const decoder = new FrameDecoder(DEFAULT_MAX_FRAME_BYTES)
      socket.on('data', (chunk) => {
        for (const body of decoder.push(chunk)) {
          const result = validateHeartbeat(decodeFrameBody(body))
          if (result.ok) {
            fleet.apply({ type: 'beat', peerId, heartbeat: result.heartbeat, protocol: 'v2' }, at(Date.now()))
            count++
          }
        }
      })
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    target = `127.0.0.1:${(server.address() as AddressInfo).port}`
    folded = () => count
    stop = async () => { await new Promise((resolve) => { server.close(resolve) }) }
  }
  const worker = new Worker(SENDER, { mode, target, connections, beats })
  try {
    await worker.waitFor('READY')
    const started = performance.now()
    worker.send('GO')
    const ok = await waitUntil(() => folded() >= total, 120_000)
    const elapsedMs = performance.now() - started
    if (!ok) throw new Error(`${mode}: only ${folded()} of ${total} beats folded`)
    return { rate: total / (elapsedMs / 1000), elapsedMs, folded: folded() }
  } finally {
    worker.proc.stdin?.end()
    const timer = setTimeout(() => { worker.kill() }, 5000)
    await worker.exited
    clearTimeout(timer)
    await stop()
  }
}

export const ingest: Benchmark = {
  name: 'ingest',
  description: 'heartbeats/s folded over libp2p vs the same frames over plain TCP',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const plans = ctx.quick ? [{ connections: 4, beats: 500 }] : [{ connections: 1, beats: 20_000 }, { connections: 10, beats: 5_000 }, { connections: 50, beats: 1_000 }]
    const rows: BenchResult['rows'] = []
    for (const { connections, beats } of plans) {
      ctx.log(`ingest: ${connections} x ${beats} ...`)
      const tcp = await measure('tcp', connections, beats)
      const p2p = await measure('libp2p', connections, beats)
      rows.push({
        connections,
        'beats/conn': beats,
        'libp2p beats/s': Math.round(p2p.rate),
        'plain TCP beats/s': Math.round(tcp.rate),
        'ratio libp2p/TCP': Number((p2p.rate / tcp.rate).toFixed(2)),
      })
    }
    return { name: 'ingest', params: { plans }, rows }
  },
}
