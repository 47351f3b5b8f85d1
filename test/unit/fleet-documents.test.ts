import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FLEET_DOCUMENT_HOLD_FACTOR, FLEET_DOCUMENT_REBUILD_MS, FLEET_PUBLISH_TICK_MS, NODE_VIEW_MAX_AGE_MS, STATUS_TICK_MS } from '../../aggregator/constants.ts'
import { exposeNode } from '../../aggregator/fleet/exposure.ts'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { fleetViews } from '../../aggregator/fleet/view.ts'
import { fleetHealthDocument } from '../../aggregator/health/fleet-health.ts'
import { FleetDocuments } from '../../aggregator/http/fleet-documents.ts'
import { parseFleetQuery } from '../../aggregator/http/fleet-query.ts'
import { FleetViewCache } from '../../aggregator/http/fleet-view-cache.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { heartbeat } from '../support/heartbeats.ts'
import { instantOf } from '../../shared/clock.ts'
import { ManualClock } from '../support/manual-clock.ts'

const INFO = { peerId: 'agg', multiaddrs: ['/ip4/127.0.0.1/tcp/4100'], version: '0.1.0', startedAt: '2027-01-15T08:00:00.000Z' }

/** What each build is made to cost (a stopwatch that moves this much per reading pair): 10,000 nodes' worth. */
const BUILD_MS = 60

function setup (fields: () => Record<string, unknown> = () => ({ alerts: { firing: [], pending: 0 } })) {
  const clock = new ManualClock()
  const fleet = new FleetState()
  const cache = new FleetViewCache({ fleet, decorate: (view) => view, clock })
  let watch = 0
  const stopwatch = (): number => { watch += BUILD_MS / 2; return watch }
  const documents = new FleetDocuments({ cache, fleet, clock, info: () => INFO, fields, stopwatch })
  const beat = (peerId: string, hb: Partial<Heartbeat> = {}): void => {
    fleet.apply({ type: 'beat', peerId, heartbeat: heartbeat({ nickname: peerId, seq: 1, ...hb }), protocol: 'v2' }, instantOf(clock))
  }
  const doc = (details = false): any => JSON.parse(documents.fleet(details).bytes.toString())
  return { clock, fleet, cache, documents, beat, doc }
}

