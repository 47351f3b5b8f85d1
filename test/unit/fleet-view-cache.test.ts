import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { STATUS_TICK_MS } from '../../aggregator/constants.ts'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { fleetViews, type NodeView } from '../../aggregator/fleet/view.ts'
import { entryJson, FleetViewCache } from '../../aggregator/http/fleet-view-cache.ts'
import { HEALTH_DETAILS_ONLY, type NodeChange, TIME_MOVED_FIELDS } from '../../aggregator/http/view-delta.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { heartbeat } from '../support/heartbeats.ts'
import { instantOf } from '../../shared/clock.ts'
import { ManualClock } from '../support/manual-clock.ts'

const MAX_AGE = 5_000
/** One status tick. */
const TICK = STATUS_TICK_MS

function setup (decorate: (view: NodeView) => NodeView = (v) => v): { clock: ManualClock, fleet: FleetState, cache: FleetViewCache, beat: (peerId: string, hb?: Partial<Heartbeat>) => void } {
  const clock = new ManualClock()
  const fleet = new FleetState()
  const cache = new FleetViewCache({ fleet, decorate, clock, maxAgeMs: MAX_AGE })
  const beat = (peerId: string, hb: Partial<Heartbeat> = {}): void => {
    fleet.apply({ type: 'beat', peerId, heartbeat: heartbeat({ nickname: peerId, seq: 1, ...hb }), protocol: 'v2' }, instantOf(clock))
  }
  return { clock, fleet, cache, beat }
}

/** A view without what time alone moves (TIME_MOVED_FIELDS). */
const untimed = (view: NodeView | { view: NodeView }): Partial<NodeView> => {
  const copy: Record<string, unknown> = { ...('view' in view ? view.view : view) }
  for (const key of TIME_MOVED_FIELDS) delete copy[key]
  return copy
}

const keys = (change: NodeChange | undefined): string[] | string | undefined => change === undefined || typeof change === 'string' ? change : [...change].sort()

