import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { fleetViews, nodeViewOf } from '../../aggregator/fleet/view.ts'
import { networkFilter } from '../../aggregator/ingest/network-filter.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { heartbeat } from '../support/heartbeats.ts'
import { at as instant } from '../support/instant.ts'

const PERIOD = 1000

function beat (fleet: FleetState, peerId: string, at: number, overrides: Partial<Heartbeat> = {}): void {
  fleet.apply({ type: 'beat', peerId, heartbeat: heartbeat({ period: PERIOD, seq: Math.floor(at / PERIOD), ...overrides }), protocol: 'v2' }, instant(at))
}

describe('fleet view', () => {
  it('groups nodes by network with heaviest head, counts and lag per node', () => {
    const fleet = new FleetState()
    const t = 10_000
    beat(fleet, 'p-a', t, { network: 'main', head: '{h20}', height: 20, nickname: 'a' })
    beat(fleet, 'p-b', t, { network: 'main', head: '{h20}', height: 20, nickname: 'b' })
    beat(fleet, 'p-c', t, { network: 'main', head: '{h12}', height: 12, nickname: 'c' })
    beat(fleet, 'p-d', t, { network: 'test', head: '{t3}', height: 3, nickname: 'd' })
    fleet.tick(instant(t + 100))
    const { nodes, summary } = fleetViews(fleet, instant(t + 100))
    assert.deepEqual(summary.networks, [
      { network: 'main', heaviestHead: '{h20}', height: 20, inConsensus: 2, inDispute: 1, catchingUp: 0, reporting: 3, nodes: 3, expectedHeight: null, epochsBehindClock: null, headAgeMs: null, behindClock: false },
      { network: 'test', heaviestHead: '{t3}', height: 3, inConsensus: 1, inDispute: 0, catchingUp: 0, reporting: 1, nodes: 1, expectedHeight: null, epochsBehindClock: null, headAgeMs: null, behindClock: false },
    ])
    assert.equal(summary.maxHeight, 20)
    const byName = Object.fromEntries(nodes.map((n) => [n.nickname, n]))
    assert.equal(byName.c?.lag, 8)
    assert.equal(byName.c?.status, 'degraded')
    assert.equal(byName.c?.reason, "lags 8 behind the network's height 20 (more than 5)")
    assert.equal(byName.d?.lag, 0, 'measured against its own network, not the other one')
    assert.equal(byName.d?.status, 'healthy')
    for (const n of nodes) {
      assert.equal(typeof n.connected, 'boolean')
      assert.equal(n.lastHeadChange, new Date(t).toISOString())
      assert.equal(n.phi, null, 'one beat is not enough for phi')
      assert.equal(n.duplicateNickname, false)
    }
    assert.doesNotThrow(() => JSON.stringify({ nodes, summary }))
  })

  it('takes down nodes out of the consensus and the maximum height', () => {
    const fleet = new FleetState()
    beat(fleet, 'p-tall', 0, { head: '{h90}', height: 90 })
    beat(fleet, 'p-low', 0, { head: '{h10}', height: 10 })
    fleet.apply({ type: 'disconnected', peerId: 'p-tall' }, instant(100))
    fleet.tick(instant(100 + 2 * PERIOD))
    beat(fleet, 'p-low', 100 + 2 * PERIOD, { head: '{h10}', height: 10 })
    fleet.tick(instant(200 + 2 * PERIOD))
    const { nodes, summary } = fleetViews(fleet, instant(200 + 2 * PERIOD))
    assert.equal(nodes.find((n) => n.peerId === 'p-tall')?.status, 'down')
    assert.deepEqual(summary.networks[0], { network: 'testnet', heaviestHead: '{h10}', height: 10, inConsensus: 1, inDispute: 0, catchingUp: 0, reporting: 1, nodes: 2, expectedHeight: null, epochsBehindClock: null, headAgeMs: null, behindClock: false })
    assert.equal(nodes.find((n) => n.peerId === 'p-low')?.status, 'healthy')
  })

  it('shows both nodes of a shared nickname, flagged, never merged', () => {
    const fleet = new FleetState()
    beat(fleet, 'p-1', 0, { nickname: 'lotus' })
    beat(fleet, 'p-2', 0, { nickname: 'lotus' })
    beat(fleet, 'p-3', 0, { nickname: '' })
    beat(fleet, 'p-4', 0, { nickname: '' })
    const { nodes, summary } = fleetViews(fleet, instant(10))
    assert.equal(nodes.length, 4)
    assert.deepEqual(nodes.filter((n) => n.duplicateNickname).map((n) => n.peerId).sort(), ['p-1', 'p-2'])
    assert.equal(summary.duplicateNicknames, 2)
    assert.deepEqual(nodes.filter((n) => n.nickname === '').map((n) => n.displayName).sort(), ['p-3', 'p-4'], 'an empty nickname shows the peer id')
    // A rename clears the flag on the next read.
    beat(fleet, 'p-2', PERIOD, { nickname: 'lotus-2' })
    assert.equal(nodeViewOf(fleet, 'p-1', instant(PERIOD + 10))?.duplicateNickname, false)
  })

  it('forgets nodes silent for longer than forget-after, and counts them', () => {
    const forgetAfterMs = 60_000
    const fleet = new FleetState(undefined, { forgetAfterMs })
    const forgotten: string[] = []
    fleet.subscribe({ onNodeForgotten: (peerId) => { forgotten.push(peerId) } })
    beat(fleet, 'p-gone', 0)
    for (let t = 0; t <= 70_000; t += 10_000) beat(fleet, 'p-here', t)
    fleet.tick(instant(forgetAfterMs))
    assert.equal(fleet.size, 2, 'exactly at forget-after it is still shown')
    fleet.tick(instant(forgetAfterMs + 1))
    assert.equal(fleet.get('p-gone'), undefined)
    assert.equal(fleet.verdict('p-gone'), undefined)
    assert.deepEqual(forgotten, ['p-gone'])
    const { nodes, summary } = fleetViews(fleet, instant(forgetAfterMs + 1))
    assert.deepEqual(nodes.map((n) => n.peerId), ['p-here'])
    assert.equal(summary.forgotten, 1)
    assert.equal(summary.networks[0]?.nodes, 1)
    // Coming back makes it a new node.
    beat(fleet, 'p-gone', 80_000)
    assert.equal(fleet.get('p-gone')?.firstSeen, 80_000)
  })

  it('shows phi once the detector has samples', () => {
    const fleet = new FleetState()
    for (let i = 0; i <= 6; i++) beat(fleet, 'p', i * PERIOD)
    const view = nodeViewOf(fleet, 'p', instant(6 * PERIOD + 500))
    assert.equal(typeof view?.phi, 'number')
    assert.ok((view?.phi ?? 1) < 0.01)
    const later = nodeViewOf(fleet, 'p', instant(6 * PERIOD + 5 * PERIOD))
    assert.ok((later?.phi ?? 0) > 8)
  })

  it('says which network the aggregator is restricted to', () => {
    assert.equal(fleetViews(new FleetState(), instant(0)).summary.network, null)
    assert.equal(fleetViews(new FleetState(undefined, { network: 'bafy-genesis' }), instant(0)).summary.network, 'bafy-genesis')
  })
})

