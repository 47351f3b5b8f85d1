import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { AGENT_BIN, fetchJson, Spawned, startAggregatorProcess, tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

/** The bound: two agents on one key file are flagged within this. */
const FLAGGED_WITHIN_MS = 15_000

test('two agents on one key file: flagged within 15 s naming the shared identity, an alert fires, the newer agent logs the ERROR', async (t) => {
  const aggregator = await startAggregatorProcess({ args: ['--alert-for', '1s'] })
  const keyFile = join(tempDir('hb-shared-key-'), 'agent.key')
  const agent = (nickname: string): Spawned => new Spawned(AGENT_BIN,
    ['--target', aggregator.multiaddr, '--nickname', nickname, '--beat-period', '1s', '--key-file', keyFile, '--source', 'demo'])
  const first = agent('clone-a')
  t.after(async () => { await first.stop(); await aggregator.process.stop() })
  const nodes = async (): Promise<any[]> => (await fetchJson(`${aggregator.url}/api/v1/fleet`)).nodes
  const original = await waitFor(async () => (await nodes()).find((n) => n.status === 'healthy'), { timeoutMs: 20_000, what: 'the first agent healthy' })

  const second = agent('clone-b')
  t.after(async () => { await second.stop() })
  const startedAt = Date.now()
  const flagged = await waitFor(async () => (await nodes()).find((n) => n.identityConflict !== null), { timeoutMs: FLAGGED_WITHIN_MS, what: 'the identity conflict' })
  assert.ok(Date.now() - startedAt < FLAGGED_WITHIN_MS)
  assert.equal((await nodes()).length, 1, 'one peer id, one node')
  assert.equal(flagged.peerId, original.peerId)
  assert.equal(flagged.status, 'unhealthy')
  // The public view names the shared identity; the addresses are for those who may see remote addresses (--details).
  assert.equal(flagged.reason, `this identity (${original.peerId}) is used by two agents: give each node its own key file`)
  assert.equal(flagged.identityConflict.agents, 2)
  assert.equal(flagged.identityConflict.addresses, undefined)

  // One of the two agents, the newer, is refused and says why at ERROR.
  const refused = await waitFor(() => [first, second].flatMap((a) => a.lines).find((l) => l.level === 'error' && /refused this agent/.test(l.msg)), { what: 'the refusal logged by an agent' })
  assert.match(refused.msg, new RegExp(`^aggregator ${aggregator.peerId} refused this agent: this identity is used by another agent at /ip4/127\\.0\\.0\\.1/tcp/\\d+; give each node its own key file$`))
  assert.ok(second.lines.includes(refused), 'the newer agent is the one refused')
  // The aggregator says it once, at ERROR, with the addresses.
  const logged = aggregator.process.lines.filter((l) => l.level === 'error' && /is used by two agents/.test(l.msg))
  assert.equal(logged.length, 1)
  assert.match(logged[0]!.msg, /\(addresses \/ip4\/127\.0\.0\.1\/tcp\/\d+, \/ip4\/127\.0\.0\.1\/tcp\/\d+\)/)

  const alert = await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/alerts`)).alerts.find((a: any) => a.name === 'IdentityConflict' && a.state === 'firing'), { what: 'IdentityConflict firing' })
  assert.equal(alert.severity, 'critical')
  assert.equal(alert.node.peerId, original.peerId)
  const metrics = await (await fetch(`${aggregator.url}/metrics`)).text()
  assert.match(metrics, new RegExp(`heartbeat_node_identity_conflict\\{peer_id="${original.peerId}",nickname="clone-a"\\} 1`))
  // The kept agent keeps reporting: its beats are the node's.
  assert.equal((await nodes())[0].nickname, 'clone-a')
})
