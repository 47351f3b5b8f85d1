import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { foldNode } from '../../aggregator/fleet/fold.ts'
import { DEFAULT_STATUS_RULES, deriveStatus, lagOf, type StatusRules } from '../../aggregator/fleet/status.ts'
import type { FleetEvent, NodeRecord } from '../../aggregator/fleet/types.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { healthWith, heartbeat } from '../support/heartbeats.ts'
import { at as instant } from '../support/instant.ts'

const PEER = '12D3KooWStatusPeer'
const PERIOD = 1000

/** Folds events in order, each at its own time (pure: no FleetState). */
function fold (events: Array<[number, FleetEvent]>): NodeRecord {
  let record: NodeRecord | undefined
  for (const [at, event] of events) record = foldNode(record, event, instant(at))
  assert.ok(record !== undefined)
  return record
}

function beat (overrides: Partial<Heartbeat> = {}): FleetEvent {
  return { type: 'beat', peerId: PEER, heartbeat: heartbeat({ period: PERIOD, ...overrides }), protocol: 'v2' }
}

/** A node that beat regularly (a fresh head each time) from 0 to `last`. */
function regular (last: number, overrides: Partial<Heartbeat> = {}): NodeRecord {
  const events: Array<[number, FleetEvent]> = []
  for (let t = 0, seq = 0; t <= last; t += PERIOD, seq++) events.push([t, beat({ seq, head: `{h${seq}}`, height: 100 + seq, ...overrides })])
  return fold(events)
}

