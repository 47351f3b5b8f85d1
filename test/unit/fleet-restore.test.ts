import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FleetState, type StatusChange } from '../../aggregator/fleet/fleet-state.ts'
import { foldNode } from '../../aggregator/fleet/fold.ts'
import { restoredRecord, savedNode } from '../../aggregator/fleet/restore.ts'
import type { NodeRecord } from '../../aggregator/fleet/types.ts'
import { sampleHeartbeat } from '../support/fixtures.ts'
import { at as instant } from '../support/instant.ts'

const beat = (peerId: string, seq: number, overrides = {}) => ({ type: 'beat' as const, peerId, protocol: 'v2' as const, heartbeat: sampleHeartbeat({ seq, nickname: peerId, ...overrides }) })

function recordOf (peerId: string, at: number, overrides = {}): NodeRecord {
  const record = foldNode(undefined, beat(peerId, 1, overrides), instant(at))
  assert.ok(record)
  return record
}

test('a saved node comes back as it was, but not connected and flagged restored', () => {
  const live = foldNode(recordOf('a', 1000), beat('a', 2, { head: '{b}' }), instant(4000))
  assert.ok(live)
  // Restored at the same instant as the last beat: the monotonic times come back as they were.
  const back = restoredRecord(savedNode(live), instant(4000))
  assert.equal(back.connected, false)
  assert.equal(back.disconnectedAtMono, undefined)
  assert.equal(back.restored, true)
  // The failure detector starts afresh: no interval may span the restart.
  assert.equal(back.arrivals.count, 0)
  assert.deepEqual({ ...back, connected: true, connectedAt: live.connectedAt, connectedAtMono: live.connectedAtMono, restored: undefined, arrivals: undefined }, { ...live, restored: undefined, arrivals: undefined })
})

test('restored nodes are stale with a reason until they beat again: no ghost healthy nodes', () => {
  const fleet = new FleetState()
  const changes: StatusChange[] = []
  fleet.subscribe({ onStatusChanged: (c) => { changes.push(c) } })
  const restored = fleet.restore([restoredRecord(savedNode(recordOf('a', 0)), instant(120_000))], instant(120_000))
  assert.equal(restored, 1)
  assert.deepEqual(fleet.verdict('a'), { status: 'stale', reason: 'not heard from since the aggregator restarted; last heartbeat 1970-01-01 00:00:00Z' })
  assert.deepEqual(changes.map((c) => [c.peerId, c.from, c.to]), [['a', undefined, 'stale']])

  // A connection alone proves nothing; the next beat does.
  fleet.apply({ type: 'connected', peerId: 'a' }, instant(121_000))
  assert.equal(fleet.verdict('a')?.status, 'stale')
  fleet.apply(beat('a', 2), instant(121_500))
  assert.equal(fleet.get('a')?.restored, false)
  assert.equal(fleet.verdict('a')?.status, 'healthy')
  assert.equal(fleet.get('a')?.beats, 2, 'counters carry on across the restart')
})

test('a restored node that never comes back stays listed and never turns healthy', () => {
  const fleet = new FleetState()
  fleet.restore([restoredRecord(savedNode(recordOf('gone', 0)), instant(10_000))], instant(10_000))
  for (let now = 10_000; now < 3_600_000; now += 60_000) fleet.tick(instant(now))
  assert.equal(fleet.size, 1)
  assert.equal(fleet.verdict('gone')?.status, 'stale')
  assert.match(fleet.verdict('gone')?.reason ?? '', /since the aggregator restarted; last heartbeat 1970-01-01 00:00:00Z$/)
})

test('a node that had announced a graceful stop comes back stopped', () => {
  const fleet = new FleetState()
  fleet.restore([restoredRecord(savedNode(recordOf('s', 0, { state: 'stopping' })), instant(5000))], instant(5000))
  assert.equal(fleet.verdict('s')?.status, 'stopped')
})

test('restore never overwrites a node already heard from in this run', () => {
  const fleet = new FleetState()
  fleet.apply(beat('a', 9, { height: 99 }), instant(50))
  const restored = fleet.restore([restoredRecord(savedNode(recordOf('a', 0, { height: 1 })), instant(60)), restoredRecord(savedNode(recordOf('b', 0)), instant(60))], instant(60))
  assert.equal(restored, 1)
  assert.equal(fleet.get('a')?.beat.height, 99)
  assert.equal(fleet.verdict('a')?.status, 'healthy')
  assert.equal(fleet.verdict('b')?.status, 'stale')
})
