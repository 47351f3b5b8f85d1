import { seededRandom } from '../test/support/random.ts'
// Benchmark 3: how fast the aggregator notices. kill -9 of an agent -> status change and
// -> down; SIGSTOP -> stale (connection still open); false stales under jittered beats,
// over a long simulated run through the same fleet state code with a virtual clock.
import { FleetState } from '../aggregator/fleet/fleet-state.ts'
import { benchHeartbeat } from './fixtures.ts'
import { percentile, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'
import { startAggregatorProcess, startAgentProcess, fetchJson } from '../test/support/processes.ts'
import { at } from '../test/support/instant.ts'

async function timeUntil (url: string, accept: (status: string) => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now()
  while (Date.now() - start < timeoutMs) {
    const node = await fetchJson(url)
    if (accept(node.status)) return Date.now() - start
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return NaN
}


/** Jittered beats for `nodes` nodes over `beats` periods of virtual time; counts stale verdicts. */
export function falseStales (nodes: number, beats: number, periodMs: number, jitter: number, seed = 1): { stales: number, checks: number } {
  const random = seededRandom(seed)
  const fleet = new FleetState()
  let stales = 0
  fleet.subscribe({ onStatusChanged: (c) => { if (c.to === 'stale') stales++ } })
  const next = Array.from({ length: nodes }, () => random() * periodMs)
  const seq = new Array<number>(nodes).fill(0)
  const tickMs = 250
  const end = beats * periodMs
  let checks = 0
  for (let now = 0; now <= end; now += tickMs) {
    for (let i = 0; i < nodes; i++) {
      while (next[i]! <= now) {
        fleet.apply({ type: 'beat', peerId: `n${i}`, protocol: 'v2', heartbeat: benchHeartbeat(seq[i]!++, 0, { period: periodMs, sentAt: Math.floor(next[i]!) }) }, at(next[i]!))
        next[i]! += periodMs * (1 + (random() * 2 - 1) * jitter)
      }
    }
    fleet.tick(at(now))
    checks += nodes
  }
  return { stales, checks }
}

export const detection: Benchmark = {
  name: 'detection',
  description: 'kill -9 -> non-healthy and down; SIGSTOP -> stale; false stales under 25% jitter',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const rounds = ctx.quick ? 1 : 5
    const periodMs = 1000
    const kill: number[] = []
    const down: number[] = []
    const stop: number[] = []
    const aggregator = await startAggregatorProcess()
    try {
      for (let r = 0; r < rounds; r++) {
        ctx.log(`detection: round ${r + 1}/${rounds}`)
        const victim = startAgentProcess(aggregator.multiaddr, ['--nickname', `victim-${r}`, '--beat-period', `${periodMs}ms`])
        const frozen = startAgentProcess(aggregator.multiaddr, ['--nickname', `frozen-${r}`, '--beat-period', `${periodMs}ms`])
        const idOf = async (nick: string): Promise<string> => {
          for (;;) {
            const node = (await fetchJson(`${aggregator.url}/api/v1/fleet`)).nodes.find((n: any) => n.nickname === nick && n.status === 'healthy')
            if (node !== undefined) return node.peerId
            await new Promise((resolve) => setTimeout(resolve, 50))
          }
        }
        const victimUrl = `${aggregator.url}/api/v1/nodes/${await idOf(`victim-${r}`)}`
        const frozenUrl = `${aggregator.url}/api/v1/nodes/${await idOf(`frozen-${r}`)}`
        victim.kill('SIGKILL')
        const t0 = Date.now()
        kill.push(await timeUntil(victimUrl, (s) => s !== 'healthy', 10_000))
        const sawDown = !Number.isNaN(await timeUntil(victimUrl, (s) => s === 'down', 10_000))
        down.push(sawDown ? Date.now() - t0 : NaN)
        frozen.proc.kill('SIGSTOP')
        stop.push(await timeUntil(frozenUrl, (s) => s === 'stale', 15_000))
        frozen.proc.kill('SIGCONT')
        await frozen.stop()
      }
    } finally {
      await aggregator.process.stop()
    }
    const sim = ctx.quick ? falseStales(100, 200, periodMs, 0.25) : falseStales(1000, 3600, periodMs, 0.25)
    return {
      name: 'detection',
      params: { rounds, periodMs },
      rows: [
        { event: 'kill -9 -> not healthy', 'p50 ms': Math.round(percentile(kill, 50)), 'max ms': Math.round(Math.max(...kill)), periods: Number((percentile(kill, 50) / periodMs).toFixed(2)) },
        { event: 'kill -9 -> down', 'p50 ms': Math.round(percentile(down, 50)), 'max ms': Math.round(Math.max(...down)), periods: Number((percentile(down, 50) / periodMs).toFixed(2)) },
        { event: 'SIGSTOP -> stale', 'p50 ms': Math.round(percentile(stop, 50)), 'max ms': Math.round(Math.max(...stop)), periods: Number((percentile(stop, 50) / periodMs).toFixed(2)) },
      ],
      data: { falseStales: sim },
      notes: [`false stales under 25% jitter: ${sim.stales} in ${sim.checks} node-checks (${ctx.quick ? '100 nodes x 200 periods' : '1000 nodes x 3600 periods'}, virtual clock)`],
    }
  },
}
