import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AlertEngine } from '../../aggregator/alerts/engine.ts'
import { alertInputFromSnapshot } from '../../aggregator/alerts/input.ts'
import { builtInRules } from '../../aggregator/alerts/rules.ts'
import { chainOf, FILECOIN_CALIBNET, FILECOIN_MAINNET } from '../../aggregator/fleet/chains.ts'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { foldNode } from '../../aggregator/fleet/fold.ts'
import { headAgeAt, headAgeThresholdOf } from '../../aggregator/fleet/head-age.ts'
import type { FleetEvent, NodeRecord } from '../../aggregator/fleet/types.ts'
import { fleetViews } from '../../aggregator/fleet/view.ts'
import { fleetSnapshot } from '../../aggregator/metrics/fleet-snapshot.ts'
import { agreementLook } from '../../aggregator/web/src/header-view.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { sampleHeartbeat } from '../support/fixtures.ts'
import { at } from '../support/instant.ts'

const MAINNET = 'bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2'
const CALIBNET = 'bafy2bzacecyaggy24wol5ruvs6qm73gjibs2l2iyhcqmvi7r7a4ph7zx3yqd4'
const EPOCH = 30_000
/** A moment on mainnet: epoch 2,000,000 began here. */
const T = FILECOIN_MAINNET.genesisMs! + 2_000_000 * EPOCH
const HOUR = 3_600_000

const beatOf = (peerId: string, fields: Partial<Heartbeat>): FleetEvent => ({ type: 'beat', peerId, protocol: 'v2', heartbeat: sampleHeartbeat(fields) })

describe('the chains the aggregator knows', () => {
  it('knows Filecoin by genesis CID and network name, Ethereum and Filecoin EVM chains by chain id', () => {
    assert.equal(chainOf(MAINNET), FILECOIN_MAINNET)
    assert.equal(chainOf('testnetnet'), FILECOIN_MAINNET)
    assert.equal(chainOf(CALIBNET), FILECOIN_CALIBNET)
    assert.equal(chainOf('calibrationnet'), FILECOIN_CALIBNET)
    assert.equal(FILECOIN_MAINNET.genesisMs, 1_598_306_400_000)
    assert.equal(FILECOIN_CALIBNET.genesisMs, 1_667_326_380_000)
    assert.equal(chainOf('eip155:1/0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3')?.blockTimeMs, 12_000)
    assert.equal(chainOf('eip155:314'), FILECOIN_MAINNET)
    assert.equal(chainOf('eip155:424242'), undefined)
    assert.equal(chainOf('demo'), undefined)
  })

  it('judges head age against several of the network\'s block times, a named default for unknown networks, or the flag', () => {
    assert.equal(headAgeThresholdOf(MAINNET, undefined), 150_000)
    assert.equal(headAgeThresholdOf('eip155:1/0xabc', undefined), 60_000)
    assert.equal(headAgeThresholdOf('demo', undefined), 600_000)
    assert.equal(headAgeThresholdOf(MAINNET, 45_000), 45_000)
  })
})

describe('head age', () => {
  it('is the agent\'s own comparison of block time and send time, aged by our monotonic clock: a wall step changes nothing', () => {
    const record = foldNode(undefined, beatOf('a', { sentAt: 1_000_000, headTime: 1_000_000 - 60_000 }), at(5_000)) as NodeRecord
    assert.equal(headAgeAt(record, 5_000), 60_000)
    assert.equal(headAgeAt(record, 15_000), 70_000)
    // Our wall clock stepped by +/-10 min between receipt and judgement: the same ages (no wall time is read).
    const stepped = foldNode(undefined, beatOf('a', { sentAt: 1_000_000, headTime: 1_000_000 - 60_000 }), at(5_000, 600_000)) as NodeRecord
    assert.equal(headAgeAt(stepped, 15_000), 70_000)
    // A head from the agent's future (its clock behind the block's): 0, not negative.
    const ahead = foldNode(undefined, beatOf('a', { sentAt: 1_000_000, headTime: 1_010_000 }), at(5_000)) as NodeRecord
    assert.equal(headAgeAt(ahead, 5_000), 0)
  })

  it('on Filecoin follows from the height when the beat carries no headTime (heights are a clock)', () => {
    const record = foldNode(undefined, beatOf('a', { network: MAINNET, height: 2_000_000 - 10, sentAt: T + 5_000 }), at(0)) as NodeRecord
    assert.equal(headAgeAt(record, 0), 10 * EPOCH + 5_000)
  })
})

