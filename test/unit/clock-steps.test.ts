import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Alerting } from '../../aggregator/alerts/alerting.ts'
import { builtInRules } from '../../aggregator/alerts/rules.ts'
import { FleetState, type StatusChange } from '../../aggregator/fleet/fleet-state.ts'
import { fleetTicker } from '../../aggregator/fleet/ticker.ts'
import { fleetViews } from '../../aggregator/fleet/view.ts'
import { BeatBudget } from '../../aggregator/ingest/beat-budget.ts'
import { PeerAdmission } from '../../aggregator/ingest/peer-admission.ts'
import { instantOf } from '../../shared/clock.ts'
import { createLogger } from '../../shared/log.ts'
import { sampleHeartbeat } from '../support/fixtures.ts'
import { ManualClock } from '../support/manual-clock.ts'

const TEN_MINUTES = 10 * 60_000
const NODES = 10

function capturingLogger (): { lines: Array<Record<string, unknown>>, logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = []
  return { lines, logger: createLogger({ name: 'steps', destination: { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>) } } }) }
}

/**
 * The aggregator's judging core on a ManualClock: ten nodes beating through
 * the beat budget into the fleet, the fleet ticker (statuses, the wall-step
 * warning) and alerting on its tick with every built-in rule at `for: 0`, so
 * any condition at all would fire at once.
 */
function rig (periodMs: number) {
  const clock = new ManualClock()
  const { lines, logger } = capturingLogger()
  const fleet = new FleetState()
  const admission = new PeerAdmission({ logger, clock })
  const budget = new BeatBudget({ admission, clock })
  const alerting = new Alerting({
    config: { rules: builtInRules(0), receivers: [] },
    snapshot: () => fleetViews(fleet, instantOf(clock)),
    announcedMaintenance: () => undefined,
    source: { peerId: () => 'aggregator', publicUrl: () => 'http://127.0.0.1' },
    logger,
    clock,
  })
  const notifications: string[] = []
  alerting.subscribe(() => { for (const a of alerting.engine.active()) notifications.push(`${a.state} ${a.name}`) })
  fleet.subscribe({ onTick: (now) => { alerting.onTick(now) } })
  const ticker = fleetTicker({ fleet, clock, logger })
  ticker.start()
  const changes: StatusChange[] = []
  fleet.subscribe({ onStatusChanged: (c) => { changes.push(c) } })
  const refused: string[] = []
  const seq = new Array<number>(NODES).fill(0)
  for (let i = 0; i < NODES; i++) {
    const peerId = `node-${i}`
    // Staggered, as real agents are.
    clock.timeout(i * periodMs / NODES, () => {
      const beat = (): void => {
        const verdict = budget.spend(peerId, { known: fleet.get(peerId) !== undefined, size: fleet.size })
        if (verdict.action !== 'accept') { refused.push(`${peerId} ${verdict.reason}`); return }
        fleet.apply({ type: 'beat', peerId, protocol: 'v2', heartbeat: sampleHeartbeat({ seq: seq[i]!++, period: periodMs, nickname: peerId, sentAt: clock.wall() }) }, instantOf(clock))
      }
      beat()
      clock.every(periodMs, beat)
    })
  }
  return { clock, fleet, lines, changes, refused, notifications, admission, alerting }
}

for (const periodMs of [1_000, 200]) {
  for (const step of [TEN_MINUTES, -TEN_MINUTES]) {
    describe(`a wall clock step of ${step > 0 ? '+' : '-'}10 min at ${periodMs} ms beats`, () => {
      it('changes no status, fires no alert, refuses no peer, keeps every stamp in order, and is said once', () => {
        const r = rig(periodMs)
        r.clock.advance(30_000)
        assert.equal(r.fleet.size, NODES)
        const healthyBefore = [...r.fleet.nodes()].filter((n) => r.fleet.verdict(n.peerId)?.status === 'healthy').length
        assert.equal(healthyBefore, NODES)
        const changesBefore = r.changes.length
        const lastSeenBefore = new Map([...r.fleet.nodes()].map((n) => [n.peerId, n.lastSeen]))

        r.clock.stepWall(step)
        r.clock.advance(90_000)

        assert.deepEqual(r.changes.slice(changesBefore).map((c) => `${c.peerId} ${c.from} -> ${c.to}: ${c.reason}`), [], 'no status changed')
        for (const node of r.fleet.nodes()) {
          assert.equal(r.fleet.verdict(node.peerId)?.status, 'healthy')
          assert.ok(node.lastSeen >= (lastSeenBefore.get(node.peerId) ?? 0), 'a stamp never goes before the previous one')
        }
        assert.deepEqual(r.refused, [], 'no beat dropped or refused')
        assert.equal(r.admission.penalties.size, 0, 'nobody in the penalty box')
        assert.deepEqual(r.alerting.engine.active(), [], 'no alert pending or firing')
        assert.deepEqual(r.notifications, [])
        const warnings = r.lines.filter((l) => l.level === 'warn' && String(l.msg).startsWith('the wall clock stepped'))
        assert.equal(warnings.length, 1, 'said once')
        assert.match(String(warnings[0]?.msg), step > 0 ? /stepped forward by 10m0s/ : /stepped back by 10m0s/)
        assert.ok(Math.abs((warnings[0]?.stepMs as number) - step) < 1_000, `its size: ${String(warnings[0]?.stepMs)}`)
        // What the views show is the new wall time (a step forward) or held at the last stamp (a step back).
        const view = fleetViews(r.fleet, instantOf(r.clock)).nodes[0]
        assert.ok(view !== undefined && view.headUnchangedForMs <= 121_000, `head age measured on the monotonic clock: ${view?.headUnchangedForMs}`)
      })
    })
  }
}

