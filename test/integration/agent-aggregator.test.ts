import { test } from 'node:test'
import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { createLibp2p } from 'libp2p'
import { Agent } from '../../agent/agent.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import { HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import { createLogger } from '../../shared/log.ts'
import { parseTarget } from '../../shared/target.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { waitFor } from '../support/wait.ts'

const quiet = createLogger({ name: 'test-agent', level: 'silent' })

async function startAgent (targets: Array<{ name: string, multiaddr: string, reconnectPeriodMs?: number }>, nickname: string): Promise<Agent> {
  const agent = await Agent.create({
    services: targets.map((t) => ({ name: t.name, targets: [{ target: parseTarget(t.multiaddr), weight: 100 }], beatPeriodMs: 200, reconnectPeriodMs: t.reconnectPeriodMs ?? 1000 })),
    source: new DemoChainSource({ blockTimeMs: 300 }),
    nickname,
    logger: quiet,
  })
  await agent.start()
  return agent
}

test('an agent reports to the aggregator over libp2p: nickname, head, rising height, health', async (t) => {
  const aggregator = await startTestAggregator()
  const agent = await startAgent([{ name: 'primary', multiaddr: aggregator.multiaddrs()[0]! }], 'alice')
  t.after(async () => { await agent.stop(); await aggregator.stop() })

  const first = await waitFor(() => aggregator.inspect().fleet.get(agent.peerId), { what: 'the first heartbeat' })
  assert.equal(first.beat.nickname, 'alice')
  assert.equal(first.beat.network, 'demo')
  assert.match(first.beat.head, /^\{bafy/)
  assert.equal(first.beat.health.components.chain_source?.status, 'ready')
  assert.equal(aggregator.inspect().fleet.verdict(agent.peerId)?.status, 'healthy')
  await waitFor(() => (aggregator.inspect().fleet.get(agent.peerId)?.beat.height ?? 0) > first.beat.height, { what: 'a higher height' })
  assert.equal(aggregator.inspect().fleet.get(agent.peerId)?.seqGaps, 0)
})

test('the aggregator restarts and the agent is back within one reconnect period', async (t) => {
  const privateKey = await generateKeyPair('Ed25519')
  let aggregator = await startTestAggregator({ privateKey })
  const multiaddr = aggregator.multiaddrs()[0]!
  const port = Number(multiaddr.split('/')[4])
  const reconnectPeriodMs = 1000
  const agent = await startAgent([{ name: 'primary', multiaddr, reconnectPeriodMs }], 'bob')
  t.after(async () => { await agent.stop(); await aggregator.stop() })
  await waitFor(() => aggregator.inspect().fleet.get(agent.peerId), { what: 'the first heartbeat' })

  await aggregator.stop()
  await waitFor(() => !agent.status()[0]!.connected, { what: 'the agent to notice' })
  aggregator = await startTestAggregator({ privateKey, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
  const restartedAt = Date.now()
  await waitFor(() => aggregator.inspect().fleet.get(agent.peerId), { timeoutMs: reconnectPeriodMs + 1500, what: 'the agent to come back' })
  const backAfter = Date.now() - restartedAt
  assert.ok(backAfter <= reconnectPeriodMs + 500, `back after ${backAfter} ms`)
})

test('two services (primary and FIL_HEARTBEAT_ALERTS) feed two aggregators, each on its own', async (t) => {
  const primary = await startTestAggregator()
  const alerts = await startTestAggregator()
  const agent = await startAgent([
    { name: 'primary', multiaddr: primary.multiaddrs()[0]! },
    { name: 'alerts', multiaddr: alerts.multiaddrs()[0]! },
  ], 'carol')
  t.after(async () => { await agent.stop(); await primary.stop(); await alerts.stop() })
  await waitFor(() => primary.inspect().fleet.get(agent.peerId) !== undefined && alerts.inspect().fleet.get(agent.peerId) !== undefined, { what: 'both aggregators' })
  // One fails, the other keeps going.
  await alerts.stop()
  const seen = primary.inspect().fleet.get(agent.peerId)!.beats
  await waitFor(() => primary.inspect().fleet.get(agent.peerId)!.beats > seen + 2, { what: 'the primary to keep receiving' })
  assert.equal(agent.status().find((s) => s.name === 'primary')?.connected, true)
})

test('a peer that writes garbage loses its stream; every other node stays healthy', async (t) => {
  const aggregator = await startTestAggregator()
  const honest = await startAgent([{ name: 'primary', multiaddr: aggregator.multiaddrs()[0]! }], 'honest')
  const evil = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  t.after(async () => { await honest.stop(); await evil.stop(); await aggregator.stop() })
  await waitFor(() => aggregator.inspect().fleet.get(honest.peerId), { what: 'the honest node' })

  for (const garbage of [new Uint8Array([5, 0xff, 0xfe, 0xfd, 0xfc, 0xfb]), new TextEncoder().encode('\u0010not cbor at all!')]) {
    const stream = await evil.dialProtocol(aggregator.inspect().libp2p.getMultiaddrs()[0]!, HEARTBEAT_PROTOCOL)
    stream.send(garbage)
    await waitFor(() => stream.status === 'reset' || stream.status === 'aborted' || stream.status === 'closed', { what: 'the garbage stream to be reset' })
  }
  // A frame over the limit too.
  const big = await evil.dialProtocol(aggregator.inspect().libp2p.getMultiaddrs()[0]!, HEARTBEAT_PROTOCOL)
  await lpStream(big).write(new Uint8Array(70 * 1024)).catch(() => {})
  await waitFor(() => big.status !== 'open', { what: 'the oversized stream to be reset' })

  assert.equal(aggregator.inspect().fleet.get(evil.peerId.toString()), undefined, 'garbage never becomes a node')
  assert.ok(aggregator.inspect().ingest.totalRejected() >= 3)
  assert.ok((aggregator.inspect().ingest.rejected.get('frame_too_large') ?? 0) >= 1)
  const before = aggregator.inspect().fleet.get(honest.peerId)!.beats
  await waitFor(() => aggregator.inspect().fleet.get(honest.peerId)!.beats > before + 2, { what: 'honest beats to continue' })
  assert.equal(aggregator.inspect().fleet.verdict(honest.peerId)?.status, 'healthy')
})
