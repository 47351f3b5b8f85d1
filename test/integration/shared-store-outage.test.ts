import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Agent } from '../../agent/agent.ts'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import { POSTGRES_CONNECT_TIMEOUT_MS, STORE_RETRY_CAP_MS } from '../../aggregator/store/constants.ts'
import { startTestAgent, weighted } from '../support/agents.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { databaseOf, usePostgres } from '../support/postgres.ts'
import { fetchJson } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const OUTAGE_MS = 20_000
/**
 * After 20 s of failures the store retries at its cap (STORE_RETRY_CAP_MS, jittered down by up to half). A
 * database back from a crash first runs its recovery ("the database system is starting up"), which on a loaded
 * machine can turn away the next attempts too: a few attempts at the cap, each with a connect timeout, bound it.
 */
const READY_AGAIN_MS = 4 * STORE_RETRY_CAP_MS + POSTGRES_CONNECT_TIMEOUT_MS

// The server is crashed below: its commits must survive a crash, as a production server's do.
const pg = usePostgres({ crashSafe: true })

/**
 * The database goes away for 20 s (pg_ctl stop -m immediate: a crash) and
 * comes back: ingest and the live view go on, the store component says what
 * is wrong (affected, the error, the rows waiting), and once the database is
 * back everything that happened meanwhile is written, nothing lost, nothing
 * twice, and the component recovers by itself.
 */
test('a database away for 20 s: the store reports it, ingest goes on, nothing is lost once it is back', async () => {
  const server = pg.server
  const url = await server.createDatabase()
  const aggregators: Aggregator[] = []
  for (let i = 0; i < 2; i++) {
    const a = await startTestAggregator({ storeUrl: url, store: { sampleIntervalMs: 1_000 } })
    pg.defer(async () => { await a.stop() })
    aggregators.push(a)
  }
  const [a, b] = aggregators as [Aggregator, Aggregator]
  const agents: Agent[] = []
  for (const nickname of ['steady', 'leaving']) {
    const agent = await startTestAgent({ nickname, targets: [weighted(a.multiaddrs()[0] as string)], beatPeriodMs: 500 })
    pg.defer(async () => { await agent.stop() })
    agents.push(agent)
  }
  const [steady, leaving] = agents as [Agent, Agent]
  await waitFor(async () => (await fetchJson(`${b.url}/api/v1/fleet`)).nodes.filter((n: any) => n.status === 'healthy').length === 2, { timeoutMs: 20_000, what: 'both nodes healthy at the other aggregator' })
  const database = databaseOf(url)

  await server.stop('immediate')
  const downAt = Date.now()
  const health = await waitFor(async () => {
    const h = await fetchJson(`${a.url}/health`)
    return h.components.store.status === 'affected' ? h : undefined
  }, { what: 'the store affected' })
  assert.equal(health.status, 'affected', 'affected, still healthy: the live view works')
  assert.ok(typeof health.components.store.details.lastError === 'string' && health.components.store.details.lastError.length > 0)
  assert.equal((await fetch(`${a.url}/readyz`)).status, 200, 'still ready: it takes heartbeats and serves the view')
  // Ingest and the live view go on: a change during the outage is seen at once.
  await leaving.stop()
  await waitFor(async () => (await fetchJson(`${a.url}/api/v1/nodes/${leaving.peerId}`)).status === 'stopped', { what: 'the stop in the live view during the outage' })
  const during = await fetchJson(`${a.url}/health`)
  assert.ok(during.components.store.details.pending.rows > 0, `rows wait in memory: ${JSON.stringify(during.components.store.details.pending)}`)
  const metrics = await (await fetch(`${a.url}/metrics`)).text()
  assert.match(metrics, /^heartbeat_store_write_failures_total [1-9]\d*$/m)
  assert.match(metrics, /^heartbeat_store_pending_rows [1-9]\d*$/m)
  assert.match(metrics, /^heartbeat_store_last_flush_age_seconds \d/m)
  const history = await fetch(`${a.url}/api/v1/history`)
  assert.equal(history.status, 503, 'history cannot be read meanwhile: said so')
  assert.equal((await history.json() as any).error.code, 'ERR_STORE_UNAVAILABLE')

  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS - (Date.now() - downAt)))
  await server.start()
  const backAt = Date.now()
  for (const x of aggregators) {
    let seen = 'nothing'
    await waitFor(async () => {
      const store = (await fetchJson(`${x.url}/health`)).components.store
      seen = `${store.status}: ${String(store.details.lastError)} (failures ${String(store.details.failures)}, pending ${String(store.details.pending?.rows)})`
      return store.status === 'ready'
    }, { timeoutMs: READY_AGAIN_MS, what: 'the store ready again' }).catch((err: unknown) => { throw new Error(`${String(err)}; last seen ${seen}`) })
  }
  process.stdout.write(`# the store wrote again ${Date.now() - backAt} ms after the database came back\n`)
  // What happened during the outage is in the store, once, and reaches the other aggregator.
  await waitFor(async () => (await fetchJson(`${b.url}/api/v1/nodes/${leaving.peerId}`)).status === 'stopped', { timeoutMs: 10_000, what: 'the stop at the other aggregator' })
  const changes = await server.query(database, 'SELECT to_status FROM status_changes WHERE peer_id = $1 ORDER BY at, id', [leaving.peerId])
  assert.equal(changes.filter((c) => c.to_status === 'stopped').length, 1, `the stop, once: ${JSON.stringify(changes)}`)
  // One sample per second at most, on a beat every 500 ms: one every 1 to 1.5 s.
  const kept = Number((await server.query(database, 'SELECT COUNT(*) AS n FROM height_samples WHERE peer_id = $1 AND at >= $2 AND at <= $3', [steady.peerId, downAt, backAt]))[0].n)
  const expected = Math.floor((backAt - downAt) / 1_500)
  assert.ok(kept >= expected, `samples taken during the outage were kept: ${kept} of at least ${expected}`)
  // Every aggregator judges the others again, and one leads alerting.
  await waitFor(async () => (await fetchJson(`${b.url}/api/v1/fleet`)).aggregators.every((x: any) => x.state === 'reporting'), { what: 'both aggregators reporting' })
  await waitFor(async () => {
    const docs = await Promise.all(aggregators.map(async (x) => await fetchJson(`${x.url}/api/v1/alerts`)))
    return docs.filter((d) => d.leader.self).length === 1
  }, { timeoutMs: 15_000, what: 'one alerting leader again' })
  const steadyAtB = await fetchJson(`${b.url}/api/v1/nodes/${steady.peerId}`)
  assert.equal(steadyAtB.status, 'healthy')
})
