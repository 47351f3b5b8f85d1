import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AlertEngine } from '../../aggregator/alerts/engine.ts'
import { alertInputFromSnapshot } from '../../aggregator/alerts/input.ts'
import { registerAlertMetrics } from '../../aggregator/alerts/metrics.ts'
import { builtInRules } from '../../aggregator/alerts/rules.ts'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { IngestStats } from '../../aggregator/ingest/stats.ts'
import { AggregatorMetrics } from '../../aggregator/metrics/aggregator-metrics.ts'
import { readNetworks } from '../../aggregator/metrics/fleet-snapshot.ts'
import { HealthRegistry } from '../../shared/health-registry.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { Registry } from 'prom-client'
import { at as instant } from '../support/instant.ts'

function beat (nickname: string, height: number, components: Heartbeat['health']['components'] = {}): Heartbeat {
  return {
    v: 2, head: `head-${height}`, height, nickname, minerAddress: 't01000', network: 'demo', seq: height, sentAt: 0, period: 3_000,
    health: { status: 'ready', components }, agent: { version: '0.1.0', startedAt: 0 }, state: 'running',
  }
}

/** A fleet whose nodes the test can remove (the real one only grows until the store prunes it). */
function removableFleet (real: FleetState, removed: Set<string>): FleetState {
  // Everything from the real fleet, except that removed nodes are not listed.
  return new Proxy(real, {
    get (target, prop) {
      if (prop === 'nodes') return () => [...target.nodes()].filter((r) => !removed.has(r.peerId)).values()
      const value: unknown = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** Sample lines of one metric, as `{labels} value` strings. */
function samples (text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).map((l) => l.slice(name.length))
}

describe('AggregatorMetrics', () => {
  it('computes fleet and per-node series at scrape time; a node that leaves leaves the metrics', async () => {
    const real = new FleetState()
    const removed = new Set<string>()
    const stats = new IngestStats()
    const health = new HealthRegistry()
    health.register('libp2p', () => ({ status: 'ready' }))
    const metrics = new AggregatorMetrics({
      fleet: removableFleet(real, removed), stats, health, connections: () => 2, processMetrics: false, now: () => instant(3_000),
      build: { name: 'fil-heartbeat', version: '9.9.9', commit: undefined }, runtime: { node: 'v24', libp2p: '3', platform: 'linux', arch: 'x64' },
    })
    real.apply({ type: 'connected', peerId: 'PEER1' }, instant(1_000))
    real.apply({ type: 'beat', peerId: 'PEER1', heartbeat: beat('lotus "a"\n<b>', 100, { chain_source: { status: 'ready', details: { secret: 'no' } } }), protocol: 'v2' }, instant(1_000))
    real.apply({ type: 'beat', peerId: 'PEER2', heartbeat: beat('bravo', 90), protocol: 'v2' }, instant(2_500))
    real.apply({ type: 'disconnected', peerId: 'PEER2' }, instant(2_500))
    const status1 = real.verdict('PEER1')?.status
    const status2 = real.verdict('PEER2')?.status
    stats.received = 5
    stats.accepted = 3
    stats.reject('invalid_cbor')
    stats.reject('invalid_cbor')
    stats.reject('frame_too_large')
    metrics.observeIngestSeconds(0.0003)

    const text = await metrics.render()
    assert.ok(text.includes('heartbeat_node_height{peer_id="PEER1",nickname="lotus _a___b_"} 100'))
    assert.ok(text.includes('heartbeat_node_height{peer_id="PEER2",nickname="bravo"} 90'))
    assert.ok(text.includes('heartbeat_node_last_heartbeat_timestamp_seconds{peer_id="PEER2",nickname="bravo"} 2.5'))
    const stateSet = samples(text, 'heartbeat_node_status').filter((l) => l.includes('PEER1')).map((l) => l.replace(/.*status="([a-z]+)"} /, '$1='))
    assert.deepEqual(stateSet, ['healthy', 'degraded', 'unhealthy', 'stale', 'down', 'stopped'].map((s) => `${s}=${s === status1 ? 1 : 0}`))
    assert.equal(samples(text, 'heartbeat_node_component_status').length, 6, 'one component x six statuses')
    assert.ok(text.includes('heartbeat_node_component_status{peer_id="PEER1",nickname="lotus _a___b_",component="chain_source",status="ready"} 1'))
    assert.ok(!text.includes('secret'), 'details never reach labels')
    const byStatus = samples(text, 'heartbeat_fleet_nodes')
    assert.equal(byStatus.length, 6)
    assert.equal(byStatus.reduce((sum, l) => sum + Number(l.split(' ')[1]), 0), 2)
    assert.ok(text.includes(`heartbeat_fleet_nodes{status="${String(status2)}"} ${status1 === status2 ? 2 : 1}`))
    assert.ok(text.includes('heartbeat_fleet_nodes_connected 1'))
    assert.ok(text.includes('heartbeat_ingest_frames_received_total 5'))
    assert.ok(text.includes('heartbeat_ingest_frames_accepted_total 3'))
    assert.ok(text.includes('heartbeat_ingest_rejected_total{reason="invalid_cbor"} 2'))
    assert.ok(text.includes('heartbeat_ingest_rejected_total{reason="frame_too_large"} 1'))
    assert.ok(text.includes('heartbeat_ingest_duration_seconds_bucket{le="0.0005"} 1'))
    assert.ok(text.includes('heartbeat_ingest_duration_seconds_count 1'))
    assert.ok(text.includes('heartbeat_aggregator_component_status{component="libp2p",status="ready"} 1'))
    assert.ok(text.includes('heartbeat_aggregator_libp2p_connections 2'))
    assert.ok(text.includes('heartbeat_aggregator_build_info{version="9.9.9",commit="unknown",node_version="v24",libp2p_version="3"} 1'))
    // Per network: PEER1 on the heaviest head (height 100), PEER2 behind it (90), both still voting.
    assert.deepEqual(samples(text, 'heartbeat_fleet_nodes_in_consensus'), ['{network="demo"} 1'])
    assert.deepEqual(samples(text, 'heartbeat_fleet_nodes_in_dispute'), ['{network="demo"} 1'])
    assert.deepEqual(samples(text, 'heartbeat_fleet_heaviest_height'), ['{network="demo"} 100'])
    // Lag is measured against that heaviest height: what NodeLagging reads.
    assert.deepEqual(samples(text, 'heartbeat_node_lag').sort(), ['{peer_id="PEER1",nickname="lotus _a___b_"} 0', '{peer_id="PEER2",nickname="bravo"} 10'])

    // Counters follow the stats; a node that leaves takes its series with it.
    stats.received = 9
    removed.add('PEER1')
    const after = await metrics.render()
    assert.ok(after.includes('heartbeat_ingest_frames_received_total 9'))
    assert.ok(!after.includes('PEER1'), 'no series of a node that left')
    assert.equal(samples(after, 'heartbeat_node_status').length, 6)
    assert.equal(samples(after, 'heartbeat_node_component_status').length, 0)
    assert.equal(samples(after, 'heartbeat_fleet_nodes').reduce((sum, l) => sum + Number(l.split(' ')[1]), 0), 1)
    assert.ok(after.includes('heartbeat_fleet_nodes_connected 0'))
  })

  it('a renamed node keeps one series per metric (the old nickname goes)', async () => {
    const fleet = new FleetState()
    const metrics = new AggregatorMetrics({
      fleet, stats: new IngestStats(), health: new HealthRegistry(), connections: () => undefined, processMetrics: false, now: () => instant(2_000),
      build: { name: 'x', version: '1', commit: 'c' }, runtime: { node: 'v24', libp2p: '3', platform: 'linux', arch: 'x64' },
    })
    fleet.apply({ type: 'beat', peerId: 'P', heartbeat: beat('old', 1), protocol: 'v2' }, instant(1_000))
    assert.ok((await metrics.render()).includes('nickname="old"'))
    fleet.apply({ type: 'beat', peerId: 'P', heartbeat: { ...beat('new', 2), seq: 2 }, protocol: 'v2' }, instant(2_000))
    const text = await metrics.render()
    assert.ok(!text.includes('nickname="old"'))
    assert.deepEqual(samples(text, 'heartbeat_node_height'), ['{peer_id="P",nickname="new"} 2'])
  })
  it('exports when each head last changed (what HeadStuck reads), not when the last beat came', async () => {
    let now = 1_000
    const fleet = new FleetState()
    const metrics = new AggregatorMetrics({
      fleet, stats: new IngestStats(), health: new HealthRegistry(), connections: () => undefined, processMetrics: false, now: () => instant(now),
      build: { name: 'x', version: '1', commit: 'c' }, runtime: { node: 'v24', libp2p: '3', platform: 'linux', arch: 'x64' },
    })
    fleet.apply({ type: 'beat', peerId: 'P', heartbeat: beat('p', 7), protocol: 'v2' }, instant(1_000))
    // Same head again at 4 s: the beat is newer, the head is not.
    now = 4_000
    fleet.apply({ type: 'beat', peerId: 'P', heartbeat: { ...beat('p', 7), seq: 8 }, protocol: 'v2' }, instant(4_000))
    let text = await metrics.render()
    assert.deepEqual(samples(text, 'heartbeat_node_head_changed_timestamp_seconds'), ['{peer_id="P",nickname="p"} 1'])
    assert.deepEqual(samples(text, 'heartbeat_node_last_heartbeat_timestamp_seconds'), ['{peer_id="P",nickname="p"} 4'])
    // A new head at 6.5 s moves it.
    now = 6_500
    fleet.apply({ type: 'beat', peerId: 'P', heartbeat: { ...beat('p', 8), seq: 9 }, protocol: 'v2' }, instant(6_500))
    text = await metrics.render()
    assert.deepEqual(samples(text, 'heartbeat_node_head_changed_timestamp_seconds'), ['{peer_id="P",nickname="p"} 6.5'])
  })
})

describe('alert counts (heartbeat_alerts)', () => {
  it('counts pending and firing alerts per rule at scrape time, with zeros for quiet rules', async () => {
    const registry = new Registry()
    const rules = builtInRules(60_000)
    const engine = new AlertEngine(rules)
    registerAlertMetrics(registry, engine)
    const node = (peerId: string, status: string): Record<string, unknown> => ({
      peerId, nickname: peerId.toLowerCase(), status, reason: '', network: 'demo', health: { status: 'ready', components: {} },
    })
    const evaluate = (nodes: Array<Record<string, unknown>>, at: number): void => {
      engine.evaluate(alertInputFromSnapshot({ nodes }, { nodeMaintenance: () => undefined, fleetMaintenance: undefined }), instant(at))
    }
    const counts = async (): Promise<Map<string, number>> => new Map(samples(await registry.metrics(), 'heartbeat_alerts')
      .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]))

    let c = await counts()
    assert.equal(c.size, rules.length * 2, 'every rule, pending and firing, before anything happened')
    assert.ok([...c.values()].every((v) => v === 0))

    // Two nodes go down: two pending NodeDown; past `for`, both fire.
    evaluate([node('A', 'down'), node('B', 'stale'), node('C', 'healthy')], 0)
    c = await counts()
    assert.equal(c.get('{rule="NodeDown",severity="critical",state="pending"}'), 2)
    assert.equal(c.get('{rule="NodeDown",severity="critical",state="firing"}'), 0)
    evaluate([node('A', 'down'), node('B', 'stale'), node('C', 'healthy')], 61_000)
    c = await counts()
    assert.equal(c.get('{rule="NodeDown",severity="critical",state="pending"}'), 0)
    assert.equal(c.get('{rule="NodeDown",severity="critical",state="firing"}'), 2)
    assert.equal(c.get('{rule="NodeUnhealthy",severity="warning",state="firing"}'), 0)

    // One comes back: one firing left; resolved alerts are not counted.
    evaluate([node('A', 'healthy'), node('B', 'stale'), node('C', 'healthy')], 62_000)
    c = await counts()
    assert.equal(c.get('{rule="NodeDown",severity="critical",state="firing"}'), 1)
    assert.equal([...c.values()].reduce((a, b) => a + b, 0), 1)
  })
})

describe('per-network consensus from the fleet summary', () => {
  it('reads summary.networks when present and well formed', () => {
    assert.equal(readNetworks({ total: 1 }), undefined)
    assert.deepEqual(readNetworks({
      networks: [
        { network: 'bafy"main', heaviestHead: 'h', height: 7, inConsensus: 3, inDispute: 1, nodes: 4 },
        { network: 'calib', inConsensus: 1, inDispute: 0 },
        { network: 5, inConsensus: 1, inDispute: 0 },
        null,
      ],
    }), [
      { network: 'bafy_main', height: 7, inConsensus: 3, inDispute: 1, catchingUp: 0, nodes: 4, behindClock: undefined, headAgeSeconds: undefined, expectedHeight: undefined },
      { network: 'calib', height: 0, inConsensus: 1, inDispute: 0, catchingUp: 0, nodes: 1, behindClock: undefined, headAgeSeconds: undefined, expectedHeight: undefined },
    ])
  })
})
