import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openBrowser } from '../support/browser.ts'
import { freePort } from '../support/ports.ts'
import { startPostgres, type PostgresServer } from '../support/postgres.ts'
import { AGENT_BIN, AGGREGATOR_BIN, fetchJson, Spawned, startAggregatorProcess, tempDir, type RunningAggregator } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'
import { startWebhookSink, type WebhookSink } from '../support/webhook-sink.ts'
import { spawnSync } from 'node:child_process'

const TOKEN = 'e2e-admin-token-0123456789'

/**
 * Issue 17's "done when", through the executables: two aggregators on one
 * PostgreSQL database with --alert-for 1s and one webhook sink, three agents
 * on each. Every node shows on both; a killed agent is announced once; the
 * alerting aggregator killed, an agent of the other killed: announced once;
 * both restarted: nothing still down is announced again, a maintenance
 * window is still in force.
 */
describe('two aggregators on one PostgreSQL', () => {
  let server: PostgresServer
  let sink: WebhookSink
  const processes: Spawned[] = []
  before(async () => {
    server = await startPostgres()
    sink = await startWebhookSink()
  })
  after(async () => {
    await Promise.all(processes.map(async (p) => { await p.stop() }))
    await sink.close()
    await server.close()
  })

  test('one fleet, alerts once, alerting that fails over, nothing forgotten across restarts', async () => {
    const url = await server.createDatabase()
    const tokenFile = join(tempDir('hb-token-'), 'token')
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 })
    const dirs = [tempDir('hb-agg-a-'), tempDir('hb-agg-b-')]
    const ports = [await freePort(), await freePort()]
    const args = ['--store', url, '--alert-for', '1s', '--alert-webhook', sink.url, '--admin-token-file', tokenFile]
    const startAggregator = async (i: number): Promise<RunningAggregator> => {
      const a = await startAggregatorProcess({ dataDir: dirs[i], port: ports[i], args })
      processes.push(a.process)
      return a
    }
    const aggs = [await startAggregator(0), await startAggregator(1)]
    const keys = tempDir('hb-agent-keys-')
    const agents = new Map<string, Spawned>()
    const startAgent = (nickname: string, target: string): void => {
      const agent = new Spawned(AGENT_BIN, ['--target', target, '--nickname', nickname, '--beat-period', '1s', '--reconnect-period', '1s', '--key-file', join(keys, `${nickname}.key`)])
      processes.push(agent)
      agents.set(nickname, agent)
    }
    for (const [i, a] of aggs.entries()) for (const n of [1, 2, 3]) startAgent(`agg${i}-node${n}`, a.multiaddr)

    // Both list all six (each holding its own three) within 5 s of holding their own.
    const own = async (a: RunningAggregator): Promise<void> => {
      await waitFor(async () => (await fetchJson(`${a.url}/api/v1/fleet`)).nodes.filter((n: any) => n.aggregator === a.peerId && n.status === 'healthy').length === 3,
        { timeoutMs: 60_000, what: `three healthy agents at ${a.url}` })
    }
    await Promise.all(aggs.map(own))
    const readyAt = Date.now()
    const fleets = await Promise.all(aggs.map(async (a) => await waitFor(async () => {
      const doc = await fetchJson(`${a.url}/api/v1/fleet`)
      return doc.nodes.length === 6 && doc.nodes.every((n: any) => n.status === 'healthy') ? doc : undefined
    }, { timeoutMs: 5_000, what: `all six healthy at ${a.url}` })))
    process.stdout.write(`# both aggregators listed all six ${Date.now() - readyAt} ms after each held its own three\n`)
    const peerOf = new Map<string, string>(fleets[0].nodes.map((n: any) => [n.nickname, n.peerId]))
    for (const doc of fleets) {
      for (const n of doc.nodes) assert.equal(n.aggregator, aggs[Number(n.nickname[3])]!.peerId, `${n.nickname}'s holder`)
      assert.deepEqual(doc.aggregators.map((x: any) => x.state), ['reporting', 'reporting'])
    }

    // The page shows the aggregators sharing the store.
    const browser = await openBrowser()
    try {
      await browser.page.goto(aggs[0]!.url)
      const members = browser.page.locator('.agg-members')
      await members.waitFor({ state: 'visible', timeout: 15_000 })
      assert.match(await members.textContent() ?? '', /^2 aggregators/)
      assert.equal(await browser.page.locator('.agg-member[data-state="reporting"]').count(), 2)
      assert.deepEqual(browser.problems, [])
    } finally {
      await browser.close()
    }

    const firing = (peerId: string): number => sink.received.filter((r) => r.body.status === 'firing' && r.body.alert?.node?.peerId === peerId).length
    const quietFor = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

    // kill -9 of one agent: exactly one firing notification (both aggregators have the webhook).
    agents.get('agg1-node1')!.kill('SIGKILL')
    const first = peerOf.get('agg1-node1')!
    await waitFor(() => firing(first) >= 1, { timeoutMs: 30_000, what: 'NodeDown for agg1-node1' })
    await quietFor(4_000)
    assert.equal(firing(first), 1, 'announced once')

    // kill -9 of whichever aggregator is alerting, then of an agent on the other: that alert still arrives once.
    const leaderIndex = await waitFor(async () => {
      const docs = await Promise.all(aggs.map(async (a) => await fetchJson(`${a.url}/api/v1/alerts`)))
      const i = docs.findIndex((d) => d.leader.self === true)
      return i >= 0 ? i : undefined
    }, { what: 'the alerting aggregator' })
    const otherIndex = 1 - leaderIndex
    const leader = aggs[leaderIndex]!
    const other = aggs[otherIndex]!
    const killedAt = Date.now()
    leader.process.kill('SIGKILL')
    await leader.process.exited
    const victimName = `agg${otherIndex}-node2`
    const victim = peerOf.get(victimName)!
    agents.get(victimName)!.kill('SIGKILL')
    const fired = await waitFor(() => sink.received.find((r) => r.body.status === 'firing' && r.body.alert?.node?.peerId === victim), { timeoutMs: 30_000, what: 'NodeDown for the agent of the survivor' })
    process.stdout.write(`# with the alerting aggregator killed, the survivor announced a node down ${fired.at - killedAt} ms after the kills\n`)
    assert.equal(fired.body.aggregator.peerId, other.peerId, 'announced by the survivor, now leading')
    await quietFor(4_000)
    assert.equal(firing(victim), 1, 'announced once')
    assert.equal(firing(first), 1, 'the earlier alert was not announced again by the new leader')
    // The dead aggregator's nodes that did not move are not silently healthy.
    const survivorView = await fetchJson(`${other.url}/api/v1/fleet`)
    for (const n of survivorView.nodes.filter((x: any) => x.aggregator === leader.peerId)) {
      assert.ok(['stale', 'down'].includes(n.status), `${n.nickname} is ${n.status}`)
      if (n.status === 'stale') assert.match(n.reason, new RegExp(`^their aggregator ${leader.peerId} stopped reporting`))
    }
    assert.deepEqual(survivorView.aggregators.map((x: any) => [x.peerId === other.peerId, x.state]), [[true, 'reporting'], [false, 'silent']])
    // Nobody watches those nodes now, and the survivor says so (NodeDown, as for stale). Awaited here, so that what
    // is counted across the restarts below is only what the restarts cause (on a loaded machine these came later).
    const orphans = survivorView.nodes.filter((x: any) => x.aggregator === leader.peerId).map((x: any) => x.peerId as string)
    assert.equal(orphans.length, 3, 'the killed aggregator held three nodes')
    await waitFor(() => orphans.every((p: string) => firing(p) >= 1), { timeoutMs: 30_000, what: 'NodeDown for the nodes of the killed aggregator' })

    // A maintenance window, set on the survivor before both restart.
    const windowed = peerOf.get(`agg${otherIndex}-node3`)!
    const set = await fetch(`${other.url}/api/v1/maintenance`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ peerId: windowed, duration: '2h', reason: 'disk swap' }),
    })
    assert.equal(set.status, 201)

    // Restart of both: the killed one comes back, the survivor is stopped and started again.
    const before = sink.received.length
    const firingBefore = new Map([...peerOf.values()].map((p) => [p, firing(p)]))
    aggs[leaderIndex] = await startAggregator(leaderIndex)
    await other.process.stop()
    aggs[otherIndex] = await startAggregator(otherIndex)
    for (const a of aggs) {
      await waitFor(async () => {
        const doc = await fetchJson(`${a.url}/api/v1/fleet`)
        return doc.nodes.filter((n: any) => n.status === 'healthy').length === 4 ? doc : undefined
      }, { timeoutMs: 60_000, what: `the four living agents healthy again at ${a.url}` })
      const windows = await fetchJson(`${a.url}/api/v1/maintenance`)
      assert.deepEqual(windows.nodes.map((w: any) => [w.peerId, w.reason, w.source]), [[windowed, 'disk swap', 'admin']], `the window is still in force at ${a.url}`)
    }
    await quietFor(5_000)
    const after = sink.received.slice(before)
    for (const dead of [first, victim]) assert.equal(firing(dead), firingBefore.get(dead), 'a node still down does not fire again')
    assert.deepEqual(after.filter((r) => r.body.status === 'firing').map((r) => r.body.alert.node?.nickname), [], 'nothing fired across the restarts')
    const alerts = await fetchJson(`${aggs[0]!.url}/api/v1/alerts`)
    assert.deepEqual(alerts.alerts.filter((a: any) => a.state === 'firing').map((a: any) => a.node.peerId).sort(), [first, victim].sort())
  })

  test('a bad --store URL, an unreachable server or a refused schema is exit 2 with one line that never shows the password', async () => {
    const dataDir = tempDir('hb-agg-bad-store-')
    const run = (store: string): { status: number | null, stderr: string } => {
      const r = spawnSync(process.execPath, [AGGREGATOR_BIN, '--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', '--data-dir', dataDir, '--store', store], { encoding: 'utf8', timeout: 30_000 })
      return { status: r.status, stderr: r.stderr }
    }
    const closed = await freePort()
    const tooNew = await server.createDatabase()
    await server.query(new URL(tooNew).pathname.slice(1), 'CREATE TABLE heartbeat_schema (version integer PRIMARY KEY, description text NOT NULL, applied_at bigint NOT NULL); INSERT INTO heartbeat_schema VALUES (99, \'future\', 0)')
    for (const [store, message] of [
      ['not a url at all', /invalid --store: not a URL/],
      ['mysql://user:s3cret@db/heartbeat', /invalid --store: the mysql scheme is not a store/],
      [`postgres://user:s3cret@127.0.0.1:${closed}/heartbeat`, new RegExp(`cannot reach the shared store postgres://127\\.0\\.0\\.1:${closed}/heartbeat: .*ECONNREFUSED`)],
      [tooNew.replace('postgres@', 'postgres:s3cret@'), /the shared store's schema is version 99, newer than this program knows/],
    ] as Array<[string, RegExp]>) {
      const r = run(store)
      assert.equal(r.status, 2, `${store}: ${r.stderr}`)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('{')).length, 1, `one line: ${r.stderr}`)
      assert.doesNotMatch(r.stderr, /s3cret/, 'the password is never shown')
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
    }
  })
})
