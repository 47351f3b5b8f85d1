import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { IDENTITY_CONFLICT_HOLD_MS } from '../../aggregator/constants.ts'
import { alertInputFromSnapshot } from '../../aggregator/alerts/input.ts'
import { builtInRules, matchRule } from '../../aggregator/alerts/rules.ts'
import { exposeNode } from '../../aggregator/fleet/exposure.ts'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { nodeViewOf } from '../../aggregator/fleet/view.ts'
import { IdentityGuard, IdentityLedger, type Instant, type Seat } from '../../aggregator/ingest/identity.ts'
import type { FleetEvent } from '../../aggregator/fleet/types.ts'
import { createLogger } from '../../shared/log.ts'
import { encodeRefusalFrame, MAX_REFUSAL_MESSAGE, readRefusalFrame } from '../../shared/refusal.ts'
import { encodeFrameBody } from '../../shared/codec.ts'
import { heartbeat } from '../support/heartbeats.ts'
import { at as instant } from '../support/instant.ts'
import { ManualClock } from '../support/manual-clock.ts'

const PEER = '12D3KooWSharedKey'
const at = (mono: number): Instant => ({ mono, wall: 1_800_000_000_000 + mono })
const beat = (startedAt: number): { agent: { startedAt: number } } => ({ agent: { startedAt } })

/** Agent A (run 100, from 10.0.0.1) beating since 0; a stream from 10.0.0.2 opened at 500, no beat on it yet. */
function twoAgents (): { ledger: IdentityLedger, a: Seat, b: Seat } {
  const ledger = new IdentityLedger()
  const a = ledger.open(PEER, 'conn-a', '/ip4/10.0.0.1/tcp/1', 0)
  ledger.beat(a, beat(100), at(10))
  return { ledger, a, b: ledger.open(PEER, 'conn-b', '/ip4/10.0.0.2/tcp/1', 500) }
}

/** The same, after B (run 200) beat once and A beat again: in conflict, B refused. */
function inConflict (): { ledger: IdentityLedger, a: Seat, b: Seat } {
  const two = twoAgents()
  two.ledger.beat(two.b, beat(200), at(510))
  two.ledger.beat(two.a, beat(100), at(1010))
  return two
}

