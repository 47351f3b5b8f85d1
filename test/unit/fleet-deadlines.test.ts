import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Alerting } from '../../aggregator/alerts/alerting.ts'
import { type AlertRule, builtInRules } from '../../aggregator/alerts/rules.ts'
import { computeConsensus, ConsensusTally, type ConsensusVoter } from '../../aggregator/fleet/consensus.ts'
import { DeadlineQueue } from '../../aggregator/fleet/deadlines.ts'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { deriveStatus } from '../../aggregator/fleet/status.ts'
import type { FleetEvent } from '../../aggregator/fleet/types.ts'
import { fleetViews } from '../../aggregator/fleet/view.ts'
import { createLogger } from '../../shared/log.ts'
import { sampleHeartbeat } from '../support/fixtures.ts'
import { at } from '../support/instant.ts'

describe('deadline queue', () => {
  it('yields each key once its latest deadline passed, however often it moved (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('schedule' as const), key: fc.constantFrom('a', 'b', 'c', 'd'), at: fc.integer({ min: 0, max: 1_000 }) }),
      fc.record({ kind: fc.constant('cancel' as const), key: fc.constantFrom('a', 'b', 'c', 'd') }),
      fc.record({ kind: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 300 }) }),
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const queue = new DeadlineQueue()
      const model = new Map<string, number>()
      let now = 0
      for (const o of ops) {
        if (o.kind === 'schedule') { queue.schedule(o.key, o.at); model.set(o.key, o.at) }
        if (o.kind === 'cancel') { queue.cancel(o.key); model.delete(o.key) }
        if (o.kind === 'advance') {
          now += o.by
          const got = [...queue.due(now)].sort()
          const expected = [...model].filter(([, t]) => t <= now).map(([k]) => k).sort()
          assert.deepEqual(got, expected)
          for (const k of expected) model.delete(k)
        }
      }
      assert.equal(queue.size, model.size)
      assert.ok(queue.entries <= 4 * 80 + 4, 'the heap stays bounded')
    }))
  })
})

describe('incremental consensus', () => {
  it('equals a recount from scratch after any sequence of votes added and withdrawn (property)', () => {
    const voter = fc.record({
      network: fc.constantFrom('a', 'b', ''),
      head: fc.constantFrom('{1}', '{2}', '{3}'),
      height: fc.integer({ min: 0, max: 5 }),
      reporting: fc.boolean(),
    })
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), voter), { maxLength: 60 }), (ops) => {
      const tally = new ConsensusTally()
      const held: ConsensusVoter[] = []
      for (const [add, v] of ops) {
        const i = held.findIndex((h) => h.network === v.network && h.head === v.head && h.height === v.height && h.reporting === v.reporting)
        if (!add && i >= 0) {
          tally.remove(held[i] as ConsensusVoter, `p${i}`)
          held.splice(i, 1)
        } else {
          tally.add(v)
          held.push(v)
        }
      }
      assert.deepEqual(tally.result(), computeConsensus(held))
    }))
  })
})

