import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Alerting } from '../../aggregator/alerts/alerting.ts'
import { AlertEngine } from '../../aggregator/alerts/engine.ts'
import { alertInputFromSnapshot } from '../../aggregator/alerts/input.ts'
import { LeaseLeadership } from '../../aggregator/alerts/leader.ts'
import { builtInRules } from '../../aggregator/alerts/rules.ts'
import { AlertStateStore, MaintenanceStore } from '../../aggregator/alerts/state-store.ts'
import type { AlertNotification } from '../../aggregator/alerts/types.ts'
import type { ClusterBackend, LeaseState } from '../../aggregator/store/backend.ts'
import { SqliteBackend } from '../../aggregator/store/sqlite-backend.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { createLogger } from '../../shared/log.ts'
import { instantOf } from '../../shared/clock.ts'
import { at } from '../support/instant.ts'
import { ManualClock } from '../support/manual-clock.ts'
import { tempDir } from '../support/processes.ts'

const FOR = 1_000
const PEER_A = '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc'
const PEER_B = '12D3KooWGRUVh8q3JqjFdEXEuZEsQ6yUg5anWjNDW4BDFT6b7Dc8'
const quiet = createLogger({ name: 'test', level: 'silent' })
const rules = (): ReturnType<typeof builtInRules> => builtInRules(FOR).filter((r) => r.name === 'NodeDown')
const view = (peerId: string, nickname: string, status: string): Record<string, unknown> => ({ peerId, nickname, status, reason: status, network: 'demo', health: { status: 'ready', components: {} } })
const world = (...nodes: Array<Record<string, unknown>>) => alertInputFromSnapshot({ nodes }, { nodeMaintenance: () => undefined, fleetMaintenance: undefined })
const brief = (ns: AlertNotification[]): string[] => ns.map((n) => `${n.status} ${n.alert.subject.kind === 'node' ? n.alert.subject.nickname : ''}`)

test('the engine carries on from a saved state: what was announced is not announced again, a resolve after the hand-over is', () => {
  const first = new AlertEngine(rules())
  first.evaluate(world(view(PEER_A, 'alpha', 'down'), view(PEER_B, 'bravo', 'healthy')), at(0))
  assert.deepEqual(brief(first.evaluate(world(view(PEER_A, 'alpha', 'down'), view(PEER_B, 'bravo', 'down')), at(1_000))), ['firing alpha'])
  const saved = structuredClone(first.exportState())
  assert.deepEqual(saved.tracked.map((t) => [t.record.subject.kind === 'node' ? t.record.subject.nickname : '', t.record.state, t.announced]), [['alpha', 'firing', true], ['bravo', 'pending', false]])

  const second = new AlertEngine(rules())
  second.importState(saved, { now: at(1_500) })
  // alpha still down: not again; bravo's `for` runs from when it started, not from the hand-over.
  assert.deepEqual(brief(second.evaluate(world(view(PEER_A, 'alpha', 'down'), view(PEER_B, 'bravo', 'down')), at(2_000))), ['firing bravo'])
  assert.deepEqual(brief(second.evaluate(world(view(PEER_A, 'alpha', 'healthy'), view(PEER_B, 'bravo', 'down')), at(3_000))), ['resolved alpha'])
  assert.equal(second.recentlyResolved()[0]?.labels.nickname, 'alpha')

  // An alert whose rule is gone from the new configuration resolves, and says so.
  const third = new AlertEngine([])
  third.importState(second.exportState(), { now: at(3_500) })
  assert.deepEqual(brief(third.evaluate(world(view(PEER_B, 'bravo', 'down')), at(4_000))), ['resolved bravo'])
})

test('new alerts can be held back (a node still expected back after a restart); tracked ones go on', () => {
  const engine = new AlertEngine(rules())
  const admitOnlyAlpha = { admit: (m: { subject: { kind: string, peerId?: string } }) => m.subject.peerId === PEER_A }
  engine.evaluate(world(view(PEER_A, 'alpha', 'down'), view(PEER_B, 'bravo', 'down')), at(0), admitOnlyAlpha)
  assert.deepEqual(brief(engine.evaluate(world(view(PEER_A, 'alpha', 'down'), view(PEER_B, 'bravo', 'down')), at(1_000), admitOnlyAlpha)), ['firing alpha'])
  assert.deepEqual(engine.active().map((a) => a.subject.kind === 'node' ? a.subject.nickname : ''), ['alpha'])
  // Once admitted, bravo's `for` starts then.
  engine.evaluate(world(view(PEER_A, 'alpha', 'down'), view(PEER_B, 'bravo', 'down')), at(2_000))
  assert.deepEqual(brief(engine.evaluate(world(view(PEER_A, 'alpha', 'down'), view(PEER_B, 'bravo', 'down')), at(3_000))), ['firing bravo'])
})