describe('identity ledger: two agents on one peer id', () => {
  it('interleaved beats of two runs on two connections are a conflict; the newer stream is refused, the older kept', () => {
    const ledger = new IdentityLedger()
    const a = ledger.open(PEER, 'conn-a', '/ip4/10.0.0.1/tcp/4001/p2p/' + PEER, 0)
    assert.deepEqual(ledger.beat(a, beat(100), at(10)), { fold: true })
    const b = ledger.open(PEER, 'conn-b', '/ip4/10.0.0.2/tcp/4001', 500)
    // B's first beat: A has not beaten since B opened, so nothing is known yet (a restart looks the same).
    assert.deepEqual(ledger.beat(b, beat(200), at(510)), { fold: true })
    // A beats again after B: two runs alive at once.
    const outcome = ledger.beat(a, beat(100), at(1010))
    assert.equal(outcome.fold, true, 'the kept stream\'s beat folds')
    assert.equal(outcome.conflict?.refuse, b)
    assert.equal(outcome.conflict?.kept, a)
    assert.equal(outcome.conflict?.started, true)
    assert.equal(outcome.conflict?.changed, true)
    assert.deepEqual(outcome.conflict?.conflict, { agents: 2, addresses: ['/ip4/10.0.0.1/tcp/4001', '/ip4/10.0.0.2/tcp/4001'], since: at(1010).wall })
    // The refused stream folds nothing more.
    assert.deepEqual(ledger.beat(b, beat(200), at(1510)), { fold: false })
    assert.equal(ledger.beat(a, beat(100), at(2010)).conflict, undefined)
  })

  it('the newer stream is refused whichever of the two beats last', () => {
    const { ledger, a, b } = twoAgents()
    ledger.beat(a, beat(100), at(600))
    const outcome = ledger.beat(b, beat(200), at(700))
    assert.equal(outcome.fold, false, 'the newer stream\'s own beat does not fold')
    assert.equal(outcome.conflict?.refuse, b)
  })

  it('a restarted agent whose old connection lingers is not a conflict: the old stream never beats again', () => {
    const ledger = new IdentityLedger()
    const old = ledger.open(PEER, 'conn-1', '/ip4/10.0.0.1/tcp/1', 0)
    for (let t = 10; t < 5000; t += 1000) ledger.beat(old, beat(100), at(t))
    const fresh = ledger.open(PEER, 'conn-2', '/ip4/10.0.0.1/tcp/2', 6000)
    for (let t = 6010; t < 20_000; t += 1000) assert.deepEqual(ledger.beat(fresh, beat(6000), at(t)), { fold: true })
  })

  it('one agent reconnecting (same run) from a new address, or two services of one agent, is not a conflict', () => {
    const ledger = new IdentityLedger()
    // Two services of one agent process: same run, same host, interleaving on two connections.
    const primary = ledger.open(PEER, 'conn-1', '/ip4/10.0.0.1/tcp/1', 0)
    const alerts = ledger.open(PEER, 'conn-2', '/ip4/10.0.0.1/tcp/2', 0)
    for (let t = 10; t < 10_000; t += 500) {
      assert.equal(ledger.beat(primary, beat(100), at(t)).conflict, undefined)
      assert.equal(ledger.beat(alerts, beat(100), at(t + 250)).conflict, undefined)
    }
    // Two streams of one connection never conflict (the agent's reconnect overlap).
    const third = ledger.open(PEER, 'conn-1', '/ip4/10.0.0.1/tcp/1', 10_000)
    assert.equal(ledger.beat(third, beat(999), at(10_010)).conflict, undefined)
    assert.equal(ledger.beat(primary, beat(100), at(10_020)).conflict, undefined)
  })

  it('the same run from another host at once is two machines (a clone started in the same millisecond)', () => {
    const { ledger, a, b } = twoAgents()
    ledger.beat(b, beat(100), at(510))
    assert.equal(ledger.beat(a, beat(100), at(1010)).conflict?.refuse, b)
  })

  it('during a conflict the newer agent\'s retries are refused at their first beat while the kept stream is open; not once it closed', () => {
    const { ledger, a, b } = inConflict()
    ledger.close(b)
    // The retry, even after a long pause of A's: B2 is refused before folding anything.
    const b2 = ledger.open(PEER, 'conn-b', '/ip4/10.0.0.2/tcp/1', 30_000)
    const retry = ledger.beat(b2, beat(200), at(30_100))
    assert.equal(retry.fold, false)
    assert.equal(retry.conflict?.refuse, b2)
    assert.equal(retry.conflict?.started, false)
    assert.equal(retry.conflict?.changed, false, 'the same agent again: nothing new to tell the fleet')
    ledger.close(b2)
    // A's stream ends (its agent was stopped or killed): the next one is taken.
    ledger.close(a)
    const b3 = ledger.open(PEER, 'conn-b', '/ip4/10.0.0.2/tcp/1', 31_000)
    assert.deepEqual(ledger.beat(b3, beat(200), at(31_010)), { fold: true })
  })

  it('a conflict ends after the hold with no sign of a second agent; a third agent is counted', () => {
    const { ledger } = inConflict()
    const c = ledger.open(PEER, 'conn-c', '/ip4/10.0.0.3/tcp/1', 1100)
    const third = ledger.beat(c, beat(300), at(1200))
    assert.equal(third.conflict?.changed, true)
    assert.equal(third.conflict?.conflict.agents, 3)
    assert.deepEqual(ledger.expire(1200 + IDENTITY_CONFLICT_HOLD_MS - 1), [])
    assert.deepEqual(ledger.expire(1200 + IDENTITY_CONFLICT_HOLD_MS), [PEER])
    assert.equal(ledger.conflictOf(PEER), undefined)
  })

  it('forgets closed streams (bounded by what is open)', () => {
    const ledger = new IdentityLedger()
    for (let i = 0; i < 100; i++) ledger.close(ledger.open(`peer-${i}`, `c-${i}`, '/ip4/10.0.0.1/tcp/1', i))
    assert.equal(ledger.size, 0)
  })
})

