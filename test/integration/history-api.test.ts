import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Agent } from '../../agent/agent.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import { createLogger } from '../../shared/log.ts'
import { parseTarget } from '../../shared/target.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { fetchJson } from '../support/processes.ts'
import { STORE_BACKENDS, type StoreBackendHarness } from '../support/store-backends.ts'
import { waitFor } from '../support/wait.ts'

const quiet = createLogger({ name: 'test-agent', level: 'silent' })

async function startAgent (multiaddr: string, nickname: string): Promise<Agent> {
  const agent = await Agent.create({
    services: [{ name: 'primary', targets: [{ weight: 100, target: parseTarget(multiaddr) }], beatPeriodMs: 100, reconnectPeriodMs: 500 }],
    source: new DemoChainSource({ blockTimeMs: 100 }),
    nickname,
    logger: quiet,
  })
  await agent.start()
  return agent
}

async function get (url: string): Promise<{ status: number, body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  return { status: res.status, body: await res.json() }
}

// The same history API on both stores.
for (const backend of STORE_BACKENDS) {
  describe(`history on ${backend.name}`, () => {
    let harness: StoreBackendHarness
    before(async () => { harness = await backend.start() })
    after(async () => { await harness.close() })

    test('history API: one node\'s heights and statuses, the fleet\'s paged event log, uptime in the node views', async (t) => {
      const location = await harness.fresh()
      const aggregator = await startTestAggregator({ dataDir: location.dataDir, storeUrl: location.storeUrl, store: { flushIntervalMs: 100, sampleIntervalMs: 100 } })
      const multiaddr = aggregator.multiaddrs()[0]!
      const agents = await Promise.all(['hist-a', 'hist-b'].map(async (nick) => await startAgent(multiaddr, nick)))
      t.after(async () => { await Promise.all(agents.map(async (a) => { await a.stop() })); await aggregator.stop() })
      const [a, b] = agents as [Agent, Agent]
      const base = aggregator.url

      // Heights rise in the stored history while the node beats.
      const history = await waitFor(async () => {
        // A one-minute window: buckets shrink to the 100 ms sample interval.
        const h = await fetchJson(`${base}/api/v1/nodes/${a.peerId}/history?since=${Date.now() - 60_000}`)
        return h.heights?.length >= 3 ? h : undefined
      }, { what: 'three stored height samples' })
      assert.equal(history.peerId, a.peerId)
      const heights = history.heights.map((p: any) => p.height)
      assert.deepEqual(heights, [...heights].sort((x: number, y: number) => x - y), 'heights in time order, never falling')
      assert.ok(heights[heights.length - 1] > heights[0], 'heights rise')
      assert.deepEqual(history.statuses.map((s: any) => [s.from, s.to]), [[null, 'healthy']])
      assert.equal(history.statusAtSince, null)
      assert.equal(history.uptime.hour, 1)

      // A graceful stop is a status change in both histories.
      await b.stop()
      const stopped = await waitFor(async () => {
        const h = await fetchJson(`${base}/api/v1/nodes/${b.peerId}/history`)
        return h.statuses.some((s: any) => s.to === 'stopped') ? h : undefined
      }, { what: 'b stopped in its history' })
      const stop = stopped.statuses.find((s: any) => s.to === 'stopped')
      // The stop beat and the disconnect race: it may pass through degraded on the way.
      assert.ok(['healthy', 'degraded'].includes(stop.from), `stopped from ${stop.from}`)
      assert.match(stop.reason, /graceful stop/)
      const bView = await fetchJson(`${base}/api/v1/nodes/${b.peerId}`)
      assert.ok(bView.uptime.hour > 0 && bView.uptime.hour < 1, `b's uptime ${bView.uptime.hour}`)
      const fleet = await fetchJson(`${base}/api/v1/fleet`)
      assert.ok(fleet.nodes.every((n: any) => typeof n.uptime === 'object' && 'week' in n.uptime))

      // The fleet log, newest first, one change per page, cursor to cursor.
      const all = await fetchJson(`${base}/api/v1/history`)
      assert.ok(all.changes.length >= 3, `at least two "healthy" and one "stopped": ${JSON.stringify(all.changes)}`)
      const times = all.changes.map((c: any) => Date.parse(c.at))
      assert.deepEqual(times, [...times].sort((x: number, y: number) => y - x), 'newest first')
      assert.equal(all.changes[0].to, 'stopped')
      assert.equal(all.changes[0].nickname, 'hist-b')
      assert.equal(all.nextCursor, null)
      const paged: any[] = []
      let cursor: string | null = null
      do {
        const page: any = await fetchJson(`${base}/api/v1/history?limit=1${cursor === null ? '' : `&cursor=${cursor}`}`)
        assert.ok(page.changes.length <= 1)
        paged.push(...page.changes)
        cursor = page.nextCursor
      } while (cursor !== null && paged.length < 100)
      assert.deepEqual(paged.map((c) => c.id), all.changes.map((c: any) => c.id), 'pages cover the log exactly once')

      // since/until select by time, as ISO or milliseconds.
      const stopAt = Date.parse(stop.at)
      const after = await fetchJson(`${base}/api/v1/history?since=${stopAt}`)
      assert.deepEqual(after.changes.map((c: any) => c.to), ['stopped'])
      const before = await fetchJson(`${base}/api/v1/history?until=${encodeURIComponent(new Date(stopAt - 1).toISOString())}`)
      assert.ok(before.changes.length >= 2 && before.changes.every((c: any) => c.to !== 'stopped'))
      const windowed = await fetchJson(`${base}/api/v1/nodes/${b.peerId}/history?since=${stopAt}`)
      assert.ok(['healthy', 'degraded'].includes(windowed.statusAtSince.status), 'the status in force when the window opens')
    })

    test('history API: bad queries are 400 with {error: {code, message}}; unknown nodes 404', async (t) => {
      const location = await harness.fresh()
      const aggregator = await startTestAggregator({ dataDir: location.dataDir, storeUrl: location.storeUrl })
      t.after(async () => { await aggregator.stop() })
      const base = aggregator.url
      const bad = [
        '/api/v1/history?since=yesterday',
        '/api/v1/history?until=2025-13-45T99:00:00Z',
        '/api/v1/history?since=2000&until=1000',
        '/api/v1/history?limit=0',
        '/api/v1/history?limit=100000',
        '/api/v1/history?limit=ten',
        '/api/v1/history?cursor=not-a-cursor',
        '/api/v1/history?since=1&since=2',
        '/api/v1/nodes/anything/history?since=-5',
      ]
      for (const path of bad) {
        const { status, body } = await get(`${base}${path}`)
        assert.equal(status, 400, path)
        assert.equal(body.error.code, 'ERR_INVALID_ARGUMENT', path)
        assert.equal(typeof body.error.message, 'string')
      }
      const missing = await get(`${base}/api/v1/nodes/12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc/history`)
      assert.equal(missing.status, 404)
      assert.equal(missing.body.error.code, 'ERR_NODE_NOT_FOUND')
      const empty = await get(`${base}/api/v1/history?since=2020-01-01&until=2020-01-02T00:00:00Z`)
      assert.equal(empty.status, 200)
      assert.deepEqual(empty.body.changes, [])
      assert.equal(empty.body.since, '2020-01-01T00:00:00.000Z')
    })
  })
}
