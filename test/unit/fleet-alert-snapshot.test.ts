import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { alertInputFromSnapshot } from '../../aggregator/alerts/input.ts'
import { matchRule, type AlertRule } from '../../aggregator/alerts/rules.ts'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { fleetAlertSnapshot, fleetViews } from '../../aggregator/fleet/view.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { heartbeat } from '../support/heartbeats.ts'
import { at as instant } from '../support/instant.ts'

const PERIOD = 1000

function beat (fleet: FleetState, peerId: string, at: number, overrides: Partial<Heartbeat> = {}): void {
  fleet.apply({ type: 'beat', peerId, heartbeat: heartbeat({ period: PERIOD, seq: Math.floor(at / PERIOD), ...overrides }), protocol: 'v2' }, instant(at))
}

/** A fleet with something for every rule: lag, a dispute, a down node, failing components, two networks. */
function mixedFleet (): { fleet: FleetState, now: number } {
  const fleet = new FleetState()
  const t = 10_000
  beat(fleet, 'p-zed', t, { network: 'main', head: '{h20}', height: 20, nickname: 'zed' })
  beat(fleet, 'p-amy', t, { network: 'main', head: '{h12}', height: 12, nickname: 'amy' })
  beat(fleet, 'p-bob', t, { network: 'main', head: '{h20}', height: 20, nickname: 'bob', health: { status: 'affected', components: { lotus: { status: 'not_ready', details: { error: 'connect ECONNREFUSED 127.0.0.1:1234' } }, disk: { status: 'ready' } } } })
  beat(fleet, 'p-cat', t, { network: 'test', head: '{t3}', height: 3, nickname: '' })
  beat(fleet, 'p-dan', t, { network: 'main', head: '{h19}', height: 19, nickname: 'dan' })
  fleet.apply({ type: 'disconnected', peerId: 'p-dan' }, instant(t + 10))
  const now = t + 3 * PERIOD
  fleet.tick(instant(now))
  return { fleet, now }
}

const noMaintenance = { nodeMaintenance: () => undefined, fleetMaintenance: undefined }

describe('the fleet as alert evaluation reads it (fleetAlertSnapshot)', () => {
  it('gives the rules the same input as the full node views, node by node and network by network', () => {
    const { fleet, now } = mixedFleet()
    const fromViews = alertInputFromSnapshot(fleetViews(fleet, instant(now)), noMaintenance)
    const fromFacts = alertInputFromSnapshot(fleetAlertSnapshot(fleet, instant(now)), noMaintenance)
    const byPeer = (nodes: typeof fromViews.nodes) => [...nodes].sort((a, b) => a.peerId.localeCompare(b.peerId))
    assert.equal(fromFacts.nodes.length, 5)
    assert.deepEqual(byPeer(fromFacts.nodes), byPeer(fromViews.nodes))
    assert.deepEqual(fromFacts.networks, fromViews.networks)
    const statuses = new Set(fromFacts.nodes.map((n) => n.status))
    assert.ok(statuses.has('down') && statuses.has('degraded'), `a fleet with more than one status: ${[...statuses].join(', ')}`)
  })

  it('a fleet-wide message names its nodes in the fleet document\'s order, whatever order the input comes in', () => {
    const { fleet, now } = mixedFleet()
    const input = alertInputFromSnapshot(fleetAlertSnapshot(fleet, instant(now)), noMaintenance)
    const rule: AlertRule = { name: 'FleetMinHealthy', kind: 'fleet_min_healthy', min: 5, statuses: ['healthy'], severity: 'critical', for: 0 } as unknown as AlertRule
    const forward = matchRule(rule, input, now)
    const backward = matchRule(rule, { ...input, nodes: [...input.nodes].reverse() }, now)
    assert.equal(forward.length, 1)
    assert.equal(forward[0]!.summary, backward[0]!.summary)
    const listed = forward[0]!.summary.split(': ')[1]!.split(', ').map((s) => s.split(' ')[0] ?? '')
    assert.deepEqual(listed, [...listed].sort((a, b) => a.localeCompare(b)), forward[0]!.summary)
  })
})