/** A fleet driven by random events and ticks, against a full re-derivation of every node at every tick. */
describe('deadline-driven statuses', () => {
  const peers = ['p0', 'p1', 'p2', 'p3']
  const event = fc.oneof(
    fc.record({ type: fc.constant('beat' as const), peer: fc.constantFrom(...peers), height: fc.integer({ min: 1, max: 12 }), head: fc.constantFrom('{x}', '{y}'), period: fc.constantFrom(1_000, 2_000), stopping: fc.boolean(), unhealthy: fc.boolean() }),
    fc.record({ type: fc.constant('connected' as const), peer: fc.constantFrom(...peers) }),
    fc.record({ type: fc.constant('disconnected' as const), peer: fc.constantFrom(...peers) }),
  )
  const step = fc.record({ dt: fc.integer({ min: 0, max: 4_000 }), event: fc.option(event, { nil: undefined }) })

  it('re-deriving only what is due gives the verdicts a full walk gives, at every tick (property)', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 120 }), (steps) => {
      const fleet = new FleetState(undefined, { forgetAfterMs: 60_000 })
      const seq = new Map<string, number>()
      let now = 1_000_000
      for (const s of steps) {
        // Time passes in status ticks, as the ticker drives it.
        for (let t = 0; t < s.dt; t += 250) { now += Math.min(250, s.dt - t); fleet.tick(at(now)) }
        if (s.event !== undefined) {
          const e = s.event
          let folded: FleetEvent
          if (e.type === 'beat') {
            const n = (seq.get(e.peer) ?? 0) + 1
            seq.set(e.peer, n)
            folded = {
              type: 'beat',
              peerId: e.peer,
              protocol: 'v2',
              heartbeat: sampleHeartbeat({
                seq: n, height: e.height, head: `${e.head}${e.height}`, period: e.period, state: e.stopping ? 'stopping' : 'running',
                health: e.unhealthy ? { status: 'not_ready', components: { chain_source: { status: 'not_ready' } } } : { status: 'ready', components: {} },
              }),
            }
          } else {
            folded = { type: e.type, peerId: e.peer }
          }
          fleet.apply(folded, at(now))
        }
        for (const record of fleet.nodes()) {
          const full = deriveStatus(record, now, fleet.rules, fleet.networkContext(record.beat.network))
          const kept = fleet.verdict(record.peerId)
          assert.deepEqual({ status: kept?.status, reason: kept?.reason }, { status: full.status, reason: full.reason }, `${record.peerId} at ${now}`)
        }
      }
    }), { numRuns: 150 })
  })

  it('a quiet fleet costs nothing per tick: no node is re-derived, nothing is told, not even about nodes long down or stale', () => {
    const fleet = new FleetState()
    let changes = 0
    fleet.subscribe({ onNodeChanged: () => { changes++ }, onStatusChanged: () => { changes++ } })
    let now = 0
    // Quiet nodes: a 60 s period, the last beat just now. n0 beats every second, then is gone; s0 goes silent.
    for (let b = 0; b < 8; b++) {
      for (let i = 1; i < 100; i++) fleet.apply({ type: 'beat', peerId: `n${i}`, protocol: 'v2', heartbeat: sampleHeartbeat({ seq: b, period: 60_000 }) }, at(now + i))
      for (let k = 0; k < 60; k++) {
        fleet.apply({ type: 'beat', peerId: 'n0', protocol: 'v2', heartbeat: sampleHeartbeat({ seq: b * 60 + k, period: 1_000 }) }, at(now + k * 1_000))
        if (b < 7 || k < 50) fleet.apply({ type: 'beat', peerId: 's0', protocol: 'v2', heartbeat: sampleHeartbeat({ seq: b * 60 + k, period: 1_000 }) }, at(now + k * 1_000))
      }
      now += 60_000
    }
    fleet.apply({ type: 'disconnected', peerId: 'n0' }, at(now))
    for (let t = 0; t < 5_000; t += 250) fleet.tick(at(now + t))
    now += 5_000
    assert.equal(fleet.verdict('n0')?.status, 'down')
    assert.equal(fleet.verdict('s0')?.status, 'stale')
    changes = 0
    // Twenty seconds of ticks with nothing due: nothing happens (the reasons state times, they do not age).
    for (let t = 0; t < 20_000; t += 250) fleet.tick(at(now + t))
    assert.equal(changes, 0)
    assert.doesNotMatch(fleet.verdict('n0')?.reason ?? '', /ago/)
    assert.doesNotMatch(fleet.verdict('s0')?.reason ?? '', /ago/)
    assert.ok(fleet.pendingDeadlines <= 101, `one deadline per node at most (${fleet.pendingDeadlines})`)
  })

  it('a new top height re-derives the nodes it leaves behind, without a tick', () => {
    const fleet = new FleetState()
    const beat = (peerId: string, height: number): FleetEvent => ({ type: 'beat', peerId, protocol: 'v2', heartbeat: sampleHeartbeat({ seq: height, height, head: `{h${height}}` }) })
    fleet.apply(beat('slow', 100), at(0))
    fleet.apply(beat('fast', 103), at(10))
    assert.equal(fleet.verdict('slow')?.status, 'healthy')
    fleet.apply(beat('fast', 106), at(20))
    assert.equal(fleet.verdict('slow')?.status, 'degraded')
    assert.equal(fleet.verdict('slow')?.reason, "lags 6 behind the network's height 106 (more than 5)")
    fleet.apply(beat('fast', 107), at(30))
    assert.equal(fleet.verdict('slow')?.reason, "lags 7 behind the network's height 107 (more than 5)")
    // The fast node leaves: the top comes down to the slow node's own height.
    fleet.apply({ type: 'disconnected', peerId: 'fast' }, at(40))
    fleet.tick(at(40 + 3_000))
    assert.equal(fleet.verdict('fast')?.status, 'down')
    assert.equal(fleet.verdict('slow')?.status, 'healthy')
  })
})

