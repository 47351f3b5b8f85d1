import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { FleetStore } from '../../aggregator/store/index.ts'
import { sampleHeartbeat } from '../support/fixtures.ts'
import { ManualClock } from '../support/manual-clock.ts'
import { tempDir } from '../support/processes.ts'
import { at } from '../support/instant.ts'

const MIN = 60_000
const DAY = 24 * 60 * MIN
const beat = (peerId: string, seq: number, overrides = {}) => ({ type: 'beat' as const, peerId, protocol: 'v2' as const, heartbeat: sampleHeartbeat({ seq, nickname: peerId, period: 1000, head: `{head-${seq}}`, ...overrides }) })

async function openStore (file: string, time: ManualClock, settings = {}): Promise<{ store: FleetStore, fleet: FleetState }> {
  const store = await FleetStore.open({ file, clock: time, flushIntervalMs: 1000, sampleIntervalMs: MIN, ...settings })
  const fleet = new FleetState()
  store.attach(fleet)
  return { store, fleet }
}

/** A second connection, as another process would see the file. */
function count (file: string, table: string, where = '1'): number {
  const db = new DatabaseSync(file, { readOnly: true })
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }).n
  } finally {
    db.close()
  }
}

test('ingest only touches memory; one flush per interval writes the latest state, samples at most once a minute', async (t) => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const time = new ManualClock()
  const { store, fleet } = await openStore(file, time)
  t.after(() => { store.close() })
  // Two nodes beating every 100 ms for 900 ms: 18 beats.
  for (let i = 0; i < 9; i++) {
    fleet.apply(beat('a', i, { height: 100 + i }), at(time.wall()))
    fleet.apply(beat('b', i, { height: 100 + i }), at(time.wall()))
    time.advance(100)
  }
  assert.equal(count(file, 'nodes'), 0, 'nothing on disk before the interval ends')
  time.advance(100)
  assert.equal(count(file, 'nodes'), 2)
  assert.equal(count(file, 'status_changes'), 2, 'each node turned healthy once')
  assert.equal(count(file, 'height_samples'), 2, 'one sample per node, not one per beat')
  const db = new DatabaseSync(file, { readOnly: true })
  const row = db.prepare("SELECT last_seen, last_beat, status FROM nodes WHERE peer_id = 'a'").get() as { last_seen: number, last_beat: string, status: string }
  db.close()
  assert.equal(JSON.parse(row.last_beat).height, 108, 'the latest beat, not the first')
  assert.equal(row.status, 'healthy')

  // A minute of beats later: one more sample per node.
  for (let i = 9; i < 9 + 60; i++) {
    fleet.apply(beat('a', i, { height: 100 + i }), at(time.wall()))
    time.advance(1000)
  }
  assert.equal(count(file, 'height_samples', "peer_id = 'a'"), 2)
})

