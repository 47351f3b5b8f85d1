import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import {
  DEFAULT_PHI_CONFIG, emptyArrivalWindow, learnInterval, phiFromNormal, phiOf, windowMean, windowStdDeviation,
} from '../../aggregator/fleet/phi.ts'
import { DEFAULT_STATUS_RULES, phiAt } from '../../aggregator/fleet/status.ts'
import type { NodeStatus } from '../../aggregator/fleet/types.ts'
import { STATUS_TICK_MS } from '../../aggregator/constants.ts'
import { heartbeat } from '../support/heartbeats.ts'
import { seededRandom } from '../support/random.ts'
import { at } from '../support/instant.ts'

const PEER = '12D3KooWTestPeer'
const PERIOD = 1000
const THRESHOLD = DEFAULT_PHI_CONFIG.threshold

/** A fleet driven by an injected clock, with every status change recorded. */
function harness (period = PERIOD) {
  const fleet = new FleetState()
  const changes: Array<{ to: NodeStatus, reason: string, at: number }> = []
  fleet.subscribe({ onStatusChanged: (c) => { changes.push({ to: c.to, reason: c.reason, at: c.at }) } })
  let seq = 0
  return {
    fleet,
    changes,
    /** One beat; the chain advances with every beat so the node is never stuck. */
    beat (now: number, overrides: Parameters<typeof heartbeat>[0] = {}): void {
      const n = seq++
      fleet.apply({ type: 'beat', peerId: PEER, heartbeat: heartbeat({ seq: n, head: `{bafy-${n}}`, height: n, period, ...overrides }), protocol: 'v2' }, at(now))
    },
    status (): NodeStatus | undefined {
      return fleet.verdict(PEER)?.status
    },
    record () {
      const r = fleet.get(PEER)
      assert.ok(r !== undefined)
      return r
    },
  }
}

/** Runs the fleet's 250 ms status tick from `from` (exclusive) to `to` (inclusive). */
function tickThrough (fleet: FleetState, from: number, to: number): void {
  for (let t = from + STATUS_TICK_MS; t <= to; t += STATUS_TICK_MS) fleet.tick(at(t))
}

describe('arrival window', () => {
  it('keeps mean and deviation of the last `size` intervals with running sums', () => {
    fc.assert(fc.property(
      fc.integer({ min: 2, max: 12 }),
      fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 60 }),
      (size, intervals) => {
        let w = emptyArrivalWindow(size)
        for (const i of intervals) w = learnInterval(w, i)
        const kept = intervals.slice(-size)
        const mean = kept.reduce((a, b) => a + b, 0) / kept.length
        const std = Math.sqrt(kept.reduce((a, b) => a + (b - mean) ** 2, 0) / kept.length)
        assert.equal(w.count, kept.length)
        assert.ok(Math.abs(windowMean(w) - mean) < 1e-6, `mean ${windowMean(w)} vs ${mean}`)
        assert.ok(Math.abs(windowStdDeviation(w) - std) < 1e-3, `std ${windowStdDeviation(w)} vs ${std}`)
      },
    ))
  })

  it('leaves an older version readable after the ring moved on', () => {
    const w1 = learnInterval(emptyArrivalWindow(4), 10)
    const w2 = learnInterval(w1, 30)
    assert.equal(windowMean(w1), 10)
    assert.equal(windowMean(w2), 20)
    assert.equal(w1.ring, w2.ring, 'the ring is shared, not copied per beat')
  })

  it('refuses a window too small to have a deviation', () => {
    assert.throws(() => emptyArrivalWindow(1), RangeError)
  })
})

describe('phi', () => {
  it('grows with silence and stays finite far in the tail', () => {
    let previous = -1
    for (let t = 0; t <= 20_000; t += 100) {
      const phi = phiFromNormal(t, 1500, 100)
      assert.ok(phi >= previous, `phi must not fall: ${phi} after ${previous} at t=${t}`)
      assert.ok(Number.isFinite(phi))
      previous = phi
    }
    assert.ok(previous > 1000)
    assert.ok(phiFromNormal(1500, 1500, 100) < 0.5, 'at the mean phi is about log10(2)')
  })

  it('abstains until the window has enough samples', () => {
    let w = emptyArrivalWindow()
    for (let i = 0; i < DEFAULT_PHI_CONFIG.minSamples - 1; i++) w = learnInterval(w, PERIOD)
    assert.equal(phiOf(w, 10 * PERIOD, PERIOD), undefined)
    w = learnInterval(w, PERIOD)
    assert.ok((phiOf(w, 10 * PERIOD, PERIOD) ?? 0) > THRESHOLD)
  })
})