/** Alerting over `fleet` as the aggregator wires it (the fleet's revision), counting how often it reads the fleet. */
function countingAlerting (fleet: FleetState, rules: AlertRule[], now: () => number): { alerting: Alerting, reads: () => number } {
  let reads = 0
  const alerting = new Alerting({
    config: { rules, receivers: [] },
    snapshot: () => { reads++; return fleetViews(fleet, at(now())) },
    revision: () => fleet.revision,
    announcedMaintenance: () => undefined,
    source: { peerId: () => 'p', publicUrl: () => 'http://x' },
    logger: createLogger({ name: 'test', level: 'silent' }),
  })
  return { alerting, reads: () => reads }
}

describe('alert evaluation on a quiet fleet', () => {
  it('reads the fleet only when its revision moved or something is due', () => {
    const fleet = new FleetState()
    let now = 0
    const { alerting, reads: readCount } = countingAlerting(fleet, builtInRules(10_000), () => now)
    const run = (ms: number): void => { for (let t = 0; t < ms; t += 250) { now += 250; fleet.tick(at(now)); alerting.onTick(at(now)) } }
    for (let i = 0; i < 3; i++) fleet.apply({ type: 'beat', peerId: `n${i}`, protocol: 'v2', heartbeat: sampleHeartbeat({ seq: 1, period: 60_000 }) }, at(now))
    run(2_000)
    assert.equal(readCount(), 1, 'the first look')
    // Beats that change nothing judged: no evaluation.
    for (let b = 2; b < 5; b++) {
      for (let i = 0; i < 3; i++) fleet.apply({ type: 'beat', peerId: `n${i}`, protocol: 'v2', heartbeat: sampleHeartbeat({ seq: b, period: 60_000 }) }, at(now))
      run(1_000)
    }
    assert.equal(readCount(), 1, 'beats alone do not re-read the fleet')
    // A node disconnects: evaluated at once; down after its grace (one 60 s period), pending, firing 10 s later; then quiet.
    fleet.apply({ type: 'disconnected', peerId: 'n0' }, at(now))
    run(1_000)
    assert.equal(readCount(), 2)
    run(80_000)
    assert.ok(readCount() <= 5, `a handful of evaluations, not one per second (${readCount()})`)
    assert.equal(alerting.engine.active().find((a) => a.name === 'NodeDown')?.state, 'firing')
    const settled = readCount()
    run(30_000)
    assert.equal(readCount(), settled, 'a firing alert with nothing changing costs no evaluation')
  })
})

describe('alert rules that age with time', () => {
  it('HeadStuck fires on a quiet fleet when the head turns stuck, with no change to wake the evaluation', () => {
    // The fleet itself never calls the head stuck (stuck-after far off): only the rule's own `after` can.
    const fleet = new FleetState({ ...new FleetState().rules, stuckAfterMs: 24 * 3_600_000 })
    let now = 0
    const { alerting, reads: readCount } = countingAlerting(fleet, builtInRules(0).filter((r) => r.name === 'HeadStuck'), () => now)
    let seq = 0
    const run = (ms: number): void => {
      for (let t = 0; t < ms; t += 250) {
        now += 250
        if (now % 10_000 === 0) fleet.apply({ type: 'beat', peerId: 'n', protocol: 'v2', heartbeat: sampleHeartbeat({ seq: seq++, period: 10_000 }) }, at(now))
        fleet.tick(at(now))
        alerting.onTick(at(now))
      }
    }
    run(4 * 60_000)
    assert.deepEqual(alerting.engine.active(), [])
    const before = readCount()
    run(75_000)
    assert.equal(alerting.engine.active()[0]?.name, 'HeadStuck')
    assert.ok(readCount() - before <= 2, `woken by the rule's own deadline, not by polling (${readCount() - before} reads)`)
  })
})
