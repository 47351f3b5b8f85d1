// The load generator's simulated agent (bench/workers/lean-agent.ts) must behave
// like the real one where the benchmarks rely on it: every agent is its own
// peer, its beats are valid heartbeats with a running seq, and when the
// aggregator goes away and comes back on the same address it reconnects (with
// the real agent's backoff) and the seq carries on.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseWeightedTarget } from '../../agent/targets.ts'
import { LeanSwarm } from '../../bench/workers/lean-swarm.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { freePort } from '../support/ports.ts'
import { tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

test('lean agents beat as distinct peers and come back after the aggregator restarts', { timeout: 60_000 }, async (t) => {
  const port = await freePort()
  const dataDir = tempDir('hb-lean-')
  const listen = [`/ip4/127.0.0.1/tcp/${port}`]
  let aggregator = await startTestAggregator({ listen, dataDir })
  t.after(async () => { await aggregator.stop() })
  const swarm = new LeanSwarm({
    count: 3,
    target: parseWeightedTarget(`${aggregator.multiaddrs()[0]!}`),
    beatPeriodMs: 200,
    reconnectPeriodMs: 500,
    nicknamePrefix: 'lean-test',
    originMs: Date.now(),
  })
  t.after(async () => { await swarm.stop() })
  await swarm.start()

  await waitFor(() => aggregator.inspect().ingest.accepted >= 9, { timeoutMs: 20_000, intervalMs: 20, what: 'three beats from each of three agents' })
  const peers = new Set(swarm.agents.map((a) => a.peerId))
  assert.equal(peers.size, 3, 'every agent its own identity')
  const seqBefore = new Map<string, number>()
  for (const peerId of peers) {
    const node = aggregator.inspect().fleet.get(peerId)
    assert.ok(node !== undefined, `the aggregator knows ${peerId}`)
    assert.equal(node.beat.nickname.startsWith('lean-test-'), true)
    assert.equal(node.beat.period, 200)
    assert.equal(node.beat.health.components.chain_source?.status, 'ready')
    seqBefore.set(peerId, node.beat.seq)
  }
  assert.equal(aggregator.inspect().ingest.totalRejected(), 0, `rejected: ${JSON.stringify(aggregator.inspect().ingest.toJSON())}`)

  await aggregator.stop()
  await waitFor(() => swarm.status().connected === 0, { timeoutMs: 10_000, intervalMs: 20, what: 'every agent to notice' })
  aggregator = await startTestAggregator({ listen, dataDir })
  await waitFor(() => swarm.status().connected === 3 && aggregator.inspect().ingest.accepted >= 6, { timeoutMs: 20_000, intervalMs: 20, what: 'every agent back and beating' })
  for (const peerId of peers) {
    const node = aggregator.inspect().fleet.get(peerId)
    assert.ok(node !== undefined, `${peerId} is back`)
    assert.ok(node.beat.seq > seqBefore.get(peerId)!, 'the seq carries on across the reconnect, as the real agent\'s')
  }
  assert.ok(swarm.status().beatsSent > 9)
})