test('the alert state store saves by difference: state changes at once, text at most every 10 s, resolved alerts once; loads skip damaged rows', async () => {
  const backend = await SqliteBackend.open(join(tempDir('hb-alerts-'), 'fleet.sqlite'))
  const time = new ManualClock()
  const store = new AlertStateStore({ backend: () => backend, clock: time })
  const engine = new AlertEngine(rules())
  engine.evaluate(world(view(PEER_A, 'alpha', 'down')), instantOf(time))
  assert.equal(store.diff(engine.exportState())?.upserts.length, 1, 'a new pending alert')
  await store.save(engine.exportState())
  assert.equal(store.diff(engine.exportState()), undefined, 'nothing new')
  time.advance(1_000)
  engine.evaluate(world({ ...view(PEER_A, 'alpha', 'down'), reason: 'down for longer' }), instantOf(time))
  assert.equal(store.diff(engine.exportState())?.upserts.length, 1, 'fired: saved at once')
  await store.save(engine.exportState())
  time.advance(1_000)
  engine.evaluate(world({ ...view(PEER_A, 'alpha', 'down'), reason: 'down for even longer' }), instantOf(time))
  assert.equal(store.diff(engine.exportState()), undefined, 'only the text changed: not yet')
  time.advance(10_000)
  assert.equal(store.diff(engine.exportState())?.upserts.length, 1, 'the text, 10 s later')
  await store.save(engine.exportState())
  engine.evaluate(world(view(PEER_A, 'alpha', 'healthy')), instantOf(time))
  const change = store.diff(engine.exportState())
  assert.deepEqual([change?.upserts.length, change?.deletes, change?.resolved.length], [0, [engine.recentlyResolved()[0]?.id], 1])
  await store.save(engine.exportState())
  assert.equal(store.diff(engine.exportState()), undefined)

  backend.db.prepare("INSERT INTO alert_state (id, body, updated_at) VALUES ('broken', '{not json', 0), ('wrong', '{\"record\": {}}', 0)").run()
  const loaded = await new AlertStateStore({ backend: () => backend, clock: time }).load()
  assert.deepEqual(loaded?.tracked, [])
  assert.equal(loaded?.resolved.length, 1)
  await backend.close()
})

test('maintenance windows in the store: the newest change per scope wins, an end is kept as an end', async () => {
  const backend = await SqliteBackend.open(join(tempDir('hb-alerts-'), 'fleet.sqlite'))
  const time = new ManualClock({ wallStart: 1_000, monoStart: 1_000 })
  const here = new MaintenanceStore({ backend: () => backend, clock: time })
  const there = new MaintenanceStore({ backend: () => backend, clock: time })
  here.changed({ peerId: PEER_A }, { until: 5_000, untilMono: 5_000, reason: 'disk swap', source: 'admin', since: 1_000 }, at(1_000))
  here.changed({ fleet: true }, { until: 9_000, untilMono: 9_000, reason: 'upgrade', source: 'admin', since: 1_000 }, at(1_000))
  await here.flush()
  assert.equal(here.pendingCount, 0)
  assert.deepEqual((await there.read()).map((w) => `${'fleet' in w.scope ? 'fleet' : w.scope.peerId} ${w.window?.reason ?? ''}`).sort(), [`${PEER_A} disk swap`, 'fleet upgrade'])
  assert.deepEqual(await there.read(), [], 'nothing new on a second read')
  // Ended elsewhere later: the end reaches here; a late copy of the old window does not bring it back.
  there.changed({ peerId: PEER_A }, undefined, at(2_000))
  await there.flush()
  assert.deepEqual(await here.read(), [{ scope: { peerId: PEER_A }, window: undefined }])
  await backend.saveMaintenance([{ scope: `node:${PEER_A}`, until: 5_000, reason: 'disk swap', since: 1_000, setAt: 1_000, ended: false }])
  assert.deepEqual((await backend.loadMaintenance()).find((w) => w.scope === `node:${PEER_A}`)?.ended, true)
  await backend.close()
})

/** A lease in memory, judged on a clock of its own (the database's). */
function fakeLeases (dbClock: ManualClock): ClusterBackend & { cut: Set<string> } {
  let lease: Omit<LeaseState, 'held' | 'now'> | undefined
  const fake = {
    /** Aggregators that cannot reach the store. */
    cut: new Set<string>(),
    async acquireLease (_name: string, holder: { id: string, runId: string }, ttlMs: number): Promise<LeaseState> {
      if (fake.cut.has(holder.id)) throw new Error('connect ECONNREFUSED')
      const now = dbClock.wall()
      const mine = lease !== undefined && lease.holder === holder.id && lease.runId === holder.runId
      if (lease === undefined || mine || lease.expiresAt < now) {
        lease = { holder: holder.id, runId: holder.runId, term: mine ? lease!.term : (lease?.term ?? 0) + 1, acquiredAt: mine ? lease!.acquiredAt : now, expiresAt: now + ttlMs }
        return { ...lease, held: true, now }
      }
      return { ...lease, held: false, now }
    },
    async releaseLease (_name: string, holder: { id: string, runId: string }): Promise<void> {
      if (lease?.holder === holder.id && lease.runId === holder.runId) lease = { ...lease, expiresAt: 0 }
    },
    rosterSince: async () => [],
    renewMember: async () => ({ now: 0, members: [] }),
    stopMember: async () => {},
  }
  return fake
}

