// Benchmark 5: what an agent costs beside a node, the way it is installed: from
// the sources (a clone), from the build (dist/, what `npm install -g` runs), the
// same with its probe server (--health-listen, as a Kubernetes sidecar), and as
// the single executable. For each: time from start to the first beat the
// aggregator sees, resident memory at the end of the window (60 s at a 3 s
// period) and at its peak, and CPU. Plus bytes per heartbeat on the wire
// against go-filecoin's JSON for the same content.
import { join } from 'node:path'
import { encode as encodeCbor } from 'cbor-x'
import * as varint from 'uint8-varint'
import { encodeFrame } from '../shared/codec.ts'
import { builtBinaries, packedPackage } from '../test/support/builds.ts'
import { AGENT_BIN, fetchJson, Spawned, startAggregatorProcess, tempDir } from '../test/support/processes.ts'
import { benchHeartbeat } from './fixtures.ts'
import { cpuSeconds, rssMiB, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'

/** The budget for an installed agent (dist/ or the single executable) after 60 s at the 3 s period. */
export const AGENT_RSS_BUDGET_MIB = 90
/** And its first beat: within this of the start. */
export const FIRST_BEAT_BUDGET_MS = 1_000
const SAMPLE_EVERY_MS = 500

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

interface AgentVariant {
  name: string
  /** A program run by this benchmark's Node.js (24), or an executable of its own. */
  program: string
  direct: boolean
  args: string[]
  /** Held to the budgets (the installed forms). */
  budgeted: boolean
}

interface VariantCost {
  variant: string
  firstBeatMs: number
  /** CPU the agent used up to its first beat: the start-up cost without the machine's load in it. */
  firstBeatCpuMs: number
  rssEndMiB: number
  rssPeakMiB: number
  cpuPct: number
}

async function measure (variant: AgentVariant, aggregator: { multiaddr: string, url: string }, windowMs: number): Promise<VariantCost> {
  const nickname = `bench-${variant.name.replace(/\W+/g, '-')}`
  const args = ['--target', aggregator.multiaddr, '--key-file', join(tempDir('hb-bench-agent-'), 'agent.key'), '--nickname', nickname, '--beat-period', '3s', ...variant.args]
  const started = Date.now()
  const agent = new Spawned(variant.program, args, { FIL_HEARTBEAT_ALERTS: '' }, { direct: variant.direct })
  try {
    for (;;) {
      const fleet = await fetchJson<{ nodes: Array<{ nickname: string }> }>(`${aggregator.url}/api/v1/fleet`)
      if (fleet.nodes.some((n) => n.nickname === nickname)) break
      if (agent.proc.exitCode !== null) throw new Error(`${variant.name}: the agent exited (${agent.proc.exitCode}): ${agent.stderr.slice(-1000)}`)
      if (Date.now() - started > 30_000) throw new Error(`${variant.name}: no beat within 30 s: ${agent.stderr.slice(-1000)}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const firstBeatMs = Date.now() - started
    const pid = agent.proc.pid!
    const cpu0 = cpuSeconds(pid)
    const firstBeatCpuMs = Math.round(cpu0 * 1000)
    const t0 = Date.now()
    let peak = 0
    let last = 0
    while (Date.now() - t0 < windowMs) {
      last = rssMiB(pid)
      peak = Math.max(peak, last)
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS))
    }
    last = rssMiB(pid)
    const cpuPct = ((cpuSeconds(pid) - cpu0) / ((Date.now() - t0) / 1000)) * 100
    return { variant: variant.name, firstBeatMs, firstBeatCpuMs, rssEndMiB: Math.round(last), rssPeakMiB: Math.round(Math.max(peak, last)), cpuPct: Number(cpuPct.toFixed(2)) }
  } finally {
    await agent.stop()
  }
}

export const agentCost: Benchmark = {
  name: 'agent',
  description: 'agent start, RSS and CPU at a 3 s period (sources, dist, dist + probes, single executable); bytes per heartbeat vs go-filecoin JSON',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const windowMs = ctx.quick ? 6_000 : 60_000
    // Built before any window opens (and shared with the installation tests).
    ctx.log('agent: building the package and the single executables (reused when current)')
    const [packed, binaries] = await Promise.all([packedPackage(), builtBinaries()])
    const variants: AgentVariant[] = [
      { name: 'sources (clone)', program: AGENT_BIN, direct: false, args: [], budgeted: false },
      { name: 'dist (npm install -g)', program: join(packed.stage, 'dist', 'agent', 'main.js'), direct: false, args: [], budgeted: true },
      { name: 'dist + --health-listen', program: join(packed.stage, 'dist', 'agent', 'main.js'), direct: false, args: ['--health-listen', '127.0.0.1:0'], budgeted: false },
      { name: 'single executable', program: join(binaries, 'heartbeat-agent'), direct: true, args: [], budgeted: true },
    ]
    const aggregator = await startAggregatorProcess()
    const costs: VariantCost[] = []
    try {
      for (const variant of variants) {
        ctx.log(`agent: ${variant.name}, ${windowMs / 1000} s window`)
        costs.push(await measure(variant, aggregator, windowMs))
      }
    } finally {
      await aggregator.process.stop()
    }
    const rows: BenchResult['rows'] = [
      ...costs.map((c) => ({
        measure: c.variant,
        'first beat (ms)': c.firstBeatMs,
        'CPU to first beat (ms)': c.firstBeatCpuMs,
        [`RSS after ${windowMs / 1000} s (MiB)`]: c.rssEndMiB,
        'RSS peak (MiB)': c.rssPeakMiB,
        'CPU (% of a core)': c.cpuPct,
      })),
      ...wireSizes().map((r) => ({ measure: `${r.message} (bytes)`, value: r.bytes! })),
    ]
    const overBudget = costs.filter((c) => variants.find((v) => v.name === c.variant)?.budgeted === true && (c.rssEndMiB > AGENT_RSS_BUDGET_MIB || c.firstBeatMs > FIRST_BEAT_BUDGET_MS))
    const notes = [
      `budget for the installed agent (dist/, single executable): <= ${AGENT_RSS_BUDGET_MIB} MiB RSS after 60 s, first beat within ${FIRST_BEAT_BUDGET_MS} ms` +
        (overBudget.length === 0 ? ': met' : `: NOT met by ${overBudget.map((c) => c.variant).join(', ')}`),
    ]
    return { name: 'agent', params: { windowMs, beatPeriod: '3s' }, rows, notes, data: { costs, wire: wireSizes() } }
  },
}