test('after a restart every known node is back, stale with a reason, and its history and uptime carry on', async () => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const time = new ManualClock()
  const first = await openStore(file, time)
  for (let i = 0; i < 30; i++) {
    first.fleet.apply(beat('a', i, { height: i }), at(time.wall()))
    first.fleet.apply(beat('b', i, { height: i }), at(time.wall()))
    time.advance(1000)
  }
  first.fleet.apply({ type: 'disconnected', peerId: 'b' }, at(time.wall()))
  time.advance(2000)
  first.fleet.tick(at(time.wall()))
  assert.equal(first.fleet.verdict('b')?.status, 'down')
  time.advance(1000)
  first.store.close()

  time.advance(5 * MIN) // the aggregator is away
  const second = await openStore(file, time)
  assert.deepEqual([...second.fleet.nodes()].map((r) => r.peerId).sort(), ['a', 'b'])
  for (const peer of ['a', 'b']) {
    assert.equal(second.fleet.verdict(peer)?.status, 'stale')
    assert.match(second.fleet.verdict(peer)?.reason ?? '', /^not heard from since the aggregator restarted; last heartbeat \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/)
  }
  assert.equal(second.fleet.get('a')?.beat.height, 29)
  second.fleet.apply(beat('a', 30, { height: 30 }), at(time.wall()))
  assert.equal(second.fleet.verdict('a')?.status, 'healthy')
  time.advance(MIN)
  second.store.flush()

  const a = second.store.nodeHistory('a', time.wall() - 60 * MIN, time.wall())
  assert.deepEqual(a.statuses.map((s) => [s.from, s.to]), [[null, 'healthy'], ['healthy', 'stale'], ['stale', 'healthy']])
  assert.ok(a.heights.length >= 2, 'samples from both runs')
  const b = second.store.nodeHistory('b', time.wall() - 60 * MIN, time.wall())
  assert.deepEqual(b.statuses.map((s) => [s.from, s.to]), [[null, 'healthy'], ['healthy', 'degraded'], ['degraded', 'down'], ['down', 'stale']])
  // a: up 30 s of the first run, then silent for its last 3 s (phi calls it stale after about two
  // periods, so about 1 s counts as down), then up a minute. The 5 minutes away do not count.
  const uptime = second.store.uptime('a')
  assert.ok(uptime.hour !== null && uptime.hour > 0.98 && uptime.hour < 1, `a's uptime ${uptime.hour}`)
  // b: up 30 s, then degraded/down/stale for 3 s + the minute since the restart.
  const bUp = second.store.uptime('b')
  assert.ok(bUp.hour !== null && bUp.hour > 0.3 && bUp.hour < 0.4, `b's uptime ${bUp.hour}`)
  assert.deepEqual(second.store.cachedUptime('b'), bUp)
  second.store.close()

  // A second restart with b still gone: b stays stale, and the log gains no "stale -> stale".
  const third = await openStore(file, time)
  third.store.close()
  assert.equal(count(file, 'status_changes', "peer_id = 'b'"), 4)
})

test('retention: old samples and changes are pruned, but each node keeps the change in force at the cutoff', async (t) => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const time = new ManualClock()
  const recording = await openStore(file, time, { retentionMs: 30 * DAY, sampleIntervalMs: 1000, flushIntervalMs: MIN })
  const { fleet } = recording
  // Day 0: a turns healthy, unhealthy, healthy again; then it goes quiet and comes back once a day for 4 days.
  fleet.apply(beat('a', 0), at(time.wall()))
  time.advance(1000)
  fleet.apply(beat('a', 1, { health: { status: 'not_ready', components: {} } }), at(time.wall()))
  time.advance(1000)
  fleet.apply(beat('a', 2), at(time.wall()))
  for (let day = 1; day <= 4; day++) {
    time.advance(DAY)
    fleet.tick(at(time.wall()))
    fleet.apply(beat('a', 2 + day), at(time.wall()))
  }
  recording.store.close()
  assert.equal(count(file, 'status_changes'), 3 + 8, 'each daily silence turned it stale and the beat healthy again')
  const samplesBefore = count(file, 'height_samples')

  // Reopened with a 2-day retention: pruned at once.
  const { store } = await openStore(file, time, { retentionMs: 2 * DAY, sampleIntervalMs: 1000 })
  t.after(() => { store.close() })
  const pruned = store.health().details as { lastPrune: { samples: number, transitions: number } }
  const cutoff = time.wall() - 2 * DAY
  assert.equal(count(file, 'height_samples', `at < ${cutoff}`), 0)
  assert.equal(count(file, 'height_samples'), samplesBefore - pruned.lastPrune.samples)
  assert.equal(pruned.lastPrune.samples, 4, 'the three day-0 samples and the day-1 one')
  assert.equal(count(file, 'status_changes', `at < ${cutoff}`), 1, 'only the change in force at the cutoff is kept from before it')
  // Before the cutoff: day 0's three changes and day 1's two (day 2's fall exactly on it); the last of them stays.
  assert.equal(pruned.lastPrune.transitions, 3 + 2 - 1)
  assert.equal(count(file, 'nodes'), 1, 'the roster is never pruned')
  // The kept change still tells the status at the window's start.
  const history = store.nodeHistory('a', cutoff, time.wall())
  assert.equal(history.statusAtSince?.to, 'healthy')
  assert.notEqual(store.uptime('a').day, null)
})