test('the alerting lease: one leader at a time, another takes over within two lease periods, a leader cut off stops before its lease can run out', async () => {
  const time = new ManualClock()
  const leases = fakeLeases(time)
  const a = new LeaseLeadership({ backend: leases, writer: { id: 'a', runId: 'r1' }, clock: time, logger: quiet, ttlMs: 6_000, renewMs: 2_000 })
  const b = new LeaseLeadership({ backend: leases, writer: { id: 'b', runId: 'r1' }, clock: time, logger: quiet, ttlMs: 6_000, renewMs: 2_000 })
  const events: string[] = []
  a.subscribe((l) => { events.push(`a ${l}`) })
  b.subscribe((l) => { events.push(`b ${l}`) })
  await a.start()
  await b.start()
  assert.deepEqual([a.leading, b.leading, b.holder()], [true, false, 'a'])
  for (let i = 0; i < 5; i++) await time.advanceAsync(2_000)
  assert.deepEqual([a.leading, b.leading], [true, false], 'renewed, kept')

  // a is cut off from the store: it stops leading at its own deadline (lease 6 s less 1 s of margin), before b may take over.
  const cutAt = time.monotonic()
  leases.cut.add('a')
  let aStoppedAfter: number | undefined
  let bLeadsAfter: number | undefined
  for (let t = 0; t <= 14_000; t += 100) {
    await time.advanceAsync(100)
    if (aStoppedAfter === undefined && !a.leading) aStoppedAfter = time.monotonic() - cutAt
    if (bLeadsAfter === undefined && b.leading) bLeadsAfter = time.monotonic() - cutAt
    assert.ok(!(a.leading && b.leading), 'never two leaders')
  }
  assert.ok(aStoppedAfter !== undefined && bLeadsAfter !== undefined)
  assert.ok(aStoppedAfter < bLeadsAfter, `a stopped after ${aStoppedAfter} ms, b led after ${bLeadsAfter} ms: never both`)
  assert.ok(bLeadsAfter <= 12_000, `b took over within two lease periods (${bLeadsAfter} ms)`)
  assert.deepEqual(events, ['a true', 'a false', 'b true'])
  await b.stop()
})

test('a leader that lets go (a clean stop) is followed at once', async () => {
  const time = new ManualClock()
  const leases = fakeLeases(time)
  const a = new LeaseLeadership({ backend: leases, writer: { id: 'a', runId: 'r1' }, clock: time, logger: quiet })
  const b = new LeaseLeadership({ backend: leases, writer: { id: 'b', runId: 'r1' }, clock: time, logger: quiet })
  await a.start()
  await b.start()
  await a.stop()
  assert.equal(a.leading, false)
  await time.advanceAsync(2_000)
  assert.equal(b.leading, true)
  await b.stop()
})

test('with a shared store, notifications wait for their state to be saved; a failed save holds them, a lost lease drops them', async () => {
  let save: (() => Promise<void>) = async () => {}
  let leading = true
  const delivered: string[] = []
  const alerting = new Alerting({
    config: { rules: rules(), receivers: [] },
    snapshot: () => ({ nodes: [view(PEER_A, 'alpha', downNow ? 'down' : 'healthy')] }),
    announcedMaintenance: () => undefined,
    source: { peerId: () => 'p', publicUrl: () => 'http://x' },
    logger: quiet,
    leading: () => leading,
    persist: { save: async () => { await save() }, durable: true },
  })
  alerting.receivers.push({ kind: 'test', target: 'memory', notify: (n: AlertNotification) => { delivered.push(`${n.status} ${n.alert.name}`) }, stats: () => ({ sent: 0, failed: 0, dropped: 0, retries: 0, queued: 0 }), stop: async () => {} } as never)
  let downNow = true
  alerting.evaluate(at(0))
  // The save fails (the store is away): the firing notice waits.
  save = async () => { throw new Error('connection refused') }
  alerting.evaluate(at(1_000))
  await alerting.settled()
  assert.deepEqual(delivered, [])
  // The store is back: the notice goes out after the save.
  let saves = 0
  save = async () => { saves++ }
  alerting.evaluate(at(2_000))
  await alerting.settled()
  assert.deepEqual(delivered, ['firing NodeDown'])
  assert.ok(saves >= 1)
  // The lease is lost while a save runs: the resolve is the next leader's to announce.
  downNow = false
  save = async () => { leading = false; throw new HeartbeatError(ErrorCodes.LEASE_LOST, 'lost') }
  alerting.evaluate(at(3_000))
  await alerting.settled()
  assert.deepEqual(delivered, ['firing NodeDown'])
  // A follower does not evaluate at all.
  alerting.evaluate(at(4_000))
  await alerting.settled()
  assert.deepEqual(delivered, ['firing NodeDown'])
})