describe('fleet view cache', () => {
  it('holds the views fleetViews builds, in its order, and rebuilds only what changed', () => {
    const { clock, fleet, cache, beat } = setup()
    for (const p of ['c', 'a', 'b']) beat(p)
    cache.refresh()
    const views = cache.ordered().map((e) => e.view)
    assert.deepEqual(views, fleetViews(fleet, instantOf(clock)).nodes)
    const jsonOfA = entryJson(cache.entry('a')!, false)
    const jsonOfB = entryJson(cache.entry('b')!, false)
    const generation = cache.generation
    clock.advance(100)
    beat('b', { minerAddress: 'f0999', seq: 2 })
    cache.refresh()
    assert.equal(entryJson(cache.entry('a')!, false), jsonOfA, 'an unchanged node keeps its bytes')
    assert.notEqual(entryJson(cache.entry('b')!, false), jsonOfB)
    assert.equal(JSON.parse(entryJson(cache.entry('b')!, false).toString()).minerAddress, 'f0999')
    assert.ok(cache.generation > generation)
    const fresh = fleetViews(fleet, instantOf(clock)).nodes
    assert.deepEqual(cache.entry('b')?.view, fresh.find((v) => v.peerId === 'b'), 'the rebuilt one: as built from scratch')
    assert.deepEqual(cache.ordered().map(untimed), fresh.map(untimed), 'the others too, but for what time alone moved (as of their build)')
    assert.equal(cache.entry('a')?.view.headUnchangedForMs, 0)
    cache.close()
  })

  it('follows what no node notice says: a network\'s new maximum height (lags) and a shared nickname', () => {
    const { clock, fleet, cache, beat } = setup()
    beat('a', { height: 100 })
    beat('b', { height: 100 })
    beat('c', { nickname: 'solo' })
    cache.refresh()
    cache.trackChanges(true)
    clock.advance(TICK)
    beat('a', { height: 104, seq: 2 })
    fleet.tick(instantOf(clock))
    cache.refresh()
    assert.equal(cache.entry('b')?.view.lag, 4, 'b did not beat, its lag moved')
    clock.advance(10)
    beat('d', { nickname: 'solo' })
    cache.refresh()
    assert.equal(cache.entry('c')?.view.duplicateNickname, true, 'c shares its nickname now')
    const changes = cache.takeChanges()
    assert.ok(keys(changes.get('b'))?.includes('lag'))
    assert.deepEqual(keys(changes.get('c')), ['duplicateNickname', 'headUnchangedForMs', 'lag'], 'c lags too (it sits at 100); rebuilt, it is as of now')
    assert.equal(changes.get('d'), 'full', 'a new node goes whole')
    assert.deepEqual(cache.ordered().map(untimed), fleetViews(fleet, instantOf(clock)).nodes.map(untimed))
    cache.close()
  })

  it('notes every field changed between two takes, even one changed and changed back', () => {
    const { clock, fleet, cache, beat } = setup()
    beat('a', { height: 100 })
    cache.refresh()
    cache.trackChanges(true)
    clock.advance(10)
    beat('a', { height: 100, health: { status: 'not_ready', components: { chain_source: { status: 'not_ready' } } }, seq: 2 })
    cache.refresh()
    clock.advance(10)
    beat('a', { height: 100, seq: 3 })
    cache.refresh()
    const changes = cache.takeChanges()
    // A client whose snapshot came between the two builds holds `unhealthy`: it must hear `healthy` again.
    assert.ok((keys(changes.get('a')) as string[]).includes('status'))
    assert.ok((keys(changes.get('a')) as string[]).includes('health'))
    assert.equal(cache.takeChanges().size, 0, 'taken once')
    fleet.remove('a')
    cache.refresh()
    assert.equal(cache.takeChanges().get('a'), 'removed')
    assert.equal(cache.entry('a'), undefined)
    cache.close()
  })

  it('tells a change of component details alone from one of statuses', () => {
    const { clock, cache, beat } = setup()
    const health = (height: number): Heartbeat['health'] => ({ status: 'ready', components: { chain_source: { status: 'ready', details: { height } } } })
    beat('a', { health: health(1) })
    cache.refresh()
    cache.trackChanges(true)
    clock.advance(10)
    beat('a', { health: health(2), seq: 2 })
    cache.refresh()
    assert.ok((keys(cache.takeChanges().get('a')) as string[]).includes(HEALTH_DETAILS_ONLY))
    cache.close()
  })

  it('rebuilds an entry once it is old (phi and the head\'s age move with time alone)', () => {
    let decorations = 0
    const { clock, cache, beat } = setup((view) => { decorations++; return view })
    beat('a')
    cache.refresh()
    const json = entryJson(cache.entry('a')!, true)
    const before = decorations
    clock.advance(MAX_AGE - 1)
    cache.refresh()
    assert.equal(decorations, before, 'young: not rebuilt')
    clock.advance(1)
    cache.refresh()
    assert.equal(decorations, before + 1, 'old: rebuilt')
    assert.notEqual(entryJson(cache.entry('a')!, true), json)
    assert.equal(cache.entry('a')?.view.headUnchangedForMs, MAX_AGE, 'as of now')
    cache.close()
  })

  it('keeps a young view that a notice about something else rebuilt and found moved by time alone', () => {
    const { clock, cache, beat } = setup()
    beat('a')
    cache.refresh()
    const entry = cache.entry('a')
    const generation = cache.generation
    cache.trackChanges(true)
    clock.advance(MAX_AGE - 1)
    cache.invalidate()
    cache.refresh()
    assert.equal(cache.entry('a'), entry, 'the same entry, its bytes and its age')
    assert.equal(cache.generation, generation)
    assert.equal(cache.takeChanges().size, 0, 'nothing for the feed')
    clock.advance(1)
    cache.refresh()
    assert.equal(cache.entry('a')?.view.headUnchangedForMs, MAX_AGE, 'once old, rebuilt as of now')
    cache.close()
  })

  it('takes a status the fleet changed on a deadline, with no beat, as urgent: outside the budget', () => {
    const clock = new ManualClock()
    const fleet = new FleetState()
    const cache = new FleetViewCache({ fleet, decorate: (v) => v, clock, budget: 0 })
    fleet.apply({ type: 'beat', peerId: 'a', heartbeat: heartbeat({ nickname: 'a', seq: 1 }), protocol: 'v2' }, instantOf(clock))
    cache.refresh()
    const urgent = cache.urgentNotices
    fleet.apply({ type: 'disconnected', peerId: 'a' }, instantOf(clock))
    cache.refresh()
    const disconnected = cache.entry('a')?.view
    assert.equal(disconnected?.status, fleet.verdict('a')?.status)
    assert.notEqual(disconnected?.statusUntil, null, 'the grace ends at a time the view says')
    assert.ok(cache.urgentNotices > urgent)
    // The grace passes: only the ticker sees it.
    clock.advance(Date.parse(disconnected?.statusUntil as string) - clock.wall() + STATUS_TICK_MS)
    fleet.tick(instantOf(clock))
    assert.notEqual(fleet.verdict('a')?.status, disconnected?.status, 'the deadline turned it')
    cache.refresh()
    assert.equal(cache.entry('a')?.view.status, fleet.verdict('a')?.status, 'a budget of nothing still takes it')
    assert.equal(cache.entry('a')?.view.reason, fleet.verdict('a')?.reason)
    cache.close()
  })

  it('rebuilds every view on a notice without peer ids (what a decorator shows changed)', () => {
    let tag = 'one'
    const { cache, beat } = setup((view) => ({ ...view, tag } as NodeView))
    beat('a')
    beat('b')
    cache.refresh()
    cache.trackChanges(true)
    const notices = cache.notices
    tag = 'two'
    cache.invalidate()
    assert.equal(cache.notices, notices + 1)
    cache.refresh()
    const changes = cache.takeChanges()
    assert.deepEqual([...changes.keys()].sort(), ['a', 'b'])
    assert.deepEqual(keys(changes.get('a')), ['tag'])
    cache.close()
  })

  it('spreads the beat stream\'s rebuilds over refreshes, never a new node, a removal or an urgent notice', () => {
    const clock = new ManualClock()
    const fleet = new FleetState()
    const cache = new FleetViewCache({ fleet, decorate: (v) => v, clock, budget: 2 })
    const beat = (peerId: string, hb: Partial<Heartbeat> = {}): void => {
      fleet.apply({ type: 'beat', peerId, heartbeat: heartbeat({ nickname: peerId, seq: 1, ...hb }), protocol: 'v2' }, instantOf(clock))
    }
    for (const p of ['a', 'b', 'c', 'd', 'e']) beat(p)
    cache.refresh()
    assert.equal(cache.ordered().length, 5, 'the first build is whole, whatever the budget')
    clock.advance(10)
    for (const p of ['a', 'b', 'c', 'd']) beat(p, { minerAddress: 'f0999', seq: 2 })
    beat('f')
    fleet.remove('e')
    cache.refresh()
    const miners = (): string[] => cache.ordered().map((e) => e.view.minerAddress)
    assert.deepEqual(cache.ordered().map((e) => e.peerId), ['a', 'b', 'c', 'd', 'f'], 'the newcomer came and the removed node went at once')
    assert.equal(miners().filter((m) => m === 'f0999').length, 2, 'two of the four changed views within the budget')
    cache.invalidate(['d'])
    cache.refresh()
    assert.equal(cache.entry('d')?.view.minerAddress, 'f0999', 'urgent: outside the budget')
    assert.equal(miners().filter((m) => m === 'f0999').length, 4, 'the rest the next time')
    cache.close()
  })

  it('defers a rebuild no longer than deferMaxMs: a refresh after a quiet spell brings every changed view', () => {
    const clock = new ManualClock()
    const fleet = new FleetState()
    const cache = new FleetViewCache({ fleet, decorate: (v) => v, clock, budget: 2, deferMaxMs: 1_000 })
    const beat = (peerId: string, seq: number): void => {
      fleet.apply({ type: 'beat', peerId, heartbeat: heartbeat({ nickname: peerId, seq, minerAddress: `f0${seq}` }), protocol: 'v2' }, instantOf(clock))
    }
    const peers = ['a', 'b', 'c', 'd', 'e']
    for (const p of peers) beat(p, 1)
    cache.refresh()
    clock.advance(10)
    for (const p of peers) beat(p, 2)
    // No refresh for a while (no reader): the next one is a document's, and it must be current.
    clock.advance(1_000)
    cache.refresh()
    assert.deepEqual(cache.ordered().map((e) => e.view.minerAddress), peers.map(() => 'f02'), 'waited past deferMaxMs: all rebuilt')
    clock.advance(10)
    for (const p of peers) beat(p, 3)
    cache.refresh()
    assert.equal(cache.ordered().filter((e) => e.view.minerAddress === 'f03').length, 2, 'fresh changes: within the budget')
    clock.advance(999)
    cache.refresh()
    assert.equal(cache.ordered().filter((e) => e.view.minerAddress === 'f03').length, 4)
    clock.advance(1)
    cache.refresh()
    assert.equal(cache.ordered().filter((e) => e.view.minerAddress === 'f03').length, 5, 'the last one once it waited deferMaxMs')
    cache.close()
  })
})