test('pruning runs by itself on a timer', async (t) => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const time = new ManualClock()
  const { store, fleet } = await openStore(file, time, { retentionMs: 5 * MIN, sampleIntervalMs: 1000 })
  t.after(() => { store.close() })
  fleet.apply(beat('a', 0), at(time.wall()))
  time.advance(1000)
  assert.equal(count(file, 'height_samples'), 1)
  time.advance(20 * MIN)
  assert.equal(count(file, 'height_samples'), 0)
})

test('health: ready with details while writes land', async () => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const time = new ManualClock()
  const { store, fleet } = await openStore(file, time)
  fleet.apply(beat('a', 0), at(time.wall()))
  time.advance(1000)
  const health = store.health()
  assert.equal(health.status, 'ready')
  assert.equal((health.details as any).file, file)
  assert.equal((health.details as any).lastError, null)
  assert.ok((health.details as any).lastFlushAt !== null)
  store.close()
  assert.equal(store.health().status, 'shut_down')
})

test('health: affected while another writer holds the file, ready again once it lets go, nothing lost', async (t) => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const time = new ManualClock()
  const { store, fleet } = await openStore(file, time)
  t.after(() => { store.close() })
  const other = new DatabaseSync(file)
  other.exec('BEGIN IMMEDIATE')
  fleet.apply(beat('a', 0), at(time.wall()))
  time.advance(1000)
  const blocked = store.health()
  assert.equal(blocked.status, 'affected')
  assert.match(String((blocked.details as any).lastError), /locked|busy/i)
  assert.equal((blocked.details as any).pending.transitions, 1)
  other.exec('ROLLBACK')
  other.close()
  time.advance(1000)
  assert.equal(store.health().status, 'ready')
  assert.equal(count(file, 'nodes'), 1)
  assert.equal(count(file, 'status_changes'), 1)
})

test('a long history answer is bounded: heights are thinned into even buckets, the latest status changes kept', async (t) => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const time = new ManualClock()
  const { store, fleet } = await openStore(file, time, { sampleIntervalMs: 1000, flushIntervalMs: 10 * MIN })
  t.after(() => { store.close() })
  const start = time.wall()
  // Three hours of one beat a second (10 800 samples), unhealthy every other minute (180 changes).
  for (let s = 0; s < 3 * 3600; s++) {
    const sick = Math.floor(s / 60) % 2 === 1
    fleet.apply(beat('a', s, { height: s, health: { status: sick ? 'not_ready' : 'ready', components: {} } }), at(time.wall()))
    time.advance(1000)
  }
  store.flush()
  assert.equal(count(file, 'height_samples'), 3 * 3600)
  const all = store.nodeHistory('a', start, time.wall())
  assert.ok(all.heights.length <= 2000, `${all.heights.length} points`)
  assert.ok(all.heights.length >= 1900, `${all.heights.length} points still draw the whole range`)
  assert.equal(all.bucketMs, Math.ceil((3 * 3600 * 1000 + 1) / 1999))
  assert.equal(all.heights.at(-1)?.height, 3 * 3600 - 1, 'the last point is the latest sample')
  assert.equal(all.statuses.length, 180)
  assert.equal(all.statusesTruncated, false)
  // A one-minute window is not thinned.
  const minute = store.nodeHistory('a', start + 3600_000, start + 3600_000 + MIN - 1)
  assert.equal(minute.heights.length, 60)
  assert.equal(minute.bucketMs, 1000)
})

test('a node that flaps more than an answer holds: the latest changes, flagged truncated', async (t) => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const time = new ManualClock()
  const { store, fleet } = await openStore(file, time, { flushIntervalMs: 10 * MIN })
  t.after(() => { store.close() })
  const start = time.wall()
  for (let s = 0; s < 1010; s++) {
    fleet.apply(beat('a', s, { health: { status: s % 2 === 1 ? 'not_ready' : 'ready', components: {} } }), at(time.wall()))
    time.advance(1000)
  }
  store.flush()
  const history = store.nodeHistory('a', start, time.wall())
  assert.equal(history.statuses.length, 1000)
  assert.equal(history.statusesTruncated, true)
  assert.equal(history.statuses.at(-1)?.at, start + 1009 * 1000, 'the latest change is in')
  assert.equal(history.statuses[0]?.at, start + 10 * 1000, 'the oldest ten are left out')
})
