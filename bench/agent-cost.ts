// Benchmark 5: what an agent costs beside a node: RSS and CPU at a 3 s period, and bytes
// per heartbeat on the wire against go-filecoin's JSON for the same content.
import { encode as encodeCbor } from 'cbor-x'
import * as varint from 'uint8-varint'
import { encodeFrame } from '../shared/codec.ts'
import { startAggregatorProcess, startAgentProcess, fetchJson } from '../test/support/processes.ts'
import { benchHeartbeat } from './fixtures.ts'
import { cpuSeconds, rssMiB, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'

/** go-filecoin's Heartbeat as its json.Encoder wrote it: one object and a newline. */
export function goFilecoinJson (hb: { head: string, height: number, nickname: string, minerAddress: string }): string {
  return `${JSON.stringify({ Head: hb.head, Height: hb.height, Nickname: hb.nickname, MinerAddress: hb.minerAddress })}\n`
}

export function wireSizes (): Array<Record<string, string | number>> {
  const hb = benchHeartbeat(1, Date.now())
  const legacy = Buffer.byteLength(goFilecoinJson(hb))
  const sameContent = encodeCbor({ head: hb.head, height: hb.height, nickname: hb.nickname, minerAddress: hb.minerAddress })
  const sameContentFramed = varint.encodingLength(sameContent.length) + sameContent.length
  const full = encodeFrame(hb).length
  return [
    { message: "go-filecoin JSON (Head, Height, Nickname, MinerAddress)", bytes: legacy, 'vs go-filecoin': 1 },
    { message: 'CBOR frame, the same four fields', bytes: sameContentFramed, 'vs go-filecoin': Number((sameContentFramed / legacy).toFixed(2)) },
    { message: 'CBOR frame, full v2 heartbeat (+ network, seq, period, health, agent)', bytes: full, 'vs go-filecoin': Number((full / legacy).toFixed(2)) },
  ]
}

export const agentCost: Benchmark = {
  name: 'agent',
  description: 'agent RSS and CPU at a 3 s period; bytes per heartbeat vs go-filecoin JSON',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const windowMs = ctx.quick ? 6_000 : 60_000
    const aggregator = await startAggregatorProcess()
    const agent = startAgentProcess(aggregator.multiaddr, ['--nickname', 'bench-agent', '--beat-period', '3s'])
    try {
      for (;;) {
        const fleet = await fetchJson(`${aggregator.url}/api/v1/fleet`)
        if (fleet.nodes.length > 0) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const pid = agent.proc.pid!
      const cpu0 = cpuSeconds(pid)
      const t0 = Date.now()
      let peak = 0
      while (Date.now() - t0 < windowMs) {
        peak = Math.max(peak, rssMiB(pid))
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      const cpuPct = ((cpuSeconds(pid) - cpu0) / ((Date.now() - t0) / 1000)) * 100
      const rows: BenchResult['rows'] = [
        { measure: 'agent RSS (MiB, peak)', value: Math.round(peak) },
        { measure: `agent CPU (% of one core, over ${windowMs / 1000} s)`, value: Number(cpuPct.toFixed(2)) },
        ...wireSizes().map((r) => ({ measure: `${r.message} (bytes)`, value: r.bytes! })),
      ]
      return { name: 'agent', params: { windowMs, beatPeriod: '3s' }, rows, data: { wire: wireSizes() } }
    } finally {
      await agent.stop()
      await aggregator.process.stop()
    }
  },
}
