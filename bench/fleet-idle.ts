// The fleet's idle cost: what a quiet fleet costs the aggregator's core (the
// fold, the status ticker and, optionally, alert evaluation on its tick) per
// node per second, in one process on the real event loop and the system
// clock. Most nodes are connected and healthy but silent during the window
// (a long announced period), a few are down or stale (whose reasons used to
// change text on every tick), a few beat every second. The goal (issue 16):
// <= 10 µs of CPU per quiet node per second.
import { Alerting } from '../aggregator/alerts/alerting.ts'
import { builtInRules } from '../aggregator/alerts/rules.ts'
import { FleetState } from '../aggregator/fleet/fleet-state.ts'
import { fleetTicker } from '../aggregator/fleet/ticker.ts'
import { fleetViews } from '../aggregator/fleet/view.ts'
import { instantOf, systemClock } from '../shared/clock.ts'
import { createLogger } from '../shared/log.ts'
import { benchHeartbeat } from './fixtures.ts'
import type { BenchContext, BenchResult, Benchmark } from './harness.ts'

/** The quiet nodes' announced period: nobody is due within the window. */
const QUIET_PERIOD_MS = 30_000
const BEATING_PERIOD_MS = 1_000
/** Shares of the fleet that are down, stale, and beating during the window. */
const DOWN_SHARE = 0.01
const STALE_SHARE = 0.01
const BEATING_SHARE = 0.01
const WARM_BEATS = 8

interface Run { nodes: number, windowMs: number, alerting: boolean }

async function measure (run: Run): Promise<Record<string, string | number>> {
  const clock = systemClock
  const logger = createLogger({ name: 'bench', level: 'silent' })
  const fleet = new FleetState()
  let changed = 0
  let statusChanges = 0
  fleet.subscribe({ onNodeChanged: () => { changed++ }, onStatusChanged: () => { statusChanges++ } })

  // The fleet as it would be after running a while: beats in the past, on the monotonic clock.
  const now = instantOf(clock)
  const past = (ms: number): { mono: number, wall: number } => ({ mono: now.mono - ms, wall: now.wall - ms })
  const down = Math.round(run.nodes * DOWN_SHARE)
  const stale = Math.round(run.nodes * STALE_SHARE)
  const beating = Math.round(run.nodes * BEATING_SHARE)
  const beaters: string[] = []
  for (let i = 0; i < run.nodes; i++) {
    const peerId = `node-${i}`
    const kind = i < down ? 'down' : i < down + stale ? 'stale' : i < down + stale + beating ? 'beating' : 'quiet'
    const period = kind === 'beating' ? BEATING_PERIOD_MS : QUIET_PERIOD_MS
    // Quiet and beating nodes last beat within half a period; stale ones 5 minutes ago.
    const lastBeatAgo = kind === 'stale' ? 5 * 60_000 : kind === 'down' ? 45_000 : (i % 100) / 100 * period / 2
    for (let b = 0; b < WARM_BEATS; b++) {
      const ago = lastBeatAgo + (WARM_BEATS - 1 - b) * period
      fleet.apply({ type: 'beat', peerId, protocol: 'v2', heartbeat: benchHeartbeat(b, now.wall - 3_600_000, { period, nickname: peerId, height: 1_000 }) }, past(ago))
    }
    if (kind === 'down') fleet.apply({ type: 'disconnected', peerId }, past(lastBeatAgo - 1_000))
    if (kind === 'beating') beaters.push(peerId)
  }

  const ticker = fleetTicker({ fleet, clock, logger })
  ticker.start()
  let evaluations = 0
  let unsubscribe = (): void => {}
  if (run.alerting) {
    const alerting = new Alerting({
      config: { rules: builtInRules(), receivers: [] },
      snapshot: () => { evaluations++; return fleetViews(fleet, instantOf(clock)) },
      revision: () => fleet.revision,
      announcedMaintenance: () => undefined,
      source: { peerId: () => 'bench', publicUrl: () => 'http://127.0.0.1' },
      logger,
      clock,
    })
    unsubscribe = fleet.subscribe({ onTick: (at) => { alerting.onTick(at) } })
  }
  const seq = new Map<string, number>(beaters.map((p) => [p, WARM_BEATS]))
  const beat = setInterval(() => {
    const at = instantOf(clock)
    for (const peerId of beaters) {
      const n = seq.get(peerId) ?? 0
      seq.set(peerId, n + 1)
      fleet.apply({ type: 'beat', peerId, protocol: 'v2', heartbeat: benchHeartbeat(n, now.wall - 3_600_000, { period: BEATING_PERIOD_MS, nickname: peerId, height: 1_000 }) }, at)
    }
  }, BEATING_PERIOD_MS)

  // Settle (the first ticks derive what the warm-up left), then the window: nothing is set up during it.
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  changed = 0
  statusChanges = 0
  evaluations = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, run.windowMs))
  const cpu = process.cpuUsage(cpu0)
  const seconds = (performance.now() - t0) / 1000
  clearInterval(beat)
  unsubscribe()
  ticker.stop()

  const cpuUs = cpu.user + cpu.system
  return {
    run: run.alerting ? 'fleet + ticker + alerting' : 'fleet + ticker',
    nodes: run.nodes,
    'window s': Math.round(seconds * 10) / 10,
    'CPU % of a core': Math.round(cpuUs / 1e4 / seconds * 100) / 100,
    'µs per node per s': Math.round(cpuUs / run.nodes / seconds * 100) / 100,
    'node changes/s': Math.round(changed / seconds),
    'status changes/s': Math.round(statusChanges / seconds * 10) / 10,
    'evaluations/s': Math.round(evaluations / seconds * 10) / 10,
  }
}

export const fleetIdle: Benchmark = {
  name: 'fleet-idle',
  description: 'CPU per quiet node per second of the fold + status ticker (+ alert evaluation), 10,000 nodes in-process',
  async run (ctx: BenchContext): Promise<BenchResult> {
    const sizes = ctx.quick ? [1_000] : [1_000, 10_000]
    const windowMs = ctx.quick ? 1_000 : 10_000
    const rows: Array<Record<string, string | number>> = []
    for (const nodes of sizes) {
      for (const alerting of [false, true]) {
        ctx.log(`fleet-idle: ${nodes} nodes${alerting ? ' with alerting' : ''}, ${windowMs / 1000} s window`)
        rows.push(await measure({ nodes, windowMs, alerting }))
      }
    }
    return {
      name: 'fleet-idle',
      params: { sizes, windowMs, quietPeriodMs: QUIET_PERIOD_MS, beatingPeriodMs: BEATING_PERIOD_MS, downShare: DOWN_SHARE, staleShare: STALE_SHARE, beatingShare: BEATING_SHARE },
      rows,
      notes: [
        'CPU from process.cpuUsage() over the window (user + system), the whole process: ticker, beats of the beating share, GC.',
        `Nodes: ${DOWN_SHARE * 100}% down, ${STALE_SHARE * 100}% stale, ${BEATING_SHARE * 100}% beating every ${BEATING_PERIOD_MS / 1000} s, the rest connected, healthy and silent (period ${QUIET_PERIOD_MS / 1000} s).`,
        'Goal (issue 16): <= 10 µs per quiet node per second.',
      ],
    }
  },
}
