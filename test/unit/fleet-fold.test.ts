import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { foldNode } from '../../aggregator/fleet/fold.ts'
import { sampleHeartbeat } from '../support/fixtures.ts'
import { at } from '../support/instant.ts'

const PEER = 'peer-a'
const beat = (seq: number, overrides = {}) => ({ type: 'beat' as const, peerId: PEER, protocol: 'v2' as const, heartbeat: sampleHeartbeat({ seq, ...overrides }) })

test('the fold returns new records and leaves what an old record reads unchanged', () => {
  const first = foldNode(undefined, beat(1), at(1000))
  assert.ok(first)
  // The phi window's ring buffer is handed on to the newer record (copying it
  // would cost O(window) per beat); every value an old record reads is its own.
  const readable = (r: typeof first): unknown => ({ ...r, arrivals: { ...r.arrivals, ring: undefined } })
  const frozen = structuredClone(readable(first))
  const second = foldNode(first, beat(2, { head: '{other}' }), at(4000))
  assert.notEqual(second, first)
  assert.deepEqual(readable(first), frozen)
  assert.equal(second?.beats, 2)
  assert.equal(second?.lastHeadChange, 4000)
  assert.equal(second?.lastSeen, 4000)
})

test('connection events for peers that never sent a heartbeat are ignored', () => {
  assert.equal(foldNode(undefined, { type: 'connected', peerId: PEER }, at(0)), undefined)
  assert.equal(foldNode(undefined, { type: 'disconnected', peerId: PEER }, at(0)), undefined)
})

test('seq gaps within one agent run are counted as lost beats; a restarted agent is not a gap', () => {
  let record = foldNode(undefined, beat(1), at(0))
  record = foldNode(record, beat(2), at(1))
  record = foldNode(record, beat(5), at(2))
  assert.equal(record?.seqGaps, 2)
  record = foldNode(record, beat(0, { agent: { version: '0.1.0', startedAt: 42 } }), at(3))
  assert.equal(record?.seqGaps, 2)
})

test('a healthy node, then unhealthy when it reports not_ready, with the component in the reason', () => {
  const fleet = new FleetState()
  fleet.apply(beat(1), at(0))
  assert.equal(fleet.verdict(PEER)?.status, 'healthy')
  fleet.apply(beat(2, { health: { status: 'not_ready', components: { chain_source: { status: 'not_ready' } } } }), at(3000))
  const verdict = fleet.verdict(PEER)
  assert.equal(verdict?.status, 'unhealthy')
  assert.match(verdict?.reason ?? '', /chain_source not_ready/)
})

test('disconnect is non-healthy at once, down after the grace, and a quick reconnect does not flap to down', () => {
  const fleet = new FleetState()
  const changes: string[] = []
  fleet.subscribe({ onStatusChanged: (c) => { changes.push(c.to) } })
  fleet.apply(beat(1, { period: 1000 }), at(0))
  fleet.apply({ type: 'disconnected', peerId: PEER }, at(100))
  assert.notEqual(fleet.verdict(PEER)?.status, 'healthy')
  assert.match(fleet.verdict(PEER)?.reason ?? '', /disconnected/)
  fleet.apply({ type: 'connected', peerId: PEER }, at(600))
  fleet.apply(beat(2, { period: 1000 }), at(700))
  fleet.tick(at(1200))
  assert.equal(fleet.verdict(PEER)?.status, 'healthy')
  fleet.apply({ type: 'disconnected', peerId: PEER }, at(2000))
  fleet.tick(at(3100))
  assert.equal(fleet.verdict(PEER)?.status, 'down')
  assert.match(fleet.verdict(PEER)?.reason ?? '', /disconnected .* not back/)
  assert.deepEqual(changes.filter((s) => s === 'down'), ['down'])
})

test('long silence on an open connection is stale; an announced stop is stopped, never down', () => {
  const fleet = new FleetState()
  fleet.apply(beat(1, { period: 1000 }), at(0))
  fleet.tick(at(20_000))
  assert.equal(fleet.verdict(PEER)?.status, 'stale')
  assert.match(fleet.verdict(PEER)?.reason ?? '', /no heartbeat/)

  fleet.apply(beat(2, { period: 1000, state: 'stopping' }), at(21_000))
  fleet.apply({ type: 'disconnected', peerId: PEER }, at(21_010))
  fleet.tick(at(60_000))
  assert.equal(fleet.verdict(PEER)?.status, 'stopped')
  assert.match(fleet.verdict(PEER)?.reason ?? '', /graceful stop/)
})
