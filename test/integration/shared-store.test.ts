import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { join } from 'node:path'
import type { Agent } from '../../agent/agent.ts'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import type { NodeStatus } from '../../aggregator/fleet/types.ts'
import { captureLogger, startTestAgent, weighted } from '../support/agents.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { usePostgres } from '../support/postgres.ts'
import { fetchJson, tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const BEAT_MS = 1_000
const FLUSH_MS = 100

/**
 * Many aggregators, one fleet: in-process aggregators on one PostgreSQL
 * database (real libp2p agents on loopback). Every aggregator shows every
 * node with its holder; an agent that moves between aggregators stays one
 * node without a false down anywhere; an aggregator that stops takes its
 * nodes' health with it, never leaving them silently healthy.
 */
describe('a shared store: many aggregators, one fleet', () => {
  const pg = usePostgres()

  async function aggregator (storeUrl: string, options: Parameters<typeof startTestAggregator>[0] = {}): Promise<Aggregator> {
    const a = await startTestAggregator({ storeUrl, store: { flushIntervalMs: FLUSH_MS }, ...options })
    pg.defer(async () => { await a.stop() })
    return a
  }

  async function agent (nickname: string, targets: Parameters<typeof startTestAgent>[0]['targets'], beatPeriodMs = BEAT_MS): Promise<Agent> {
    const a = await startTestAgent({ nickname, targets, beatPeriodMs, reconnectPeriodMs: 1_000 })
    pg.defer(async () => { await a.stop() })
    return a
  }

  /** Every status change each aggregator's fleet makes, per node. */
  function watchStatuses (aggregators: Aggregator[]): Map<Aggregator, Array<{ peerId: string, to: NodeStatus, reason: string }>> {
    const seen = new Map<Aggregator, Array<{ peerId: string, to: NodeStatus, reason: string }>>()
    for (const a of aggregators) {
      const list: Array<{ peerId: string, to: NodeStatus, reason: string }> = []
      seen.set(a, list)
      a.inspect().fleet.subscribe({ onStatusChanged: (c) => { list.push({ peerId: c.peerId, to: c.to, reason: c.reason }) } })
    }
    return seen
  }

  test('three aggregators, two agents each: every aggregator lists all six with their holder, counts them in consensus and metrics, and lists the aggregators', async () => {
    const url = await pg.server.createDatabase()
    const aggregators = [await aggregator(url), await aggregator(url), await aggregator(url)]
    const agents = new Map<string, { agent: Agent, holder: Aggregator }>()
    for (const [i, a] of aggregators.entries()) {
      for (const n of [1, 2]) agents.set(`agg${i}-node${n}`, { agent: await agent(`agg${i}-node${n}`, [weighted(a.multiaddrs()[0] as string)]), holder: a })
    }
    for (const a of aggregators) {
      const fleet = await waitFor(async () => {
        const doc = await fetchJson(`${a.url}/api/v1/fleet`)
        return doc.nodes.length === 6 && doc.nodes.every((n: any) => n.status === 'healthy') ? doc : undefined
      }, { timeoutMs: 15_000, what: `all six healthy at ${a.url}` })
      for (const n of fleet.nodes) {
        const expected = agents.get(n.nickname)
        assert.ok(expected !== undefined, n.nickname)
        assert.equal(n.peerId, expected.agent.peerId)
        assert.equal(n.aggregator, expected.holder.peerId, `${n.nickname} is held by its own aggregator`)
      }
      assert.equal(fleet.summary.total, 6)
      assert.equal(fleet.summary.networks.reduce((sum: number, net: any) => sum + net.nodes, 0), 6, 'consensus counts every aggregator\'s nodes')
      const listed = await waitFor(async () => {
        const doc = await fetchJson(`${a.url}/api/v1/fleet`)
        return doc.aggregators.length === 3 && doc.aggregators.every((x: any) => x.state === 'reporting' && x.nodes === 2 && x.url !== '') ? doc.aggregators : undefined
      }, { what: 'three aggregators reporting with their urls' })
      assert.deepEqual(listed.map((x: any) => x.peerId).sort(), aggregators.map((x) => x.peerId).sort())
      assert.equal(listed.filter((x: any) => x.self).length, 1)
      assert.equal(listed[0].peerId, a.peerId, 'this aggregator first')
      const metrics = await (await fetch(`${a.url}/metrics`)).text()
      assert.match(metrics, /^heartbeat_fleet_nodes\{status="healthy"\} 6$/m)
      assert.match(metrics, /^heartbeat_aggregators\{state="reporting"\} 3$/m)
      assert.match(metrics, /^heartbeat_store_pending_rows \d+$/m)
    }
    // Exactly one of them leads alerting.
    const leaders = await waitFor(async () => {
      const docs = await Promise.all(aggregators.map(async (a) => await fetchJson(`${a.url}/api/v1/alerts`)))
      const selves = docs.filter((d) => d.leader.self === true)
      return selves.length === 1 && docs.every((d) => d.leader.aggregator === selves[0].leader.aggregator) ? selves : undefined
    }, { what: 'one alerting leader that every aggregator names' })
    assert.equal(leaders.length, 1)
    const lead = await fetchJson(`${aggregators[0]!.url}/api/v1/fleet`)
    assert.equal(lead.aggregators.filter((x: any) => x.alerting).length, 1)

    // A change at one aggregator reaches the others: a graceful stop.
    const moving = agents.get('agg0-node1')!
    const stoppedAt = Date.now()
    await moving.agent.stop()
    for (const a of aggregators.slice(1)) {
      await waitFor(async () => (await fetchJson(`${a.url}/api/v1/nodes/${moving.agent.peerId}`)).status === 'stopped', { what: 'the stop seen elsewhere' })
      process.stdout.write(`# a stop at one aggregator reached another in ${Date.now() - stoppedAt} ms\n`)
    }
  })

  test('an agent that fails over from one aggregator to another stays one node: no down, no stale, no duplicate, and the holder follows', async () => {
    const url = await pg.server.createDatabase()
    const denyFile = join(tempDir('hb-deny-'), 'deny.txt')
    // A placeholder: the list must name some peer.
    writeFileSync(denyFile, '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc\n')
    const first = await aggregator(url, { peerLists: { denyPeers: { kind: 'file', path: denyFile } } })
    const second = await aggregator(url)
    const third = await aggregator(url)
    const statuses = watchStatuses([first, second, third])
    // The old holder's down grace is one beat period: the hand-over (reconnect, two early writes, a poll) fits in 2 s.
    const moving = await agent('mover', [weighted(first.multiaddrs()[0] as string, 100), weighted(second.multiaddrs()[0] as string, 50)], 2 * BEAT_MS)
    for (const a of [first, second, third]) {
      await waitFor(async () => {
        const n = await fetchJson(`${a.url}/api/v1/nodes/${moving.peerId}`).catch(() => undefined)
        return n?.status === 'healthy' && n.aggregator === first.peerId
      }, { timeoutMs: 15_000, what: `the node healthy, held by the first, at ${a.url}` })
    }
    for (const list of statuses.values()) list.length = 0

    // The first aggregator now refuses the agent (and hangs up on it): it moves to the second.
    writeFileSync(denyFile, `${moving.peerId}\n`)
    assert.equal(await first.reloadPeerLists(), true)
    for (const a of [first, second, third]) {
      await waitFor(async () => {
        const n = await fetchJson(`${a.url}/api/v1/nodes/${moving.peerId}`)
        return n.aggregator === second.peerId && n.status === 'healthy'
      }, { timeoutMs: 15_000, what: `the node held by the second at ${a.url}` })
      const fleet = await fetchJson(`${a.url}/api/v1/fleet`)
      assert.equal(fleet.nodes.filter((n: any) => n.peerId === moving.peerId).length, 1, 'one node, not two')
    }
    // Let the first's disconnect run past its down grace: it must not mark down a node another aggregator holds.
    await new Promise((resolve) => setTimeout(resolve, 6 * BEAT_MS))
    for (const [a, list] of statuses) {
      const bad = list.filter((c) => c.peerId === moving.peerId && (c.to === 'down' || c.to === 'stale'))
      assert.deepEqual(bad, [], `no false alarm at the ${a === first ? 'first' : a === second ? 'second' : 'third'} aggregator`)
    }
    const rows = await pg.server.query(new URL(url).pathname.slice(1), 'SELECT holder, status FROM nodes WHERE peer_id = $1', [moving.peerId])
    assert.deepEqual(rows, [{ holder: second.peerId, status: 'healthy' }])
    const history = await fetchJson(`${third.url}/api/v1/nodes/${moving.peerId}/history`)
    assert.ok(history.statuses.every((s: any) => s.to !== 'down' && s.to !== 'stale'), JSON.stringify(history.statuses))
  })

  test('an aggregator that stops takes its nodes with it: the others show them stale, "their aggregator <id> stopped reporting"', async () => {
    const url = await pg.server.createDatabase()
    const leaving = await aggregator(url)
    const staying = await aggregator(url)
    const lonely = await agent('lonely', [weighted(leaving.multiaddrs()[0] as string)])
    await waitFor(async () => (await fetchJson(`${staying.url}/api/v1/nodes/${lonely.peerId}`).catch(() => undefined))?.status === 'healthy', { timeoutMs: 15_000, what: 'the node healthy at the other aggregator' })
    await leaving.stop()
    const stale = await waitFor(async () => {
      const n = await fetchJson(`${staying.url}/api/v1/nodes/${lonely.peerId}`)
      return n.status === 'stale' ? n : undefined
    }, { what: 'the node stale at the other aggregator' })
    // An absolute time (the database's stamp of its stop), never an age: the reason does not change as time passes.
    assert.match(stale.reason, new RegExp(`^their aggregator ${leaving.peerId} stopped reporting at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`))
    assert.equal(stale.aggregator, leaving.peerId)
    const list = (await fetchJson(`${staying.url}/api/v1/fleet`)).aggregators
    assert.deepEqual(list.map((x: any) => [x.self, x.state]), [[true, 'reporting'], [false, 'stopped']])
  })

  test('replicas that share one peer key (one address for the agents) are told apart by --instance', async () => {
    const url = await pg.server.createDatabase()
    const key = await generateKeyPair('Ed25519')
    const podA = await aggregator(url, { privateKey: key, instance: 'pod-a' })
    const podB = await aggregator(url, { privateKey: key, instance: 'pod-b' })
    assert.equal(podA.peerId, podB.peerId, 'one identity')
    const onA = await agent('on-a', [weighted(podA.multiaddrs()[0] as string)])
    const onB = await agent('on-b', [weighted(podB.multiaddrs()[0] as string)])
    for (const a of [podA, podB]) {
      const doc = await waitFor(async () => {
        const d = await fetchJson(`${a.url}/api/v1/fleet`)
        return d.nodes.length === 2 && d.nodes.every((n: any) => n.status === 'healthy') && d.aggregators.length === 2 ? d : undefined
      }, { timeoutMs: 15_000, what: `both nodes at ${a.url}` })
      const holder = new Map(doc.nodes.map((n: any) => [n.peerId, n.aggregator]))
      assert.equal(holder.get(onA.peerId), 'pod-a')
      assert.equal(holder.get(onB.peerId), 'pod-b')
      assert.deepEqual(doc.aggregators.map((x: any) => [x.id, x.peerId]).sort(), [['pod-a', podA.peerId], ['pod-b', podA.peerId]])
    }
  })

  test('the store URL\'s password shows nowhere: not in the logs, /actuator/info, /health or /api/v1/fleet', async () => {
    // Trust authentication: the server ignores the password, which lets it stand in for a real one.
    const url = (await pg.server.createDatabase()).replace('postgres@', 'postgres:s3cret-pw@') + '?application_name=x&password=s3cret-pw'
    const { logger, lines } = captureLogger('test-aggregator')
    const a = await aggregator(url, { logger })
    const documents = await Promise.all(['/actuator/info', '/health', '/api/v1/fleet', '/api/v1/aggregators'].map(async (path) => await (await fetch(`${a.url}${path}`)).text()))
    const info = JSON.parse(documents[0] as string)
    assert.equal(info.config.store.backend, 'postgres')
    assert.match(info.config.store.location, /^postgres:\/\/127\.0\.0\.1:\d+\/t_\d+_\d+$/)
    assert.equal(info.config.storeUrl, undefined)
    for (const text of [...documents, JSON.stringify(lines)]) assert.doesNotMatch(text, /s3cret-pw/)
    assert.ok(lines.some((l) => l.msg.startsWith('shared store opened')), 'the store was opened and said so')
  })
})