describe('identity guard: the shell', () => {
  it('logs a conflict once, tells the fleet, refuses the newer stream once, and clears the node after the hold', () => {
    const clock = new ManualClock()
    const events: FleetEvent[] = []
    const lines: Array<{ level: number, msg: string }> = []
    const logger = createLogger({ name: 't', level: 'info', destination: { write: (l: string) => { lines.push(JSON.parse(l) as { level: number, msg: string }) } } })
    let refusedCount = 0
    const guard = new IdentityGuard({ apply: (e) => { events.push(e) }, logger, clock, onRefused: () => { refusedCount++ } })
    guard.start()
    const refusals: string[] = []
    const a = guard.join(PEER, { id: 'a', remoteAddr: '/ip4/10.0.0.1/tcp/1' }, (r) => { refusals.push(`a ${r.code}`) })
    assert.equal(a.admit(heartbeat({ agent: { version: 't', startedAt: 1 } })), true)
    clock.advance(500)
    const b = guard.join(PEER, { id: 'b', remoteAddr: '/ip4/10.0.0.2/tcp/1' }, (r) => { refusals.push(`b ${r.code}: ${r.message}`) })
    assert.equal(b.admit(heartbeat({ agent: { version: 't', startedAt: 2 } })), true)
    clock.advance(500)
    assert.equal(a.admit(heartbeat({ agent: { version: 't', startedAt: 1 } })), true)
    assert.deepEqual(refusals, ['b identity_in_use: this identity is used by another agent at /ip4/10.0.0.1/tcp/1; give each node its own key file'])
    assert.equal(refusedCount, 1)
    assert.equal(events.length, 1)
    assert.equal(events[0]?.type, 'identity')
    const errors = lines.filter((l) => l.level === 50 || (l as { level: unknown }).level === 'error')
    assert.equal(errors.length, 1, 'logged once')
    assert.match(errors[0]?.msg ?? '', /this identity \(12D3KooWSharedKey\) is used by two agents \(addresses \/ip4\/10\.0\.0\.1\/tcp\/1, \/ip4\/10\.0\.0\.2\/tcp\/1\): give each node its own key file/)
    b.leave()
    // Retries keep the conflict alive; each is refused, none is logged again.
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000)
      assert.equal(a.admit(heartbeat({ agent: { version: 't', startedAt: 1 } })), true)
      const retry = guard.join(PEER, { id: `b${i}`, remoteAddr: '/ip4/10.0.0.2/tcp/1' }, () => { refusals.push('retry') })
      assert.equal(retry.admit(heartbeat({ agent: { version: 't', startedAt: 2 } })), false)
      retry.leave()
    }
    assert.equal(refusals.length, 6)
    assert.equal(lines.filter((l) => (l as { level: unknown }).level === 'error').length, 1)
    assert.equal(events.length, 1, 'the same two agents: the fleet is told once')
    clock.advance(IDENTITY_CONFLICT_HOLD_MS)
    assert.deepEqual(events.at(-1), { type: 'identity', peerId: PEER, conflict: undefined })
    guard.stop()
  })
})

