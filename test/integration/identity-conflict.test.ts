import assert from 'node:assert/strict'
import { test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { IDENTITY_REFUSAL_GRACE_MS } from '../../aggregator/constants.ts'
import { encodeHeartbeat } from '../../shared/codec.ts'
import { HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import { captureLogger, startTestAgent, weighted } from '../support/agents.ts'
import { heartbeat } from '../support/heartbeats.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { waitFor } from '../support/wait.ts'

test('two agents on one key: the node is flagged unhealthy, the newer agent is refused and logs why, the older keeps beating', async (t) => {
  const aggregator = await startTestAggregator()
  const target = weighted(aggregator.multiaddrs()[0]!)
  const privateKey = await generateKeyPair('Ed25519')
  const older = captureLogger('older')
  const newer = captureLogger('newer')
  const alpha = await startTestAgent({ privateKey, targets: [target], nickname: 'alpha', logger: older.logger, beatPeriodMs: 200, reconnectPeriodMs: 500 })
  t.after(async () => { await alpha.stop(); await aggregator.stop() })
  const { fleet, ingest } = aggregator.inspect()
  await waitFor(() => fleet.verdict(alpha.peerId)?.status === 'healthy', { what: 'alpha healthy' })

  const bravo = await startTestAgent({ privateKey, targets: [target], nickname: 'bravo', logger: newer.logger, beatPeriodMs: 200, reconnectPeriodMs: 500 })
  t.after(async () => { await bravo.stop() })
  const startedAt = Date.now()
  const flagged = await waitFor(() => fleet.get(alpha.peerId)?.identityConflict, { what: 'the identity conflict' })
  assert.ok(Date.now() - startedAt < 5_000, `flagged after ${Date.now() - startedAt} ms`)
  assert.equal(flagged.agents, 2)
  assert.equal(flagged.addresses.length, 2)
  assert.ok(flagged.addresses.every((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && !a.includes('/p2p/')), flagged.addresses.join())
  const verdict = fleet.verdict(alpha.peerId)
  assert.equal(verdict?.status, 'unhealthy')
  assert.match(verdict?.reason ?? '', new RegExp(`^this identity \\(${alpha.peerId}\\) is used by two agents \\(addresses .+\\): give each node its own key file$`))

  // The newer agent learns why, at ERROR; the older hears nothing.
  const refusal = await waitFor(() => newer.lines.find((l) => l.level === 'error' && /refused this agent/.test(l.msg)), { what: 'the refusal logged by the newer agent' })
  assert.equal(refusal.msg, `aggregator ${aggregator.peerId} refused this agent: this identity is used by another agent at ${flagged.addresses[0]!}; give each node its own key file`)
  assert.equal(older.lines.filter((l) => /refused/.test(l.msg)).length, 0)

  // Over the newer agent's retries (several reconnect periods), the node is the older agent's and stays flagged.
  const nicknames = new Set<string>()
  const unsubscribe = fleet.subscribe({ onNodeChanged: (peerId) => { nicknames.add(fleet.get(peerId)?.beat.nickname ?? '') } })
  const refusedBefore = ingest.rejected.get('identity_in_use') ?? 0
  // Both awaited: two refused retries, and at least one beat folded meanwhile (under load the retries can come
  // first, and an empty set would prove nothing).
  await waitFor(() => (ingest.rejected.get('identity_in_use') ?? 0) >= refusedBefore + 2 && nicknames.size > 0, { timeoutMs: 8_000, what: 'two more refused retries and a beat of the node meanwhile' })
  unsubscribe()
  assert.deepEqual([...nicknames], ['alpha'])
  assert.equal(fleet.verdict(alpha.peerId)?.status, 'unhealthy')
  assert.ok(alpha.status()[0]?.connected, 'the older agent is still connected')
  // The newer agent's ERROR is bounded: one line for all those refusals.
  assert.equal(newer.lines.filter((l) => l.level === 'error').length, 1)
})

test('an older agent that ignores the refusal frame is reset after the grace, and the node stays the kept agent\'s', async (t) => {
  const aggregator = await startTestAggregator()
  const privateKey = await generateKeyPair('Ed25519')
  const kept = await startTestAgent({ privateKey, targets: [weighted(aggregator.multiaddrs()[0]!)], nickname: 'kept', beatPeriodMs: 200 })
  t.after(async () => { await kept.stop(); await aggregator.stop() })
  const { fleet } = aggregator.inspect()
  await waitFor(() => fleet.get(kept.peerId), { what: 'the kept agent' })

  // A bare libp2p host with the same key: writes beats, never reads (as agents before the refusal frame).
  const raw = await createLibp2p({ privateKey, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  t.after(async () => { await raw.stop() })
  const stream = await raw.dialProtocol(multiaddr(aggregator.multiaddrs()[0]!), HEARTBEAT_PROTOCOL)
  const closed = new Promise<number>((resolve) => { stream.addEventListener('close', () => { resolve(Date.now()) }, { once: true }) })
  const lp = lpStream(stream)
  let seq = 0
  let refusedAt: number | undefined
  const sender = (async () => {
    while (stream.status === 'open') {
      await lp.write(encodeHeartbeat(heartbeat({ nickname: 'intruder', seq: seq++, period: 200, agent: { version: 'old', startedAt: 7 } }))).catch(() => {})
      if (refusedAt === undefined && fleet.get(kept.peerId)?.identityConflict !== undefined) refusedAt = Date.now()
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  const closedAt = await closed
  await sender
  assert.ok(refusedAt !== undefined, 'the conflict was seen before the stream closed')
  assert.ok(closedAt - refusedAt <= IDENTITY_REFUSAL_GRACE_MS + 1_000, `reset ${closedAt - refusedAt} ms after the refusal`)
  await new Promise((resolve) => setTimeout(resolve, 400))
  assert.equal(fleet.get(kept.peerId)?.beat.nickname, 'kept')
})