describe('failure detection with an injected clock', () => {
  it('keeps phi low while beats are regular', () => {
    const h = harness()
    let now = 1_000_000
    let worst = 0
    for (let i = 0; i < 200; i++) {
      h.beat(now)
      // The worst moment for a regular sender: just before its next beat.
      const phi = phiAt(h.record(), now + PERIOD - 1) ?? 0
      worst = Math.max(worst, phi)
      now += PERIOD
      h.fleet.tick(at(now - 1))
      assert.equal(h.status(), 'healthy', `beat ${i}: ${h.fleet.verdict(PEER)?.reason}`)
    }
    assert.ok(worst < 0.1, `phi just before a regular beat should be ~0, was ${worst}`)
  })

  it('crosses the threshold within three periods of silence (regular and jittered senders)', () => {
    for (const jitter of [0, 0.25]) {
      const random = seededRandom(42)
      const h = harness()
      let now = 5_000_000
      for (let i = 0; i < 60; i++) {
        h.beat(now)
        now += Math.round(PERIOD * (1 + jitter * (2 * random() - 1)))
      }
      h.beat(now)
      const lastBeat = now
      let crossedAt: number | undefined
      for (let t = lastBeat; t <= lastBeat + 5 * PERIOD; t += 10) {
        if ((phiAt(h.record(), t) ?? 0) > THRESHOLD) { crossedAt = t; break }
      }
      assert.ok(crossedAt !== undefined, `jitter ${jitter}: phi never crossed ${THRESHOLD}`)
      const silence = crossedAt - lastBeat
      assert.ok(silence <= 3 * PERIOD, `jitter ${jitter}: crossed only after ${silence} ms`)
      // Not trigger-happy: the acceptable pause is honoured.
      assert.ok(silence > (1 + DEFAULT_PHI_CONFIG.acceptablePausePeriods) * PERIOD, `jitter ${jitter}: crossed already after ${silence} ms`)

      // The same through the status tick, which looks only at deadlines: the node's deadline is the
      // crossing solved once per beat, so it is still healthy just before and stale just after.
      h.fleet.tick(at(crossedAt - 20))
      assert.equal(h.status(), 'healthy', `jitter ${jitter}: not before the crossing`)
      h.fleet.tick(at(crossedAt + 1))
      assert.equal(h.status(), 'stale', `jitter ${jitter}: at the crossing`)
      tickThrough(h.fleet, crossedAt, lastBeat + 3 * PERIOD)
      assert.equal(h.status(), 'stale')
      const verdict = h.fleet.verdict(PEER)
      assert.match(verdict?.reason ?? '', /phi > 8/)
      assert.match(verdict?.reason ?? '', /^no heartbeat since \d\d:\d\d:\d\dZ/)
      assert.match(verdict?.reason ?? '', /while still connected/)
      assert.equal(h.record().connected, true)
    }
  })

  it('raises no false stale over 10,000 beats with 25% jitter', () => {
    const seed = 20_240_601
    const random = seededRandom(seed)
    const h = harness()
    let now = 10_000_000
    let worst = 0
    for (let i = 0; i < 10_000; i++) {
      h.beat(now)
      const next = now + Math.round(PERIOD * (0.75 + 0.5 * random()))
      worst = Math.max(worst, phiAt(h.record(), next - 1) ?? 0)
      tickThrough(h.fleet, now, next - 1)
      now = next
    }
    const stale = h.changes.filter((c) => c.to !== 'healthy')
    assert.deepEqual(stale, [], `seed ${seed}: status left healthy`)
    assert.ok(worst < THRESHOLD / 2, `seed ${seed}: worst phi before a beat was ${worst}`)
    // And it still detects: silence after the jittered run turns stale within three periods.
    tickThrough(h.fleet, now - 1, now - 1 + 3 * PERIOD)
    assert.equal(h.status(), 'stale')
  })

  it('falls back to a multiple of the announced period until it has enough samples', () => {
    const h = harness()
    h.beat(0)
    h.beat(PERIOD)
    h.beat(2 * PERIOD)
    assert.equal(phiAt(h.record(), 3 * PERIOD), undefined)
    const lastBeat = 2 * PERIOD
    const limit = DEFAULT_PHI_CONFIG.fallbackStalePeriods * PERIOD
    h.fleet.tick(at(lastBeat + limit))
    assert.equal(h.status(), 'healthy', 'exactly at the limit is not yet stale')
    h.fleet.tick(at(lastBeat + limit + 1))
    assert.equal(h.status(), 'stale')
    assert.match(h.fleet.verdict(PEER)?.reason ?? '', /too few beats yet for phi/)
  })

  it('does not learn an outage, a reconnect gap or the rhythm of another period', () => {
    const h = harness()
    let now = 0
    for (let i = 0; i < 20; i++) { h.beat(now); now += PERIOD }
    const learned = h.record().arrivals.count
    // A 10-period silence while connected: an outage, not a sample.
    now += 10 * PERIOD
    h.beat(now)
    assert.equal(h.record().arrivals.count, learned)
    assert.equal(windowMean(h.record().arrivals), PERIOD)
    // A disconnect and reconnect: the gap spans the reconnect, not the rhythm.
    h.fleet.apply({ type: 'disconnected', peerId: PEER }, at(now + 100))
    h.fleet.apply({ type: 'connected', peerId: PEER }, at(now + 200))
    h.beat(now + 300)
    assert.equal(h.record().arrivals.count, learned)
    // A new announced period starts over.
    h.beat(now + 300 + 500, { period: 500 })
    assert.equal(h.record().arrivals.count, 0)
  })

  it('judges a sender that announces no period (legacy) by the rhythm it keeps', () => {
    const legacyPeriod = 10_000
    const h = harness(0)
    let now = 0
    for (let i = 0; i < 10; i++) { h.beat(now); now += legacyPeriod }
    const lastBeat = now - legacyPeriod
    h.fleet.tick(at(lastBeat + 1.2 * legacyPeriod))
    assert.equal(h.status(), 'healthy', 'a 10 s sender is not late at 12 s')
    h.fleet.tick(at(lastBeat + 3 * legacyPeriod))
    assert.equal(h.status(), 'stale')
  })

  it('uses the configured threshold', () => {
    const lenient = new FleetState({ ...DEFAULT_STATUS_RULES, phi: { ...DEFAULT_PHI_CONFIG, threshold: 1000 } })
    let now = 0
    for (let i = 0; i < 20; i++) {
      lenient.apply({ type: 'beat', peerId: PEER, heartbeat: heartbeat({ seq: i }), protocol: 'v2' }, at(now))
      now += PERIOD
    }
    lenient.tick(at(now + 3 * PERIOD))
    assert.equal(lenient.verdict(PEER)?.status, 'healthy')
    lenient.tick(at(now + 30 * PERIOD))
    assert.equal(lenient.verdict(PEER)?.status, 'stale')
  })
})