describe('identity conflict in the fleet', () => {
  it('makes the node unhealthy with a reason naming the identity and the addresses; liveness still comes first', () => {
    const fleet = new FleetState()
    fleet.apply({ type: 'beat', peerId: PEER, heartbeat: heartbeat(), protocol: 'v2' }, instant(1000))
    assert.equal(fleet.verdict(PEER)?.status, 'healthy')
    const conflict = { agents: 2, addresses: ['/ip4/10.0.0.1/tcp/1', '/ip4/10.0.0.2/tcp/1'], since: 1500 }
    fleet.apply({ type: 'identity', peerId: PEER, conflict }, instant(1500))
    assert.deepEqual(fleet.verdict(PEER), {
      status: 'unhealthy',
      reason: 'this identity (12D3KooWSharedKey) is used by two agents (addresses /ip4/10.0.0.1/tcp/1, /ip4/10.0.0.2/tcp/1): give each node its own key file',
    })
    // A beat keeps the flag; only an identity event clears it.
    fleet.apply({ type: 'beat', peerId: PEER, heartbeat: heartbeat({ seq: 1 }), protocol: 'v2' }, instant(2000))
    assert.equal(fleet.verdict(PEER)?.status, 'unhealthy')
    const view = nodeViewOf(fleet, PEER, instant(2000))
    assert.deepEqual(view?.identityConflict, { agents: 2, addresses: conflict.addresses, since: new Date(1500).toISOString() })
    // Strangers see neither the addresses nor a reason quoting them.
    const hidden = exposeNode(view!, false)
    assert.deepEqual(hidden.identityConflict, { agents: 2, since: new Date(1500).toISOString() })
    assert.equal(hidden.reason, 'this identity (12D3KooWSharedKey) is used by two agents: give each node its own key file')
    assert.deepEqual(exposeNode(view!, true).identityConflict, view?.identityConflict)
    // Disconnected long enough: down outranks the conflict (what is known first).
    fleet.apply({ type: 'disconnected', peerId: PEER }, instant(2100))
    fleet.tick(instant(10_000))
    assert.equal(fleet.verdict(PEER)?.status, 'down')
    fleet.apply({ type: 'identity', peerId: PEER, conflict: undefined }, instant(10_000))
    assert.equal(nodeViewOf(fleet, PEER, instant(10_000))?.identityConflict, null)
  })
})

describe('the refusal frame', () => {
  it('round-trips, and anything else from the aggregator is not a refusal', () => {
    const frame = encodeRefusalFrame({ code: 'identity_in_use', message: 'x'.repeat(5000) })
    // Strip the one- or two-byte varint prefix.
    const body = frame.subarray(frame[0]! < 0x80 ? 1 : 2)
    assert.deepEqual(readRefusalFrame(body), { code: 'identity_in_use', message: 'x'.repeat(MAX_REFUSAL_MESSAGE) })
    assert.equal(readRefusalFrame(encodeFrameBody({ v: 2, refused: { code: 'something_new', message: 'm' } })), undefined)
    assert.equal(readRefusalFrame(encodeFrameBody({ v: 2, head: 'x' })), undefined)
    assert.equal(readRefusalFrame(new Uint8Array([0xff, 0x00])), undefined)
  })
})

describe('the IdentityConflict rule', () => {
  it('is built in, critical, and fires for a node whose view carries identityConflict (not for a stopped one)', () => {
    const rule = builtInRules().find((r) => r.name === 'IdentityConflict')
    assert.equal(rule?.severity, 'critical')
    assert.equal(rule?.kind, 'identity_conflict')
    const fleet = new FleetState()
    fleet.apply({ type: 'beat', peerId: PEER, heartbeat: heartbeat({ nickname: 'lotus-1' }), protocol: 'v2' }, instant(1000))
    fleet.apply({ type: 'beat', peerId: 'other', heartbeat: heartbeat({ nickname: 'lotus-2' }), protocol: 'v2' }, instant(1000))
    fleet.apply({ type: 'identity', peerId: PEER, conflict: { agents: 2, addresses: ['/ip4/10.0.0.1/tcp/1', '/ip4/10.0.0.2/tcp/1'], since: 1000 } }, instant(1000))
    const nodes = [nodeViewOf(fleet, PEER, instant(1000)), nodeViewOf(fleet, 'other', instant(1000))]
    const input = alertInputFromSnapshot({ nodes }, { nodeMaintenance: () => undefined, fleetMaintenance: undefined })
    const matches = matchRule(rule!, input, 1000)
    assert.deepEqual(matches.map((m) => m.id), [`IdentityConflict/node/${PEER}`])
    assert.equal(matches[0]?.summary,
      `lotus-1 (${PEER}): this identity (${PEER}) is used by two agents (addresses /ip4/10.0.0.1/tcp/1, /ip4/10.0.0.2/tcp/1): give each node its own key file`)
    const stopped = alertInputFromSnapshot({ nodes: [{ ...nodes[0], status: 'stopped' }] }, { nodeMaintenance: () => undefined, fleetMaintenance: undefined })
    assert.deepEqual(matchRule(rule!, stopped, 1000), [])
  })
})