describe('deriveStatus', () => {
  it('is healthy for a regular, ready, progressing node', () => {
    const r = regular(10_000)
    assert.deepEqual(deriveStatus(r, 10_500), { status: 'healthy', reason: '' })
  })

  it('shows a disconnect at once, and turns down only after the grace', () => {
    const r0 = regular(10_000)
    const r = foldNode(r0, { type: 'disconnected', peerId: PEER }, instant(10_200)) as NodeRecord
    assert.equal(r.connected, false)
    const during = deriveStatus(r, 10_300)
    assert.equal(during.status, 'degraded')
    assert.equal(during.reason, 'disconnected at 00:00:10Z; down unless it reconnects within 1s', 'absolute times: the text does not age')
    assert.equal(during.until, 10_200 + DEFAULT_STATUS_RULES.downGracePeriods * PERIOD, 'when the grace ends (wall)')
    assert.deepEqual(deriveStatus(r, 10_900), during, 'the same verdict later in the grace')
    const grace = DEFAULT_STATUS_RULES.downGracePeriods * PERIOD
    assert.equal(deriveStatus(r, 10_200 + grace - 1).status, 'degraded')
    const after = deriveStatus(r, 10_200 + grace)
    assert.equal(after.status, 'down')
    assert.match(after.reason, /^disconnected at 00:00:10Z and not back within 1s; last heartbeat 00:00:10Z$/)
  })

  it('does not flap on a quick reconnect', () => {
    let r = regular(10_000)
    r = foldNode(r, { type: 'disconnected', peerId: PEER }, instant(10_100)) as NodeRecord
    r = foldNode(r, { type: 'connected', peerId: PEER }, instant(10_400)) as NodeRecord
    assert.equal(deriveStatus(r, 10_500).status, 'healthy')
    assert.equal(deriveStatus(r, 11_000 + PERIOD).status, 'healthy')
  })

  it('never alerts for a node that announced its stop, silent or gone', () => {
    let r = fold([[0, beat({ seq: 0 })], [PERIOD, beat({ seq: 1, state: 'stopping' })]])
    r = foldNode(r, { type: 'disconnected', peerId: PEER }, instant(PERIOD + 10)) as NodeRecord
    for (const at of [PERIOD + 20, 10 * PERIOD, 24 * 3_600_000]) {
      const v = deriveStatus(r, at)
      assert.equal(v.status, 'stopped', `at ${at}`)
      assert.match(v.reason, /announced a graceful stop/)
    }
  })

  it('reports unhealthy components before any progress trouble', () => {
    const r = regular(5_000, { health: healthWith('chain_source', 'not_ready'), height: 1 })
    const v = deriveStatus(r, 5_100, DEFAULT_STATUS_RULES, { maxHeight: 1000 })
    assert.equal(v.status, 'unhealthy')
    assert.equal(v.reason, 'reports not_ready: chain_source not_ready')
  })

  it('is degraded when the node reports affected, and says which component', () => {
    const r = regular(5_000, { health: healthWith('chain_source', 'affected') })
    const v = deriveStatus(r, 5_100)
    assert.equal(v.status, 'degraded')
    assert.equal(v.reason, 'reports affected: chain_source affected')
  })

  it('is degraded when it lags more than the threshold behind its network', () => {
    const r = regular(3_000)
    const height = r.beat.height
    const rules: StatusRules = { ...DEFAULT_STATUS_RULES, lagThreshold: 5 }
    assert.equal(deriveStatus(r, 3_100, rules, { maxHeight: height + 5 }).status, 'healthy', 'a lag equal to the threshold is fine')
    const v = deriveStatus(r, 3_100, rules, { maxHeight: height + 6 })
    assert.equal(v.status, 'degraded')
    assert.equal(v.reason, `lags 6 behind the network's height ${height + 6} (more than 5)`)
    assert.equal(lagOf(r, { maxHeight: height + 6 }), 6)
    assert.equal(lagOf(r, { maxHeight: height - 3 }), 0, 'ahead is not a negative lag')
    assert.equal(lagOf(r, undefined), 0)
  })

  it('is degraded when its head has not changed for longer than stuck-after', () => {
    const rules: StatusRules = { ...DEFAULT_STATUS_RULES, stuckAfterMs: 60_000 }
    // Beats keep coming, the head does not move.
    const events: Array<[number, FleetEvent]> = []
    for (let t = 0, seq = 0; t <= 70_000; t += PERIOD, seq++) events.push([t, beat({ seq, head: '{same}', height: 7 })])
    const r = fold(events)
    assert.equal(r.lastHeadChange, 0)
    assert.equal(deriveStatus(r, 60_000, rules).status, 'healthy')
    const v = deriveStatus(r, 70_100, rules)
    assert.equal(v.status, 'degraded')
    assert.equal(v.reason, 'head unchanged since 00:00:00Z (stuck after 1m0s)')
    // A new head resets it.
    const moved = foldNode(r, beat({ seq: 71, head: '{next}', height: 8 }), instant(71_000)) as NodeRecord
    assert.equal(moved.lastHeadChange, 71_000)
    assert.equal(deriveStatus(moved, 71_100, rules).status, 'healthy')
  })

  it('lists every reason for degraded', () => {
    const events: Array<[number, FleetEvent]> = []
    for (let t = 0, seq = 0; t <= 400_000; t += PERIOD, seq++) events.push([t, beat({ seq, head: '{same}', height: 7, health: healthWith('disk', 'affected') })])
    const v = deriveStatus(fold(events), 400_100, DEFAULT_STATUS_RULES, { maxHeight: 20 })
    assert.equal(v.status, 'degraded')
    assert.deepEqual(v.reason.split('; '), [
      'reports affected: disk affected',
      "lags 13 behind the network's height 20 (more than 5)",
      'head unchanged since 00:00:00Z (stuck after 5m0s)',
    ])
  })

  it('puts silence before health: a silent node is stale whatever it last said', () => {
    const r = regular(20_000, { health: healthWith('chain_source', 'panicked') })
    const v = deriveStatus(r, 20_000 + 3 * PERIOD)
    assert.equal(v.status, 'stale')
    assert.match(v.reason, /^no heartbeat since 00:00:20Z while still connected \(phi > 8; usual interval 1s ± 0s\)$/)
  })

  it('records the skew between arrival and sentAt as a detail, never using it to judge', () => {
    const r = fold([[50_000, beat({ sentAt: 49_250 })]])
    assert.equal(r.skewMs, 750)
    const future = fold([[50_000, beat({ sentAt: 3_000_000_000_000 })]])
    assert.ok((future.skewMs ?? 0) < 0)
    assert.equal(deriveStatus(future, 50_100).status, 'healthy')
    const legacy = foldNode(undefined, { type: 'beat', peerId: PEER, heartbeat: heartbeat({ period: 0 }), protocol: 'legacy' }, instant(50_000))
    assert.equal(legacy?.skewMs, null)
  })
})