describe('networkFilter', () => {
  it('admits everything without --network', () => {
    assert.equal(networkFilter(undefined), undefined)
  })

  it('refuses other networks and unnamed ones with --network', () => {
    const admit = networkFilter('main')
    assert.ok(admit !== undefined)
    assert.equal(admit(heartbeat({ network: 'main' })), undefined)
    assert.deepEqual(admit(heartbeat({ network: 'calibnet' })), { reason: 'wrong_network', message: 'heartbeat is for network "calibnet"; this aggregator takes only "main"' })
    assert.equal(admit(heartbeat({ network: '' }))?.reason, 'wrong_network')
  })
})

describe('fleet view: pass-through fields of the heartbeat', () => {
  it('shows headTime (ISO, as every view time) and source as the agent sent them; null when absent', () => {
    const fleet = new FleetState()
    beat(fleet, 'p-real', 0, { headTime: Date.UTC(2026, 0, 1, 12, 0, 0), source: 'lotus' })
    beat(fleet, 'p-old', 0)
    const view = nodeViewOf(fleet, 'p-real', instant(10))
    assert.equal(view?.headTime, '2026-01-01T12:00:00.000Z')
    assert.equal(view?.source, 'lotus')
    const old = nodeViewOf(fleet, 'p-old', instant(10))
    assert.equal(old?.headTime, null, 'an agent that does not send it (an older one)')
    assert.equal(old?.source, null)
  })
})
