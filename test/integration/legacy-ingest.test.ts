// go-filecoin nodes on fil/heartbeat/1.0.0, over real libp2p on loopback: the
// bytes on the stream are exactly what go-filecoin's HeartbeatService wrote
// (json.Encoder: one object per line, struct field order, HTML characters
// escaped as \u003c \u003e \u0026).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, Stream } from '@libp2p/interface'
import { byteStream, lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createAgentHost } from '../../agent/host.ts'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import { encodeHeartbeat } from '../../shared/codec.ts'
import { HEARTBEAT_PROTOCOL, LEGACY_HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import { heartbeat } from '../support/heartbeats.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { fetchJson } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const enc = new TextEncoder()
const GENESIS = 'bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2'
const TIPSET = '{ bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3uy6uue42v4 bafy2bzacebfkc4mwkadcqxdd5xtbmnlubcvtjdbg36hidmdkmkjyhgp4eayo }'

/** One heartbeat line, byte for byte as Go's json.Encoder.Encode(hb) writes it. */
function goLine (fields: { head: string, height: number, nickname: string, minerAddress: string, genesis?: string }): string {
  // Field order is the struct's; Go escapes <, > and & inside strings.
  const goString = (s: string): string => JSON.stringify(s).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
  const genesis = fields.genesis === undefined ? '' : `,"GenesisCID":{"/":${goString(fields.genesis)}}`
  return `{"Head":${goString(fields.head)},"Height":${fields.height},"Nickname":${goString(fields.nickname)},"MinerAddress":${goString(fields.minerAddress)}${genesis}}\n`
}

async function startNode (): Promise<Libp2p> {
  return await createAgentHost(await generateKeyPair('Ed25519'), { dialTimeoutMs: 5_000 })
}

function target (aggregator: Aggregator): ReturnType<typeof multiaddr> {
  return multiaddr(`${aggregator.multiaddrs()[0] as string}`)
}

async function fleetNode (aggregator: Aggregator, peerId: string): Promise<any> {
  const fleet = await fetchJson(`${aggregator.url}/api/v1/fleet`)
  return fleet.nodes.find((n: { peerId: string }) => n.peerId === peerId)
}

async function streamEnded (stream: Stream): Promise<void> {
  await waitFor(() => stream.status !== 'open', { what: 'the aggregator to reset the stream', timeoutMs: 5_000 })
}

describe('legacy ingest (fil/heartbeat/1.0.0) over libp2p', () => {
  let aggregator: Aggregator
  const nodes: Libp2p[] = []

  before(async () => {
    aggregator = await startTestAggregator({ maxFrameBytes: 2048 })
  })

  after(async () => {
    await Promise.all(nodes.map(async (n) => { await n.stop() }))
    await aggregator.stop()
  })

  it('folds go-filecoin heartbeats like any node, marked legacy, with no components', async () => {
    const node = await startNode()
    nodes.push(node)
    const peerId = node.peerId.toString()
    const stream = await node.dialProtocol(target(aggregator), LEGACY_HEARTBEAT_PROTOCOL)
    const bytes = byteStream(stream)
    const first = goLine({ head: TIPSET, height: 1000, nickname: 'go-filecoin & friends', minerAddress: '<empty>', genesis: GENESIS })
    await bytes.write(enc.encode(first))
    const node1 = await waitFor(async () => await fleetNode(aggregator, peerId), { what: 'the legacy node in the fleet' })
    assert.equal(node1.protocol, 'legacy')
    assert.equal(node1.head, TIPSET)
    assert.equal(node1.height, 1000)
    assert.equal(node1.nickname, 'go-filecoin & friends')
    assert.equal(node1.minerAddress, '', "go-filecoin's empty address is no address")
    assert.equal(node1.network, GENESIS)
    assert.deepEqual(node1.health, { status: 'ready', components: {} })
    assert.equal(node1.skewMs, null)
    assert.equal(node1.connected, true)
    assert.equal(node1.status, 'healthy')
    assert.equal(node1.agent.version, 'go-filecoin (fil/heartbeat/1.0.0)')

    // One line split over two writes, then two lines in one write.
    const second = goLine({ head: '{ bafy-next }', height: 1001, nickname: 'go-filecoin & friends', minerAddress: 't01000', genesis: GENESIS })
    await bytes.write(enc.encode(second.slice(0, 17)))
    await bytes.write(enc.encode(second.slice(17)))
    const thirdAndFourth = goLine({ head: '{ bafy-1002 }', height: 1002, nickname: 'renamed', minerAddress: 't01000', genesis: GENESIS }) +
      goLine({ head: '{ bafy-1003 }', height: 1003, nickname: 'renamed', minerAddress: 't01000', genesis: GENESIS })
    await bytes.write(enc.encode(thirdAndFourth))
    const latest = await waitFor(async () => {
      const n = await fleetNode(aggregator, peerId)
      return n?.height === 1003 ? n : undefined
    }, { what: 'height 1003' })
    assert.equal(latest.beats, 4)
    assert.equal(latest.seq, 3)
    assert.equal(latest.seqGaps, 0)
    assert.equal(latest.nickname, 'renamed', 'nicknames are read from every beat, not only at start')
    assert.equal(latest.minerAddress, 't01000')
    const fleet = await fetchJson(`${aggregator.url}/api/v1/fleet`)
    const network = fleet.summary.networks.find((n: { network: string }) => n.network === GENESIS)
    assert.equal(network.heaviestHead, '{ bafy-1003 }')
    assert.equal(network.inConsensus, 1)
    assert.equal(stream.status, 'open', 'good lines keep the long-lived stream open')
  })

  it('resets a stream that sends bad JSON, counts it, and keeps what it knew', async () => {
    const node = await startNode()
    nodes.push(node)
    const peerId = node.peerId.toString()
    const before = aggregator.inspect().ingest.rejected.get('legacy_bad_json') ?? 0
    const stream = await node.dialProtocol(target(aggregator), LEGACY_HEARTBEAT_PROTOCOL)
    const bytes = byteStream(stream)
    await bytes.write(enc.encode(goLine({ head: '{ a }', height: 7, nickname: 'flaky', minerAddress: '' })))
    await waitFor(async () => await fleetNode(aggregator, peerId), { what: 'the first good line' })
    await bytes.write(enc.encode('{"Head":"{ b }","Height":\n'))
    await streamEnded(stream)
    assert.equal(aggregator.inspect().ingest.rejected.get('legacy_bad_json'), before + 1)
    const known = await fleetNode(aggregator, peerId)
    assert.equal(known.height, 7)
    assert.equal(known.network, '', 'no GenesisCID: network unknown')
  })

  it('resets a stream whose line outgrows the frame limit before it ends', async () => {
    const node = await startNode()
    nodes.push(node)
    const before = aggregator.inspect().ingest.rejected.get('frame_too_large') ?? 0
    const stream = await node.dialProtocol(target(aggregator), LEGACY_HEARTBEAT_PROTOCOL)
    const bytes = byteStream(stream)
    // 4 KiB without a newline against a 2 KiB limit.
    await bytes.write(enc.encode(`{"Head":"${'x'.repeat(4096)}`))
    await streamEnded(stream)
    assert.equal(aggregator.inspect().ingest.rejected.get('frame_too_large'), before + 1)
    assert.equal(await fleetNode(aggregator, node.peerId.toString()), undefined)
  })
})

describe('--network over libp2p', () => {
  let aggregator: Aggregator
  const nodes: Libp2p[] = []

  before(async () => {
    aggregator = await startTestAggregator({ network: GENESIS })
  })

  after(async () => {
    await Promise.all(nodes.map(async (n) => { await n.stop() }))
    await aggregator.stop()
  })

  it('refuses and counts heartbeats of other networks, on both protocols, and takes its own', async () => {
    const legacyOther = await startNode()
    const v2Other = await startNode()
    const legacyOwn = await startNode()
    nodes.push(legacyOther, v2Other, legacyOwn)

    const s1 = await legacyOther.dialProtocol(target(aggregator), LEGACY_HEARTBEAT_PROTOCOL)
    await byteStream(s1).write(enc.encode(goLine({ head: '{ t }', height: 5, nickname: 'testnet-node', minerAddress: '', genesis: 'bafy-some-other-genesis' })))
    await streamEnded(s1)

    const s2 = await v2Other.dialProtocol(target(aggregator), HEARTBEAT_PROTOCOL)
    await lpStream(s2).write(encodeHeartbeat(heartbeat({ network: 'calibnet' })))
    await streamEnded(s2)

    const s3 = await legacyOwn.dialProtocol(target(aggregator), LEGACY_HEARTBEAT_PROTOCOL)
    await byteStream(s3).write(enc.encode(goLine({ head: '{ m }', height: 9, nickname: 'mainnet-node', minerAddress: '', genesis: GENESIS })))
    await waitFor(async () => await fleetNode(aggregator, legacyOwn.peerId.toString()), { what: 'the node of the right network' })

    assert.equal(aggregator.inspect().ingest.rejected.get('wrong_network'), 2)
    const fleet = await fetchJson(`${aggregator.url}/api/v1/fleet`)
    assert.deepEqual(fleet.nodes.map((n: { nickname: string }) => n.nickname), ['mainnet-node'])
    assert.equal(fleet.summary.network, GENESIS)
    assert.deepEqual(fleet.summary.networks.map((n: { network: string, nodes: number }) => [n.network, n.nodes]), [[GENESIS, 1]])
  })
})
