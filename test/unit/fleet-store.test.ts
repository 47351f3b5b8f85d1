import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { instantOf } from '../../shared/clock.ts'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { FleetStore, type StoreSettings } from '../../aggregator/store/index.ts'
import type { StoreBackend, StoredWindow } from '../../aggregator/store/backend.ts'
import { sampleHeartbeat } from '../support/fixtures.ts'
import { ManualClock } from '../support/manual-clock.ts'
import { STORE_BACKENDS, type StoreBackendHarness, type StoreLocation } from '../support/store-backends.ts'

const MIN = 60_000
const DAY = 24 * 60 * MIN
const WRITER = { id: 'test-aggregator', runId: 'run-1' }
const beat = (peerId: string, seq: number, overrides = {}) => ({ type: 'beat' as const, peerId, protocol: 'v2' as const, heartbeat: sampleHeartbeat({ seq, nickname: peerId, period: 1000, head: `{head-${seq}}`, ...overrides }) })

async function openStore (location: StoreLocation, time: ManualClock, settings: Partial<StoreSettings> = {}, runId = WRITER.runId): Promise<{ store: FleetStore, fleet: FleetState }> {
  const store = new FleetStore({ ...location.opener, writer: { ...WRITER, runId }, clock: time, flushIntervalMs: 1000, sampleIntervalMs: MIN, random: () => 0.5, ...settings })
  const fleet = new FleetState()
  await store.attach(fleet)
  return { store, fleet }
}

/** Moves the clock and waits for the write (or prune) its timers started. */
async function advance (time: ManualClock, store: FleetStore, ms: number): Promise<void> {
  time.advance(ms)
  await store.idle()
}