describe('fleet documents', () => {
  it('is GET /api/v1/fleet as it was built per request, with the parts\' fields', () => {
    const { clock, fleet, beat, doc } = setup()
    beat('b', { health: { status: 'ready', components: { rpc: { status: 'ready', details: { url: 'http://10.0.0.7' } } } } })
    beat('a')
    const { nodes, summary } = fleetViews(fleet, instantOf(clock))
    const document = doc()
    assert.deepEqual(document, {
      aggregator: INFO,
      generatedAt: new Date(clock.wall()).toISOString(),
      summary: JSON.parse(JSON.stringify(summary)),
      nodes: JSON.parse(JSON.stringify(nodes.map((n) => exposeNode(n, false)))),
      alerts: { firing: [], pending: 0 },
    })
    assert.equal(JSON.stringify(document).includes('10.0.0.7'), false, 'no details without them')
    assert.equal(JSON.stringify(doc(true)).includes('10.0.0.7'), true)
  })

  it('serves the same bytes while nothing changes, and rebuilds once time alone moved them', () => {
    const { clock, beat, documents, doc } = setup()
    beat('a')
    const first = documents.fleet(false)
    clock.advance(NODE_VIEW_MAX_AGE_MS - 1)
    assert.equal(documents.fleet(false), first)
    clock.advance(1)
    // Old, rebuilt: phi, the head's age and uptime move with time alone.
    assert.notEqual(documents.fleet(false).etag(), first.etag())
    assert.equal(doc().nodes[0].headUnchangedForMs, NODE_VIEW_MAX_AGE_MS)
  })

  it('shows the first change after a quiet spell at once, then holds the beat stream back for an interval', () => {
    assert.ok(BUILD_MS * FLEET_DOCUMENT_HOLD_FACTOR >= FLEET_DOCUMENT_REBUILD_MS, 'a build costly enough to be held the longest')
    const { clock, beat, documents, doc } = setup()
    beat('a', { height: 1 })
    const first = documents.fleet(false)
    clock.advance(10)
    beat('a', { height: 2, seq: 2 })
    const second = documents.fleet(false)
    assert.notEqual(second.etag(), first.etag(), 'the first build holds nothing back')
    clock.advance(10)
    beat('a', { height: 3, seq: 3 })
    assert.equal(documents.fleet(false), second, 'held back: rebuilt at most once per interval')
    // The publisher replaces it at its first tick after the hold (requests are served the held one until then).
    clock.advance(FLEET_DOCUMENT_REBUILD_MS + FLEET_PUBLISH_TICK_MS)
    assert.equal(doc().nodes[0].height, 3, 'the interval is over')
    // A quiet interval later, a change shows at once again.
    clock.advance(FLEET_DOCUMENT_REBUILD_MS + FLEET_PUBLISH_TICK_MS)
    beat('a', { height: 4, seq: 4 })
    assert.equal(doc().nodes[0].height, 4)
  })

  it('never holds back what is not the beat stream: a removal, a notice from a part', () => {
    const { clock, fleet, beat, cache, doc } = setup()
    beat('a')
    beat('b')
    doc()
    clock.advance(10)
    beat('a', { height: 7, seq: 2 })
    doc()
    clock.advance(10)
    fleet.remove('b')
    assert.deepEqual(doc().nodes.map((n: { peerId: string }) => n.peerId), ['a'], 'removed at once')
    clock.advance(10)
    beat('a', { height: 8, seq: 3 })
    cache.invalidate([])
    assert.equal(doc().nodes[0].height, 8, 'a part said something changed: rebuilt, with the beat folded meanwhile')
  })

  it('never holds back a status change, even one a deadline made with no beat', () => {
    const { clock, fleet, beat, doc } = setup()
    beat('a')
    doc()
    clock.advance(10)
    beat('a', { seq: 2 })
    doc()
    clock.advance(10)
    fleet.apply({ type: 'disconnected', peerId: 'a' }, instantOf(clock))
    const disconnected = doc().nodes[0]
    assert.equal(disconnected.status, fleet.verdict('a')?.status, 'a status the fleet changed: shown at once, however held the document was')
    assert.equal(disconnected.statusSince, new Date(clock.wall()).toISOString())
    assert.notEqual(disconnected.statusUntil, null)
    doc()
    // The grace ends with no event: the ticker turns it, and the next answer says so (no hold, no publisher tick).
    clock.advance(Date.parse(disconnected.statusUntil) - clock.wall() + STATUS_TICK_MS)
    fleet.tick(instantOf(clock))
    assert.notEqual(fleet.verdict('a')?.status, disconnected.status)
    const turned = doc().nodes[0]
    assert.equal(turned.status, fleet.verdict('a')?.status)
    assert.equal(turned.reason, fleet.verdict('a')?.reason)
    assert.equal(turned.statusSince, new Date(clock.wall()).toISOString())
  })

  it('holds back in proportion to what a build costs: a cheap document follows at once', () => {
    const clock = new ManualClock()
    const fleet = new FleetState()
    const cache = new FleetViewCache({ fleet, decorate: (view) => view, clock })
    let watch = 0
    const documents = new FleetDocuments({ cache, fleet, clock, info: () => INFO, fields: () => ({}), stopwatch: () => (watch += 1) })
    const beat = (height: number): void => { fleet.apply({ type: 'beat', peerId: 'a', heartbeat: heartbeat({ height, seq: height }), protocol: 'v2' }, instantOf(clock)) }
    const height = (): number => JSON.parse(documents.fleet(false).bytes.toString()).nodes[0].height
    beat(1)
    height()
    clock.advance(10)
    beat(2)
    assert.equal(height(), 2)
    const hold = FLEET_DOCUMENT_HOLD_FACTOR * 1
    clock.advance(hold - 1)
    beat(3)
    assert.equal(height(), 2, 'held for 20 times the 1 ms it cost')
    // As long again at most: the publisher's tick may come first (it is as cheap for the request).
    clock.advance(hold + 1)
    assert.equal(height(), 3)
    documents.close()
  })

  it('holds a snapshot the live feed asks for at least as new as the views it already sent', () => {
    const { clock, beat, cache, documents } = setup()
    beat('a', { height: 1 })
    documents.fleet(false)
    clock.advance(10)
    beat('a', { height: 2, seq: 2 })
    documents.fleet(false)
    clock.advance(10)
    beat('a', { height: 3, seq: 3 })
    cache.refresh() // a flush built the view (and sent it)
    assert.equal(JSON.parse(documents.fleet(false).bytes.toString()).nodes[0].height, 2, 'GET may lag within the interval')
    assert.equal(JSON.parse(documents.snapshot(false, cache.generation).bytes.toString()).nodes[0].height, 3, 'the feed\'s snapshot may not')
  })

  it('answers filters and pages from the same build, with the fleet\'s summary and a page', () => {
    const { beat, documents } = setup()
    for (let i = 0; i < 5; i++) beat(`p${i}`, i === 3 ? { health: { status: 'not_ready', components: {} } } : {})
    const query = parseFleetQuery({ status: 'unhealthy' })!
    const answer = JSON.parse(documents.query(false, query).bytes.toString())
    assert.deepEqual(answer.nodes.map((n: { peerId: string }) => n.peerId), ['p3'])
    assert.equal(answer.summary.total, 5)
    assert.deepEqual(answer.page, { matched: 1, offset: null, limit: null, nextCursor: null })
    assert.deepEqual(answer.alerts, { firing: [], pending: 0 })
    assert.equal(documents.query(false, query), documents.query(false, parseFleetQuery({ status: 'unhealthy', _: '1' })!), 'one answer per meaning and build')
    assert.notEqual(documents.query(false, query).etag(), documents.fleet(false).etag())
  })

  it('is GET /api/v1/fleet/health as the pure document builds it, 503 when a node fails', () => {
    const { clock, fleet, beat, documents } = setup()
    beat('a')
    beat('b', { health: { status: 'not_ready', components: { disk: { status: 'not_ready', details: { error: 'disk full' } } } } })
    for (const details of [false, true]) {
      const nodes = fleetViews(fleet, instantOf(clock)).nodes.map((n) => exposeNode(n, details))
      const expected = fleetHealthDocument({ nodes, aggregatorPeerId: INFO.peerId, releaseId: INFO.version })
      const body = documents.health(details)
      assert.equal(body.statusCode, expected.statusCode)
      assert.equal(body.statusCode, 503)
      assert.deepEqual(JSON.parse(body.bytes.toString()), expected.body)
    }
  })
})