describe('penalties under wall clock steps', () => {
  for (const step of [TEN_MINUTES, -TEN_MINUTES]) {
    it(`a flood penalty lasts its length through a ${step > 0 ? 'forward' : 'backward'} step`, () => {
      const { logger } = capturingLogger()
      const clock = new ManualClock()
      const admission = new PeerAdmission({ logger, clock, limits: { floodPenaltyMs: 60_000 } })
      admission.penalize('flooder')
      clock.stepWall(step)
      clock.advance(59_000)
      assert.equal(admission.check('flooder'), 'penalized', 'still serving its penalty')
      clock.advance(1_000)
      assert.equal(admission.check('flooder'), undefined, 'free on time')
    })
  }
})

describe('reconnects are not failures', () => {
  const PEER = 'agent-1'
  const beat = (seq: number, startedAt = 1_000) => ({ type: 'beat' as const, peerId: PEER, protocol: 'v2' as const, heartbeat: sampleHeartbeat({ seq, period: 1_000, agent: { version: '0.1.0', startedAt } }) })

  /** A node beating at 1 s for a while, so the failure detector has learned its rhythm. */
  function warmed (): { fleet: FleetState, clock: ManualClock, statuses: string[] } {
    const clock = new ManualClock()
    const fleet = new FleetState()
    const statuses: string[] = []
    fleet.subscribe({ onStatusChanged: (c) => { statuses.push(c.to) } })
    for (let i = 0; i < 20; i++) {
      fleet.apply(beat(i), instantOf(clock))
      clock.advance(1_000)
    }
    return { fleet, clock, statuses }
  }
  const tick = (fleet: FleetState, clock: ManualClock, ms: number): void => {
    for (let t = 0; t < ms; t += 250) { clock.advance(250); fleet.tick(instantOf(clock)) }
  }

  it('within the grace: disconnected -> healthy, never stale', () => {
    const { fleet, clock, statuses } = warmed()
    fleet.apply({ type: 'disconnected', peerId: PEER }, instantOf(clock))
    tick(fleet, clock, 500)
    fleet.apply({ type: 'connected', peerId: PEER }, instantOf(clock))
    // The last beat was 1.5 s ago, but the silence counts from the new connection.
    tick(fleet, clock, 1_500)
    assert.equal(fleet.verdict(PEER)?.status, 'healthy')
    fleet.apply(beat(0, 2_000), instantOf(clock))
    for (let i = 1; i < 10; i++) { tick(fleet, clock, 1_000); fleet.apply(beat(i, 2_000), instantOf(clock)) }
    assert.deepEqual(statuses, ['healthy', 'degraded', 'healthy'])
  })

  it('after the grace: down -> healthy, never stale (an agent restarted)', () => {
    const { fleet, clock, statuses } = warmed()
    fleet.apply({ type: 'disconnected', peerId: PEER }, instantOf(clock))
    tick(fleet, clock, 6_000)
    assert.equal(fleet.verdict(PEER)?.status, 'down')
    fleet.apply({ type: 'connected', peerId: PEER }, instantOf(clock))
    tick(fleet, clock, 250)
    fleet.apply(beat(0, 9_000), instantOf(clock))
    for (let i = 1; i < 10; i++) { tick(fleet, clock, 1_000); fleet.apply(beat(i, 9_000), instantOf(clock)) }
    assert.deepEqual(statuses, ['healthy', 'degraded', 'down', 'healthy'])
  })

  it('the first beat on a new connection teaches the detector nothing', () => {
    const { fleet, clock } = warmed()
    const learned = fleet.get(PEER)?.arrivals.count
    fleet.apply({ type: 'disconnected', peerId: PEER }, instantOf(clock))
    clock.advance(2_500)
    fleet.apply({ type: 'connected', peerId: PEER }, instantOf(clock))
    clock.advance(100)
    fleet.apply(beat(0, 9_000), instantOf(clock))
    assert.equal(fleet.get(PEER)?.arrivals.count, learned, 'the 2.6 s gap is not a sample of the rhythm')
  })

  it('a new connection that never carries a beat turns stale, from the connection, with a reason that says so', () => {
    const { fleet, clock } = warmed()
    fleet.apply({ type: 'disconnected', peerId: PEER }, instantOf(clock))
    tick(fleet, clock, 500)
    fleet.apply({ type: 'connected', peerId: PEER }, instantOf(clock))
    tick(fleet, clock, 3_000)
    assert.equal(fleet.verdict(PEER)?.status, 'healthy', 'three periods from the connection')
    tick(fleet, clock, 500)
    assert.equal(fleet.verdict(PEER)?.status, 'stale')
    assert.match(fleet.verdict(PEER)?.reason ?? '', /reconnected .* but no heartbeat on the new connection/)
  })
})