// One suite, two backends: the store keeps the same history, uptime and retention on both.
for (const backend of STORE_BACKENDS) {
  describe(`the fleet store on ${backend.name}`, () => {
    let harness: StoreBackendHarness
    before(async () => { harness = await backend.start() })
    after(async () => { await harness.close() })

    test('ingest only touches memory; one flush per interval writes the latest state, samples at most once a minute', async (t) => {
      const location = await harness.fresh()
      const time = new ManualClock()
      const { store, fleet } = await openStore(location, time)
      t.after(async () => { await store.close() })
      // Two nodes beating every 100 ms for 900 ms: 18 beats.
      for (let i = 0; i < 9; i++) {
        fleet.apply(beat('a', i, { height: 100 + i }), instantOf(time))
        fleet.apply(beat('b', i, { height: 100 + i }), instantOf(time))
        await advance(time, store, 100)
      }
      if (backend.name === 'sqlite') {
        assert.equal(await location.count('nodes'), 0, 'nothing stored before the interval ends')
      } else {
        // A shared store hears of a new connection at once (other aggregators follow it); the beats since wait for the interval.
        const early = await location.rows<{ last_beat: string }>('SELECT last_beat FROM nodes ORDER BY peer_id')
        assert.deepEqual(early.map((r) => JSON.parse(r.last_beat).height), [100, 100], 'the first beats, written early; none of the later ones')
      }
      await advance(time, store, 100)
      assert.equal(await location.count('nodes'), 2)
      assert.equal(await location.count('status_changes'), 2, 'each node turned healthy once')
      assert.equal(await location.count('height_samples'), 2, 'one sample per node, not one per beat')
      const [row] = await location.rows<{ last_beat: string, status: string, holder: string }>("SELECT last_beat, status, holder FROM nodes WHERE peer_id = 'a'")
      assert.equal(JSON.parse(row?.last_beat ?? '{}').height, 108, 'the latest beat, not the first')
      assert.equal(row?.status, 'healthy')
      assert.equal(row?.holder, WRITER.id, 'the row says which aggregator holds the node')

      // A minute of beats later: one more sample per node.
      for (let i = 9; i < 9 + 60; i++) {
        fleet.apply(beat('a', i, { height: 100 + i }), instantOf(time))
        await advance(time, store, 1000)
      }
      assert.equal(await location.count('height_samples', "peer_id = 'a'"), 2)
    })

    test('after a restart every known node is back, stale with a reason, and its history and uptime carry on', async () => {
      const location = await harness.fresh()
      const time = new ManualClock()
      const first = await openStore(location, time)
      for (let i = 0; i < 30; i++) {
        first.fleet.apply(beat('a', i, { height: i }), instantOf(time))
        first.fleet.apply(beat('b', i, { height: i }), instantOf(time))
        await advance(time, first.store, 1000)
      }
      first.fleet.apply({ type: 'disconnected', peerId: 'b' }, instantOf(time))
      await advance(time, first.store, 2000)
      first.fleet.tick(instantOf(time))
      assert.equal(first.fleet.verdict('b')?.status, 'down')
      await advance(time, first.store, 1000)
      await first.store.close()

      time.advance(5 * MIN) // the aggregator is away
      const second = await openStore(location, time, {}, 'run-2')
      assert.deepEqual([...second.fleet.nodes()].map((r) => r.peerId).sort(), ['a', 'b'])
      for (const peer of ['a', 'b']) {
        assert.equal(second.fleet.verdict(peer)?.status, 'stale')
        assert.match(second.fleet.verdict(peer)?.reason ?? '', /^not heard from since the aggregator restarted; last heartbeat \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/)
      }
      assert.equal(second.fleet.get('a')?.beat.height, 29)
      second.fleet.apply(beat('a', 30, { height: 30 }), instantOf(time))
      assert.equal(second.fleet.verdict('a')?.status, 'healthy')
      time.advance(MIN)
      await second.store.flush()

      const a = await second.store.nodeHistory('a', time.wall() - 60 * MIN, time.wall())
      assert.deepEqual(a.statuses.map((s) => [s.from, s.to]), [[null, 'healthy'], ['healthy', 'stale'], ['stale', 'healthy']])
      assert.ok(a.heights.length >= 2, 'samples from both runs')
      const b = await second.store.nodeHistory('b', time.wall() - 60 * MIN, time.wall())
      assert.deepEqual(b.statuses.map((s) => [s.from, s.to]), [[null, 'healthy'], ['healthy', 'degraded'], ['degraded', 'down'], ['down', 'stale']])
      // a: up 30 s of the first run, then silent for its last 3 s (phi calls it stale after about two
      // periods, so about 1 s counts as down), then up a minute. The 5 minutes away do not count.
      const uptime = await second.store.uptime('a')
      assert.ok(uptime.hour !== null && uptime.hour > 0.98 && uptime.hour < 1, `a's uptime ${uptime.hour}`)
      // b: up 30 s, then degraded/down/stale for 3 s + the minute since the restart.
      const bUp = await second.store.uptime('b')
      assert.ok(bUp.hour !== null && bUp.hour > 0.3 && bUp.hour < 0.4, `b's uptime ${bUp.hour}`)
      await second.store.refreshFleetUptimes()
      assert.deepEqual(second.store.uptimeFor('b', 'fleet'), bUp, 'the fleet list computes the same values in one pass')
      await second.store.prepareNodeUptime('b')
      assert.deepEqual(second.store.uptimeFor('b', 'node'), bUp, 'a node\'s own route gets a fresh value')
      await second.store.close()

      // A second restart with b still gone: b stays stale, and the log gains no "stale -> stale".
      const third = await openStore(location, time, {}, 'run-3')
      await third.store.close()
      assert.equal(await location.count('status_changes', "peer_id = 'b'"), 4)
    })

    test('retention: a maintenance window is kept until the retention after it runs out, an open-ended one always', async (t) => {
      const location = await harness.fresh()
      const time = new ManualClock()
      const { store } = await openStore(location, time, { retentionMs: 2 * DAY })
      t.after(async () => { await store.close() })
      const backend = await new Promise<StoreBackend>((resolve) => { store.whenOpen(resolve) })
      const now = time.wall()
      const window = (scope: string, until: number | undefined): StoredWindow => ({ scope, until, reason: 'disk swap', since: now - 4 * DAY, setAt: now - 4 * DAY, ended: false })
      await backend.saveMaintenance([
        window('node:ran-out-3-days-ago', now - 3 * DAY),
        window('node:ran-out-yesterday', now - DAY),
        window('fleet', undefined),
      ])
      await store.prune()
      assert.deepEqual((await backend.loadMaintenance()).map((w) => w.scope).sort(), ['fleet', 'node:ran-out-yesterday'])
    })

    test('retention: old samples and changes are pruned, but each node keeps the change in force at the cutoff', async (t) => {
      const location = await harness.fresh()
      const time = new ManualClock()
      const recording = await openStore(location, time, { retentionMs: 30 * DAY, sampleIntervalMs: 1000, flushIntervalMs: MIN })
      const { fleet } = recording
      // Day 0: a turns healthy, unhealthy, healthy again; then it goes quiet and comes back once a day for 4 days.
      fleet.apply(beat('a', 0), instantOf(time))
      await advance(time, recording.store, 1000)
      fleet.apply(beat('a', 1, { health: { status: 'not_ready', components: {} } }), instantOf(time))
      await advance(time, recording.store, 1000)
      fleet.apply(beat('a', 2), instantOf(time))
      for (let day = 1; day <= 4; day++) {
        await advance(time, recording.store, DAY)
        fleet.tick(instantOf(time))
        fleet.apply(beat('a', 2 + day), instantOf(time))
      }
      await recording.store.close()
      assert.equal(await location.count('status_changes'), 3 + 8, 'each daily silence turned it stale and the beat healthy again')
      const samplesBefore = await location.count('height_samples')

      // Reopened with a 2-day retention: pruned at once.
      const { store } = await openStore(location, time, { retentionMs: 2 * DAY, sampleIntervalMs: 1000 }, 'run-2')
      t.after(async () => { await store.close() })
      const pruned = store.health().details as { lastPrune: { samples: number, transitions: number } }
      const cutoff = time.wall() - 2 * DAY
      assert.equal(await location.count('height_samples', `at < ${cutoff}`), 0)
      assert.equal(await location.count('height_samples'), samplesBefore - pruned.lastPrune.samples)
      assert.equal(pruned.lastPrune.samples, 4, 'the three day-0 samples and the day-1 one')
      assert.equal(await location.count('status_changes', `at < ${cutoff}`), 1, 'only the change in force at the cutoff is kept from before it')
      // Before the cutoff: day 0's three changes and day 1's two (day 2's fall exactly on it); the last of them stays.
      assert.equal(pruned.lastPrune.transitions, 3 + 2 - 1)
      assert.equal(await location.count('nodes'), 1, 'the roster is never pruned')
      // The kept change still tells the status at the window's start.
      const history = await store.nodeHistory('a', cutoff, time.wall())
      assert.equal(history.statusAtSince?.to, 'healthy')
      assert.notEqual((await store.uptime('a')).day, null)
    })

    test('pruning runs by itself on a timer', async (t) => {
      const location = await harness.fresh()
      const time = new ManualClock()
      const { store, fleet } = await openStore(location, time, { retentionMs: 5 * MIN, sampleIntervalMs: 1000 })
      t.after(async () => { await store.close() })
      fleet.apply(beat('a', 0), instantOf(time))
      await advance(time, store, 1000)
      assert.equal(await location.count('height_samples'), 1)
      for (let m = 0; m < 20; m++) await advance(time, store, MIN)
      assert.equal(await location.count('height_samples'), 0)
    })

    test('health: ready with details while writes land', async () => {
      const location = await harness.fresh()
      const time = new ManualClock()
      const { store, fleet } = await openStore(location, time)
      fleet.apply(beat('a', 0), instantOf(time))
      await advance(time, store, 1000)
      const health = store.health()
      assert.equal(health.status, 'ready')
      assert.equal((health.details as any).backend, backend.name)
      assert.equal((health.details as any).location, location.opener.location)
      assert.equal((health.details as any).lastError, null)
      assert.ok((health.details as any).lastFlushAt !== null)
      await store.close()
      assert.equal(store.health().status, 'shut_down')
    })

    test('health: affected while another connection holds the store, not_ready past the bound, ready again once it lets go, nothing lost', async (t) => {
      const location = await harness.fresh()
      const time = new ManualClock()
      const { store, fleet } = await openStore(location, time, { notReadyAfterMs: 10_000 })
      t.after(async () => { await store.close() })
      const release = await location.blockWrites()
      let released = false
      t.after(async () => { if (!released) await release() })
      fleet.apply(beat('a', 0), instantOf(time))
      // SQLite refuses at once (busy); PostgreSQL makes the write wait for the lock.
      time.advance(1000)
      if (backend.name === 'sqlite') await store.idle()
      time.advance(3500)
      if (backend.name === 'sqlite') await store.idle()
      const blocked = store.health()
      assert.equal(blocked.status, 'affected', JSON.stringify(blocked))
      if (backend.name === 'sqlite') assert.match(String((blocked.details as any).lastError), /locked|busy/i)
      else assert.ok((blocked.details as any).waitingForMs >= 3000)
      assert.equal((blocked.details as any).pending.transitions + (backend.name === 'sqlite' ? 0 : 1), 1, 'the change waits in memory')
      time.advance(8000)
      assert.equal(store.health().status, 'not_ready', 'nothing written for longer than the bound')
      await release()
      released = true
      await store.idle()
      await advance(time, store, 10_000)
      await store.flush()
      assert.equal(store.health().status, 'ready')
      assert.equal(await location.count('nodes'), 1)
      assert.equal(await location.count('status_changes'), 1)
    })

    test('a long history answer is bounded: heights are thinned into even buckets, the latest status changes kept', async (t) => {
      const location = await harness.fresh()
      const time = new ManualClock()
      const { store, fleet } = await openStore(location, time, { sampleIntervalMs: 1000, flushIntervalMs: 10 * MIN })
      t.after(async () => { await store.close() })
      const start = time.wall()
      // Three hours of one beat a second (10 800 samples), unhealthy every other minute (180 changes).
      for (let s = 0; s < 3 * 3600; s++) {
        const sick = Math.floor(s / 60) % 2 === 1
        fleet.apply(beat('a', s, { height: s, health: { status: sick ? 'not_ready' : 'ready', components: {} } }), instantOf(time))
        time.advance(1000)
        if (s % 600 === 599) await store.idle()
      }
      await store.flush()
      assert.equal(await location.count('height_samples'), 3 * 3600)
      const all = await store.nodeHistory('a', start, time.wall())
      assert.ok(all.heights.length <= 2000, `${all.heights.length} points`)
      assert.ok(all.heights.length >= 1900, `${all.heights.length} points still draw the whole range`)
      assert.equal(all.bucketMs, Math.ceil((3 * 3600 * 1000 + 1) / 1999))
      assert.equal(all.heights.at(-1)?.height, 3 * 3600 - 1, 'the last point is the latest sample')
      assert.equal(all.statuses.length, 180)
      assert.equal(all.statusesTruncated, false)
      // A one-minute window is not thinned.
      const minute = await store.nodeHistory('a', start + 3600_000, start + 3600_000 + MIN - 1)
      assert.equal(minute.heights.length, 60)
      assert.equal(minute.bucketMs, 1000)
    })

    test('a node that flaps more than an answer holds: the latest changes, flagged truncated', async (t) => {
      const location = await harness.fresh()
      const time = new ManualClock()
      const { store, fleet } = await openStore(location, time, { flushIntervalMs: 10 * MIN })
      t.after(async () => { await store.close() })
      const start = time.wall()
      for (let s = 0; s < 1010; s++) {
        fleet.apply(beat('a', s, { health: { status: s % 2 === 1 ? 'not_ready' : 'ready', components: {} } }), instantOf(time))
        time.advance(1000)
        if (s % 600 === 599) await store.idle()
      }
      await store.flush()
      const history = await store.nodeHistory('a', start, time.wall())
      assert.equal(history.statuses.length, 1000)
      assert.equal(history.statusesTruncated, true)
      assert.equal(history.statuses.at(-1)?.at, start + 1009 * 1000, 'the latest change is in')
      assert.equal(history.statuses[0]?.at, start + 10 * 1000, 'the oldest ten are left out')
    })

    test('the fleet log pages newest first, cursor to cursor, exactly once', async (t) => {
      const location = await harness.fresh()
      const time = new ManualClock()
      const { store, fleet } = await openStore(location, time)
      t.after(async () => { await store.close() })
      for (let s = 0; s < 12; s++) {
        fleet.apply(beat(`n${s % 3}`, s, { health: { status: s % 2 === 1 ? 'not_ready' : 'ready', components: {} } }), instantOf(time))
        // Two changes at the same instant tie on time: ids break the tie.
        if (s % 4 !== 3) time.advance(500)
      }
      await store.flush()
      const all = await store.fleetHistory(0, time.wall(), 1000, undefined)
      const keys = all.changes.map((c) => [c.at, c.id] as const)
      assert.deepEqual(keys, [...keys].sort((x, y) => y[0] - x[0] || y[1] - x[1]), 'newest first, ties by id')
      const paged: number[] = []
      let cursor: Awaited<ReturnType<FleetStore['fleetHistory']>>['next']
      do {
        const page = await store.fleetHistory(0, time.wall(), 2, cursor)
        paged.push(...page.changes.map((c) => c.id))
        cursor = page.next
      } while (cursor !== undefined)
      assert.deepEqual(paged, all.changes.map((c) => c.id))
      assert.ok(all.changes.every((c) => c.nickname === c.peerId), 'nicknames joined from the roster')
    })
  })
}
