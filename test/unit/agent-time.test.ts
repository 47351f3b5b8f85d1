import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeSendTimeout, describeStreamEnd } from '../../agent/dial-errors.ts'
import { ReachabilityTracker } from '../../agent/reachability.ts'
import { WallStepDetector } from '../../shared/wall-step.ts'
import { ManualClock } from '../support/manual-clock.ts'

describe('WallStepDetector', () => {
  it('reports a step of the wall clock once, with its size; ordinary time passing is no step', () => {
    const clock = new ManualClock()
    const detector = new WallStepDetector(clock, 2_000)
    clock.advance(5_000)
    assert.equal(detector.observe(), undefined, 'both clocks moved 5 s')
    clock.stepWall(-600_000)
    clock.advance(1_000)
    assert.equal(detector.observe(), -600_000)
    clock.advance(1_000)
    assert.equal(detector.observe(), undefined, 'reported once')
    clock.stepWall(1_999)
    assert.equal(detector.observe(), undefined, 'under the threshold (NTP slewing, small corrections)')
    clock.stepWall(+600_000)
    assert.equal(detector.observe(), 600_000)
  })
})

describe('ReachabilityTracker', () => {
  it('crosses the threshold once per outage on its own timer, recovers once, and forgets removed targets', () => {
    const clock = new ManualClock()
    const events: string[] = []
    const tracker = new ReachabilityTracker(clock, 60_000, {
      onUnreachable: (t, forMs, err) => { events.push(`down ${t} ${forMs} ${err}`) },
      onRecovered: (t, forMs) => { events.push(`up ${t} ${forMs}`) },
    })
    assert.deepEqual(tracker.snapshot(), [], 'an untried target has no state')
    tracker.down('a', 'A', 'refused')
    clock.advance(30_000)
    tracker.down('a', 'A', 'timeout') // still the same outage: its start stays
    clock.stepWall(-600_000) // the wall clock is no part of it
    clock.advance(29_999)
    assert.deepEqual(events, [])
    assert.equal(tracker.snapshot()[0]?.unreachableForMs, 59_999)
    clock.advance(1)
    assert.deepEqual(events, ['down A 60000 timeout'])
    clock.advance(600_000)
    assert.equal(events.length, 1, 'once per outage')
    tracker.up('a', 'A')
    assert.deepEqual(events.at(-1), 'up A 660000')
    assert.deepEqual(tracker.snapshot()[0], { target: 'A', up: true, unreachableForMs: 0, unreachableSince: undefined, lastError: undefined, alerted: false })

    // A short blip: no ERROR, so no recovery line either.
    tracker.down('a', 'A', 'reset')
    clock.advance(5_000)
    tracker.up('a', 'A')
    assert.equal(events.length, 2)

    tracker.down('b', 'B', 'refused')
    tracker.forget('b')
    clock.advance(120_000)
    assert.equal(events.length, 2, 'a target removed by a reload raises nothing')
    assert.equal(clock.pendingTimers, 0)
  })

  it('a new threshold applies to an outage in progress', () => {
    const clock = new ManualClock()
    const events: number[] = []
    const tracker = new ReachabilityTracker(clock, 60_000, { onUnreachable: (_t, forMs) => { events.push(forMs) }, onRecovered: () => {} })
    tracker.down('a', 'A', 'refused')
    clock.advance(20_000)
    tracker.setThreshold(30_000)
    clock.advance(9_999)
    assert.deepEqual(events, [])
    clock.advance(1)
    assert.deepEqual(events, [30_000])
  })
})

describe('what the agent says when a heartbeat stream ends', () => {
  const target = '/ip4/10.0.0.5/tcp/4100/p2p/12D3KooWX'
  it('blames the aggregator only for what came from it', () => {
    assert.equal(describeStreamEnd(undefined, target, 10_000).message, 'heartbeat stream closed by the aggregator; reconnecting')
    assert.equal(describeStreamEnd({}, target, 10_000).byRemote, true)
    const reset = Object.assign(new Error('stream reset'), { name: 'StreamResetError' })
    assert.deepEqual(describeStreamEnd({ error: reset }, target, 10_000), { message: 'heartbeat stream reset by the aggregator; reconnecting', lastError: `${target} reset the heartbeat stream`, byRemote: true })
  })

  it('a silent link (the connection ping timed out, a write that never completes) is "no answer for N s"', () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' })
    const silent = describeStreamEnd({ error: timeout }, target, 10_000)
    assert.equal(silent.message, `no answer from the aggregator at ${target} for 10 s (the connection ping went unanswered); reconnecting`)
    assert.equal(silent.byRemote, false)
    assert.doesNotMatch(silent.message, /closed by the aggregator/)
    assert.equal(describeSendTimeout(target, 5_000).message, `no answer from the aggregator at ${target} for 5 s (a heartbeat could not be written); reconnecting`)
  })

  it('a reset connection or another transport error says what it was', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    assert.match(describeStreamEnd({ error: reset }, target, 10_000).message, /reset \(by the aggregator, or by the network between\)/)
    assert.match(describeStreamEnd({ error: new Error('TCP transmission error') }, target, 10_000).message, /^lost the connection to the aggregator at .*: TCP transmission error; reconnecting$/)
    assert.match(describeStreamEnd({ local: true }, target, 10_000).message, /closed here/)
  })
})