describe('sync judged by time', () => {
  it('every node on a head an hour old at the same height: none healthy, the age and epochs in the reason, the network behind the clock, FleetBehindClock fires', () => {
    const fleet = new FleetState()
    const height = 2_000_000 - 120
    const headTime = FILECOIN_MAINNET.genesisMs! + height * EPOCH
    for (let seq = 0; seq < 3; seq++) {
      // Our wall clock agrees with the agents' (T at monotonic 0): no skew to mention.
      for (const peer of ['a', 'b', 'c']) fleet.apply(beatOf(peer, { seq, network: MAINNET, height, head: `{h${height}}`, headTime, sentAt: T + seq * 1_000, period: 1_000 }), at(seq * 1_000, T))
    }
    const now = at(2_000, T)
    const { nodes, summary } = fleetViews(fleet, now)
    assert.deepEqual(nodes.map((n) => n.status), ['degraded', 'degraded', 'degraded'], 'none healthy, though all agree')
    for (const n of nodes) {
      assert.equal(n.reason, `head older than 2m30s: its block is from ${new Date(headTime).toISOString().slice(11, 19)}Z (1h0m0s old at the last heartbeat, 120 epochs behind the clock)`)
      assert.equal(n.epochsBehindClock, 120)
      assert.equal(n.expectedHeight, 2_000_000)
      assert.equal(n.headAgeMs, HOUR + 2_000)
    }
    const network = summary.networks[0]
    assert.equal(network?.inConsensus, 3, 'in consensus...')
    assert.equal(network?.behindClock, true, '...and behind the clock')
    assert.equal(network?.expectedHeight, 2_000_000)
    assert.equal(network?.epochsBehindClock, 120)
    const engine = new AlertEngine(builtInRules(0))
    const fired = engine.evaluate(alertInputFromSnapshot({ nodes, summary }, { nodeMaintenance: () => undefined, fleetMaintenance: undefined }), now)
    const behind = fired.find((n) => n.alert.name === 'FleetBehindClock')
    assert.equal(behind?.alert.severity, 'critical')
    assert.equal(behind?.alert.summary, `every reporting node (3) of network ${MAINNET} is behind the clock: its freshest head is 1h0m0s old, 120 epochs behind`)
    // The Prometheus twin reads the same thing.
    const sample = fleetSnapshot({ nodes, summary }).networks?.[0]
    assert.equal(sample?.behindClock, true)
    assert.equal(sample?.headAgeSeconds, (HOUR + 2_000) / 1000)
  })

  it('one node with a fresh head: the network is not behind the clock, the old ones are degraded alone', () => {
    const fleet = new FleetState()
    fleet.apply(beatOf('old', { network: 'eip155:1/0xabc', height: 100, head: '{100}', headTime: 1_000_000, sentAt: 1_000_000 + 120_000 }), at(0))
    fleet.apply(beatOf('new', { network: 'eip155:1/0xabc', height: 104, head: '{104}', headTime: 1_110_000, sentAt: 1_120_000 }), at(0))
    const { nodes, summary } = fleetViews(fleet, at(0))
    assert.deepEqual(nodes.map((n) => [n.peerId, n.status]).sort(), [['new', 'healthy'], ['old', 'degraded']])
    assert.equal(summary.networks[0]?.behindClock, false)
    assert.equal(summary.networks[0]?.headAgeMs, 10_000)
  })

  it('a head turns old by itself, at its deadline: no beat needed', () => {
    const fleet = new FleetState()
    fleet.apply(beatOf('a', { network: 'eip155:1/0xabc', period: 600_000, headTime: 1_000_000, sentAt: 1_000_000 + 50_000 }), at(0))
    assert.equal(fleet.verdict('a')?.status, 'healthy')
    fleet.tick(at(9_999))
    assert.equal(fleet.verdict('a')?.status, 'healthy')
    fleet.tick(at(10_250))
    assert.equal(fleet.verdict('a')?.status, 'degraded')
    assert.match(fleet.verdict('a')?.reason ?? '', /^head older than 1m0s: its block is from /)
  })

  it('says when the agent\'s clock and ours differ a lot: the age is by the agent\'s clock', () => {
    const fleet = new FleetState()
    // Arrival (our wall clock) 5 min after the agent says it sent it.
    fleet.apply(beatOf('a', { network: 'eip155:1/0xabc', headTime: 1_000_000, sentAt: 1_000_000 + 120_000 }), at(0, 1_000_000 + 120_000 + 300_000))
    assert.match(fleet.verdict('a')?.reason ?? '', /; the agent's clock is 5m0s behind the aggregator's \(the age is by the agent's clock\)$/)
  })
})

describe('a node that has never read a head', () => {
  const noHead = (peer: string, error?: string): FleetEvent => beatOf(peer, {
    head: '', height: 0, network: '',
    health: { status: 'not_ready', components: { chain_source: { status: 'not_ready', details: error === undefined ? {} : { source: 'lotus', error } } } },
  })

  it('is unhealthy with that reason and the chain source\'s error, and counts towards nothing', () => {
    const fleet = new FleetState()
    fleet.apply(noHead('x', 'connect ECONNREFUSED 127.0.0.1:1234'), at(0))
    assert.deepEqual(fleet.verdict('x'), { status: 'unhealthy', reason: 'has not read a head from its node yet: connect ECONNREFUSED 127.0.0.1:1234' })
    const { summary } = fleetViews(fleet, at(0))
    assert.deepEqual(summary.networks.map((n) => [n.network, n.heaviestHead, n.height, n.inConsensus, n.inDispute, n.reporting, n.nodes]), [['', null, 0, 0, 0, 0, 1]])
    assert.equal(summary.maxHeight, 0)
    // heartbeat_fleet_nodes_in_consensus{network=""} reads 0, not 1.
    assert.equal(fleetSnapshot(fleetViews(fleet, at(0))).networks?.[0]?.inConsensus, 0)
    // The header shows no agreement at all for it.
    assert.equal(agreementLook(summary.networks[0]!).tone, 'off')
  })

  it('does not set its network\'s height or disagree with it', () => {
    const fleet = new FleetState()
    fleet.apply(beatOf('a', { network: 'n', height: 50, head: '{50}' }), at(0))
    fleet.apply(noHead('x'), at(0))
    fleet.apply({ ...noHead('y'), heartbeat: { ...(noHead('y') as { heartbeat: Heartbeat }).heartbeat, network: 'n' } } as FleetEvent, at(0))
    const n = fleetViews(fleet, at(0)).summary.networks.find((s) => s.network === 'n')
    assert.deepEqual([n?.height, n?.inConsensus, n?.inDispute, n?.reporting, n?.nodes], [50, 1, 0, 1, 2])
    assert.equal(fleet.verdict('y')?.reason, 'has not read a head from its node yet')
  })
})

describe('block boundaries', () => {
  it('a node one block behind for less than a block time is catching up, not in dispute; longer, it is', () => {
    const fleet = new FleetState()
    // Filecoin mainnet: a block time of 30 s.
    const beat = (peer: string, seq: number, height: number): FleetEvent => beatOf(peer, { seq, network: MAINNET, height, head: `{${height}}`, headTime: T, sentAt: T, period: 60_000 })
    fleet.apply(beat('a', 1, 10), at(0, T))
    fleet.apply(beat('b', 1, 10), at(0, T))
    fleet.apply(beat('a', 2, 11), at(1_000, T))
    const during = fleet.consensus(at(20_000)).networks.get(MAINNET)
    assert.deepEqual([during?.inConsensus, during?.catchingUp, during?.inDispute], [1, 1, 0])
    fleet.tick(at(31_000))
    const after = fleet.consensus(at(31_000)).networks.get(MAINNET)
    assert.deepEqual([after?.inConsensus, after?.catchingUp, after?.inDispute], [1, 0, 1])
  })

  it('on a network of unknown block time, the grace is the interval observed between its new heights', () => {
    const fleet = new FleetState()
    for (let h = 1; h <= 4; h++) {
      fleet.apply(beatOf('a', { seq: h, network: 'demo', height: h, head: `{${h}}` }), at(h * 5_000))
      fleet.apply(beatOf('b', { seq: h, network: 'demo', height: h, head: `{${h}}` }), at(h * 5_000 + 100))
    }
    fleet.apply(beatOf('a', { seq: 5, network: 'demo', height: 5, head: '{5}' }), at(25_000))
    assert.equal(fleet.consensus(at(26_000)).networks.get('demo')?.inDispute, 0, 'b has not heard yet')
    assert.equal(fleet.consensus(at(31_000)).networks.get('demo')?.inDispute, 1, 'a block time later it has missed it')
  })
})

describe('the heaviest-head tile', () => {
  const network = (fields: Record<string, unknown>) => ({ network: 'n', heaviestHead: '{h}', height: 10, inConsensus: 0, inDispute: 0, catchingUp: 0, reporting: 0, nodes: 0, ...fields })
  it('is green only when a high share agrees, amber from half, red below; 0 of N is red; no reporting node, no agreement', () => {
    assert.equal(agreementLook(network({ inConsensus: 10, reporting: 10, nodes: 10 })).tone, 'ok')
    assert.equal(agreementLook(network({ inConsensus: 1, catchingUp: 9, reporting: 10, nodes: 10 })).tone, 'ok', 'a block boundary is still agreement')
    assert.equal(agreementLook(network({ inConsensus: 8, inDispute: 2, reporting: 10, nodes: 10 })).tone, 'warn')
    assert.equal(agreementLook(network({ inConsensus: 4, inDispute: 6, reporting: 10, nodes: 10 })).tone, 'bad')
    assert.deepEqual([agreementLook(network({ inConsensus: 0, inDispute: 1, reporting: 1, nodes: 1 })).tone, agreementLook(network({ inConsensus: 0, inDispute: 1, reporting: 1, nodes: 1 })).text], ['bad', '0 of 1 agree'])
    assert.equal(agreementLook(network({ heaviestHead: null, nodes: 3 })).text, 'no node reports a head')
    const behind = agreementLook(network({ inConsensus: 3, reporting: 3, nodes: 3, behindClock: true, headAgeMs: HOUR, epochsBehindClock: 120 }))
    assert.deepEqual([behind.tone, behind.text], ['bad', 'behind the clock (head 1h 00m old, 120 epochs behind)'])
  })
})
