// Through real libp2p on loopback: ten honest agents keep reporting while
// other peers misbehave in every way the issue lists. Afterwards every honest
// node is healthy, the aggregator answers and its memory is bounded.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import * as varint from 'uint8-varint'
import { Agent } from '../../agent/agent.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import { MAX_MUXED_STREAMS_PER_CONNECTION, REFUSAL_LOG_LINES } from '../../aggregator/constants.ts'
import type { StatusChange } from '../../aggregator/fleet/fleet-state.ts'
import { encodeHeartbeat } from '../../shared/codec.ts'
import { createLogger } from '../../shared/log.ts'
import { HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import { parseTarget } from '../../shared/target.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { collectGarbage, createHostilePeer, sampleBeat, streamClosed } from '../support/hostile.ts'
import { tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const HONEST_AGENTS = 10
const BEAT_PERIOD_MS = 1000
const FIRST_FRAME_TIMEOUT_MS = 1000
const PER_IP = 32
const BEAT_RATE = 5
const BEAT_BURST = 10
const FLOOD_DROPS = 50
/** Heap growth allowed over the whole attack, after GC (the attacks push far more than this through). */
const HEAP_GROWTH_LIMIT = 40 * 1024 * 1024

interface Keyed { key: PrivateKey, peerId: PeerId }
async function keyed (): Promise<Keyed> {
  const key = await generateKeyPair('Ed25519')
  return { key, peerId: peerIdFromPrivateKey(key) }
}

describe('hostile peers while ten honest agents keep reporting', { timeout: 120_000 }, () => {
  let aggregator: Aggregator
  let target: string
  let port: number
  const agents: Agent[] = []
  const hostiles: Libp2p[] = []
  const honestChanges: StatusChange[] = []
  const honestIds = new Set<string>()
  const beatsAtStart = new Map<string, number>()
  let heapBaseline = 0
  let denyFile = ''
  let attacksStartedAt = 0
  const aggregatorLog: Array<Record<string, unknown>> = []
  // Misbehaving but admitted peers (on the allowlist), and one stranger.
  let garbage: Keyed, oversized: Keyed, streamer: Keyed, silent: Keyed, flooder: Keyed, stranger: Keyed

  before(async () => {
    const honestKeys = await Promise.all(Array.from({ length: HONEST_AGENTS }, keyed))
    ;[garbage, oversized, streamer, silent, flooder, stranger] = await Promise.all(Array.from({ length: 6 }, keyed)) as [Keyed, Keyed, Keyed, Keyed, Keyed, Keyed]
    const allowFile = join(tempDir('hb-allow-'), 'allow.txt')
    const admitted = [...honestKeys, garbage, oversized, streamer, silent, flooder]
    writeFileSync(allowFile, `# honest agents and admitted-but-hostile peers\n${admitted.map((k) => k.peerId.toString()).join('\n')}\n`)
    denyFile = join(tempDir('hb-deny-'), 'deny.txt')
    writeFileSync(denyFile, '# nobody yet\n')
    aggregator = await startTestAggregator({
      logger: createLogger({ name: 'aggregator', level: 'info', destination: { write: (line: string) => { aggregatorLog.push(JSON.parse(line) as Record<string, unknown>) } } }),
      peerLists: { allowPeers: { kind: 'file', path: allowFile }, denyPeers: { kind: 'file', path: denyFile } },
      limits: {
        firstFrameTimeoutMs: FIRST_FRAME_TIMEOUT_MS,
        maxConnectionsPerIp: PER_IP,
        beatRatePerSecond: BEAT_RATE,
        beatBurst: BEAT_BURST,
        floodDrops: FLOOD_DROPS,
        floodPenaltyMs: 5 * 60_000,
      },
    })
    target = aggregator.multiaddrs()[0] as string
    port = Number(multiaddr(target).getComponents().find((c) => c.name === 'tcp')?.value)
    const quiet = createLogger({ name: 'honest-agent', level: 'silent' })
    for (const [i, { key, peerId }] of honestKeys.entries()) {
      honestIds.add(peerId.toString())
      const agent = await Agent.create({
        services: [{ name: 'primary', targets: [{ target: parseTarget(target), weight: 100 }], beatPeriodMs: BEAT_PERIOD_MS, reconnectPeriodMs: 500 }],
        source: new DemoChainSource({ blockTimeMs: 2000 }),
        nickname: `honest-${i}`,
        privateKey: key,
        logger: quiet,
      })
      agents.push(agent)
      await agent.start()
    }
    await waitFor(() => [...honestIds].every((p) => aggregator.inspect().fleet.verdict(p)?.status === 'healthy'), { timeoutMs: 20_000, what: 'ten healthy honest nodes' })
    aggregator.inspect().fleet.subscribe({ onStatusChanged: (change) => { if (honestIds.has(change.peerId)) honestChanges.push(change) } })
    for (const p of honestIds) beatsAtStart.set(p, aggregator.inspect().fleet.get(p)?.beats ?? 0)
    attacksStartedAt = Date.now()
    collectGarbage()
    heapBaseline = process.memoryUsage().heapUsed
  })

  after(async () => {
    await Promise.all([...agents.map(async (a) => { await a.stop() }), ...hostiles.map(async (h) => { await h.stop() })])
    await aggregator?.stop()
  })

  async function hostile (who: Keyed): Promise<Libp2p> {
    const node = await createHostilePeer(who.key)
    hostiles.push(node)
    return node
  }

  const rejected = (reason: string): number => aggregator.inspect().ingest.rejected.get(reason as never) ?? 0

  it('garbage frames: each resets only the sender\'s stream, counted by reason', async () => {
    const node = await hostile(garbage)
    const before = { invalid: rejected('invalid_cbor'), tag: rejected('cbor_tag'), shape: rejected('not_a_map') + rejected('bad_type') + rejected('bad_version') }
    const frames = [
      Uint8Array.from([5, 0xff, 0xfe, 0xfd, 0xfc, 0xfb]), // a length prefix, then no CBOR
      Uint8Array.from([3, 0xd8, 0x1c, 0x01]), // a CBOR tag
      Uint8Array.from([2, 0x82, 0x01]), // truncated array
      (() => { const b = encodeHeartbeat({ ...sampleBeat(), v: 3 as 2 }); return Uint8Array.from([...varint.encode(b.length), ...b]) })(),
      Uint8Array.from([1, 0x01]), // a bare integer, not a map
    ]
    for (const frame of frames) {
      const stream = await node.dialProtocol(multiaddr(target), HEARTBEAT_PROTOCOL)
      stream.send(frame)
      assert.ok(await streamClosed(stream, 5000), 'the aggregator resets the stream')
    }
    await waitFor(() => rejected('invalid_cbor') >= before.invalid + 2 && rejected('cbor_tag') >= before.tag + 1 &&
      rejected('not_a_map') + rejected('bad_type') + rejected('bad_version') >= before.shape + 2, { what: 'garbage counted by reason' })
    assert.equal(aggregator.inspect().fleet.get(garbage.peerId.toString()), undefined)
  })

  it('oversized frames: refused from the length prefix, before the body is read', async () => {
    const node = await hostile(oversized)
    const before = rejected('frame_too_large')
    const stream = await node.dialProtocol(multiaddr(target), HEARTBEAT_PROTOCOL)
    stream.send(Uint8Array.from([...varint.encode(16 * 1024 * 1024), ...new Uint8Array(64 * 1024)]))
    assert.ok(await streamClosed(stream, 5000))
    const stream2 = await node.dialProtocol(multiaddr(target), HEARTBEAT_PROTOCOL)
    stream2.send(Uint8Array.from([...varint.encode(64 * 1024 + 1), ...new Uint8Array(64 * 1024 + 1)]))
    assert.ok(await streamClosed(stream2, 5000))
    await waitFor(() => rejected('frame_too_large') >= before + 2, { what: 'oversized frames counted' })
  })

  it('a thousand streams from one peer: bounded per connection, the extra ones reset', async (t: TestContext) => {
    const node = await hostile(streamer)
    const connection = await node.dial(multiaddr(target))
    const openedBefore = aggregator.inspect().ingest.streamsOpened
    let maxServerStreams = 0
    const sampler = setInterval(() => {
      for (const c of aggregator.inspect().libp2p.getConnections(streamer.peerId)) maxServerStreams = Math.max(maxServerStreams, c.streams.length)
    }, 5)
    const results = await Promise.allSettled(Array.from({ length: 1000 }, async () =>
      await connection.newStream(HEARTBEAT_PROTOCOL, { maxOutboundStreams: 5000, signal: AbortSignal.timeout(15_000) })))
    clearInterval(sampler)
    const handled = aggregator.inspect().ingest.streamsOpened - openedBefore
    t.diagnostic(`1000 streams: ${results.filter((r) => r.status === 'fulfilled').length} negotiated on the client side, ${handled} reached the handler, at most ${maxServerStreams} open at the aggregator`)
    assert.ok(maxServerStreams <= MAX_MUXED_STREAMS_PER_CONNECTION, `the aggregator held ${maxServerStreams} streams of one connection`)
    assert.ok(handled <= 20, `${handled} streams reached the heartbeat handler`)
    // Whatever got through sends nothing and is closed by the first-frame timeout.
    await waitFor(() => aggregator.inspect().libp2p.getConnections(streamer.peerId).every((c) => c.streams.length === 0), { timeoutMs: 10_000, what: 'the streamer\'s streams to be closed' })
  })

  it('a stream that never sends is reset after the first-frame timeout', async () => {
    const node = await hostile(silent)
    const before = rejected('idle_stream')
    const opened = Date.now()
    const stream = await node.dialProtocol(multiaddr(target), HEARTBEAT_PROTOCOL)
    assert.ok(await streamClosed(stream, 10_000), 'the silent stream was closed')
    const lived = Date.now() - opened
    assert.ok(lived >= FIRST_FRAME_TIMEOUT_MS * 0.8, `closed after ${lived} ms, before the timeout`)
    await waitFor(() => rejected('idle_stream') > before, { what: 'idle stream counted' })
  })

  it('a flood of beats: the excess is dropped, then the flooder is disconnected and refused', async (t: TestContext) => {
    const node = await hostile(flooder)
    const peer = flooder.peerId.toString()
    const stream = await node.dialProtocol(multiaddr(target), HEARTBEAT_PROTOCOL)
    const lp = lpStream(stream)
    let sent = 0
    try {
      for (let seq = 0; seq < 5000; seq++) {
        await lp.write(encodeHeartbeat(sampleBeat({ seq, nickname: 'flooder', period: 1 })), { signal: AbortSignal.timeout(5000) })
        sent++
      }
    } catch { /* the aggregator cut us off */ }
    t.diagnostic(`flooder sent ${sent} beats before being cut off`)
    await waitFor(() => aggregator.inspect().ingest.rejected.get('flooding') === 1, { what: 'the flood to be detected' })
    assert.ok(sent < 5000, 'the flooder was cut off')
    assert.ok(rejected('rate_limited') >= FLOOD_DROPS - 1, `dropped ${rejected('rate_limited')}`)
    assert.ok((aggregator.inspect().fleet.get(peer)?.beats ?? 0) <= BEAT_BURST + 5, 'only the burst was folded')
    await waitFor(() => aggregator.inspect().libp2p.getConnections(flooder.peerId).length === 0, { what: 'the flooder to be disconnected' })
    await waitFor(() => node.getConnections().length === 0, { what: 'the flooder to notice' })
    assert.equal(aggregator.inspect().admission.penalties.isPenalized(peer, performance.now()), true, 'penalties run on the monotonic clock')
    const refusedBefore = aggregator.inspect().admission.refusals.count('penalized')
    await assert.rejects(node.dialProtocol(multiaddr(target), HEARTBEAT_PROTOCOL, { signal: AbortSignal.timeout(5000) }))
    await waitFor(() => aggregator.inspect().admission.refusals.count('penalized') > refusedBefore, { what: 'the redial to be refused as penalized' })
  })

  it('an unknown peer is refused at the Noise stage while the allowlist is on', async () => {
    const node = await hostile(stranger)
    const before = aggregator.inspect().admission.refusals.count('not_allowed')
    const openedBefore = aggregator.inspect().ingest.streamsOpened
    await assert.rejects(node.dialProtocol(multiaddr(target), HEARTBEAT_PROTOCOL, { signal: AbortSignal.timeout(5000) }))
    await waitFor(() => aggregator.inspect().admission.refusals.count('not_allowed') > before, { what: 'the stranger to be counted' })
    assert.equal(aggregator.inspect().ingest.streamsOpened, openedBefore, 'no stream ever reached the handler')
    assert.equal(aggregator.inspect().fleet.get(stranger.peerId.toString()), undefined)
    assert.equal(aggregator.inspect().libp2p.getConnections(stranger.peerId).length, 0)
  })

  it('a denied peer is cut off on reload and refused from then on, even though it is allowlisted', async () => {
    const node = hostiles.find((h) => h.peerId.equals(oversized.peerId)) ?? await hostile(oversized)
    await node.dial(multiaddr(target))
    await waitFor(() => aggregator.inspect().libp2p.getConnections(oversized.peerId).length > 0, { what: 'the peer to be connected' })
    writeFileSync(denyFile, `${oversized.peerId.toString()}\n`)
    assert.equal(await aggregator.reloadPeerLists(), true)
    await waitFor(() => aggregator.inspect().libp2p.getConnections(oversized.peerId).length === 0, { what: 'the denied peer to be cut off' })
    // Redial only once the peer itself has seen the connection go, or it would reuse the dying one.
    await waitFor(() => node.getConnections().length === 0, { what: 'the peer to notice' })
    const before = aggregator.inspect().admission.refusals.count('denied')
    await assert.rejects(node.dialProtocol(multiaddr(target), HEARTBEAT_PROTOCOL, { signal: AbortSignal.timeout(5000) }))
    await waitFor(() => aggregator.inspect().admission.refusals.count('denied') > before, { what: 'the redial to be refused as denied' })
  })

  it('raw connections from one IP beyond the bound are refused before any handshake', async () => {
    const before = aggregator.inspect().admission.refusals.count('too_many_connections_per_ip')
    const sockets: Socket[] = []
    const closedEarly = new Set<Socket>()
    for (let i = 0; i < PER_IP + 10; i++) {
      const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
      socket.on('error', () => {})
      socket.on('close', () => { closedEarly.add(socket) })
      sockets.push(socket)
    }
    try {
      await waitFor(() => aggregator.inspect().admission.refusals.count('too_many_connections_per_ip') >= before + 10, { what: 'per-IP refusals' })
      await waitFor(() => closedEarly.size >= 10, { what: 'the refused sockets to be closed' })
      assert.equal(aggregator.inspect().admission.perIp.count('127.0.0.2'), PER_IP)
    } finally {
      for (const s of sockets) s.destroy()
    }
    await waitFor(() => aggregator.inspect().admission.perIp.count('127.0.0.2') === 0, { what: 'the per-IP count to return to zero' })
  })

  it('afterwards every honest node is healthy, the aggregator answers, and its memory is bounded', async (t: TestContext) => {
    // Honest nodes kept reporting through all of it: about one beat per period since the attacks began.
    const expectedBeats = Math.floor((Date.now() - attacksStartedAt) / BEAT_PERIOD_MS) - 1
    const fleet = await (await fetch(`${aggregator.url}/api/v1/fleet`, { signal: AbortSignal.timeout(5000) })).json() as { nodes: Array<{ peerId: string, status: string, beats: number }> }
    const honest = fleet.nodes.filter((n) => honestIds.has(n.peerId))
    assert.equal(honest.length, HONEST_AGENTS)
    for (const node of honest) {
      assert.equal(node.status, 'healthy', `${node.peerId} is ${node.status}`)
      const beats = node.beats - (beatsAtStart.get(node.peerId) ?? 0)
      assert.ok(beats >= Math.max(1, expectedBeats), `${node.peerId} sent ${beats} beats, expected ${expectedBeats}`)
    }
    assert.deepEqual(honestChanges.map((c) => `${c.peerId} ${c.to}: ${c.reason}`), [], 'no honest node left healthy during the attacks')
    // Nobody else got in: the honest nodes plus the one flooder whose burst was folded.
    assert.deepEqual(fleet.nodes.filter((n) => !honestIds.has(n.peerId)).map((n) => n.peerId), [flooder.peerId.toString()])

    await Promise.all(hostiles.map(async (h) => { await h.stop() }))
    hostiles.length = 0
    await waitFor(() => aggregator.inspect().libp2p.getConnections().length === HONEST_AGENTS, { timeoutMs: 10_000, what: 'only honest connections left' })
    assert.equal(aggregator.inspect().admission.perIp.count('127.0.0.1'), HONEST_AGENTS, 'per-IP counts follow closed connections')
    // Refusals were logged at a bounded rate: the guard's lines stay within its budget however many refusals there were.
    const refusals = Object.values(aggregator.inspect().admission.refusals.toJSON()).reduce((a, b) => a + b, 0) + (aggregator.inspect().ingest.rejected.get('flooding') ?? 0)
    const refusalLines = aggregatorLog.filter((l) => typeof l.msg === 'string' && (l.msg.startsWith('refused a connection') || l.msg.startsWith('peer floods')))
    assert.ok(refusals > REFUSAL_LOG_LINES, `${refusals} refusals`)
    // All of it happened within one log window (under a minute): exactly the window's budget of lines.
    assert.equal(refusalLines.length, REFUSAL_LOG_LINES, `${refusalLines.length} refusal log lines for ${refusals} refusals`)

    collectGarbage()
    const growth = process.memoryUsage().heapUsed - heapBaseline
    t.diagnostic(`heap growth over the attacks: ${(growth / 1024 / 1024).toFixed(1)} MiB; admission ${JSON.stringify(aggregator.inspect().admission.refusals.toJSON())}; ingest ${JSON.stringify(aggregator.inspect().ingest.toJSON())}`)
    assert.ok(growth < HEAP_GROWTH_LIMIT, `heap grew by ${(growth / 1024 / 1024).toFixed(1)} MiB`)
    assert.ok(aggregator.inspect().beats.size <= HONEST_AGENTS + 6)
  })
})
