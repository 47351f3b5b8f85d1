// The page's HTTP side through real HTTP: the assets and their headers, the
// live feed's events, and the bundle's freshness check.
import { emptyArrivalWindow } from '../../aggregator/fleet/phi.ts'
import { DEFAULT_STATUS_RULES } from '../../aggregator/fleet/status.ts'
import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import { defaultAlertingConfig } from '../../aggregator/alerts/config.ts'
import { FleetState, type FleetListener } from '../../aggregator/fleet/fleet-state.ts'
import { serveEvents } from '../../aggregator/http/events.ts'
import { BUNDLE_FILES, buildPage, ensurePageBuilt, pageFreshness } from '../../aggregator/web/build.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { ManualClock } from '../support/manual-clock.ts'
import { tempDir } from '../support/processes.ts'

function beat (height: number, status: Heartbeat['health']['status'] = 'ready'): Heartbeat {
  return {
    v: 2, head: `{head-${height}}`, height, nickname: 'n1', minerAddress: '', network: 'demo', seq: height, sentAt: Date.now(), period: 60_000,
    health: { status, components: {} }, agent: { version: '0.1.0', startedAt: 1 }, state: 'running',
  }
}

interface SseEvent { event: string, data: any }

/** Reads server-sent events from a URL until `stop` says so. */
async function readEvents (url: string, stop: (events: SseEvent[]) => boolean, timeoutMs = 10_000): Promise<SseEvent[]> {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort() }, timeoutMs)
  const events: SseEvent[] = []
  try {
    const response = await fetch(url, { signal: controller.signal })
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true })
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) })
      }
      if (stop(events)) break
    }
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
  return events
}

describe('fleet page over HTTP', () => {
  let aggregator: Aggregator

  before(async () => { aggregator = await startTestAggregator() })
  after(async () => { await aggregator?.stop() })

  it('serves the page with a strict CSP and no inline script or style', async () => {
    const response = await fetch(`${aggregator.url}/`)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8')
    const csp = response.headers.get('content-security-policy') ?? ''
    assert.match(csp, /default-src 'self'/)
    assert.match(csp, /script-src 'self'(;|$)/)
    assert.match(csp, /style-src 'self'(;|$)/)
    assert.match(csp, /frame-ancestors 'none'/)
    const html = await response.text()
    assert.match(html, /<script src="\/assets\/app\.js" defer><\/script>/)
    assert.doesNotMatch(html, /<script>|<style|\sstyle=|\son[a-z]+=|https?:\/\//, 'no inline code, no external resource')
  })

  it('serves the bundle with an ETag and answers 304 when it did not change', async () => {
    const response = await fetch(`${aggregator.url}/assets/app.js`)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8')
    assert.equal(response.headers.get('cache-control'), 'no-cache')
    const etag = response.headers.get('etag') ?? ''
    assert.match(etag, /^"[\w-]{22}"$/)
    assert.ok((await response.text()).length > 10_000)
    const again = await fetch(`${aggregator.url}/assets/app.js`, { headers: { 'if-none-match': etag } })
    assert.equal(again.status, 304)
    for (const path of ['/assets/app.css', '/assets/favicon.svg']) assert.equal((await fetch(`${aggregator.url}${path}`)).status, 200, path)
  })

  it('serves nothing else from disk', async () => {
    for (const path of ['/assets/build-meta.json', '/assets/../package.json', '/assets/%2e%2e/package.json', '/index.html', '/assets/']) {
      const response = await fetch(`${aggregator.url}${path}`)
      assert.equal(response.status, 404, path)
      assert.equal((await response.json() as { error: { code: string } }).error.code, 'ERR_NOT_FOUND')
    }
  })

  it('starts the live feed with a snapshot and follows with node, status and summary events', async () => {
    aggregator.apply({ type: 'beat', peerId: 'peer-1', heartbeat: beat(1), protocol: 'v2' })
    let changed = false
    const events = await readEvents(`${aggregator.url}/api/v1/events`, (seen) => {
      // The change comes once the snapshot is here, so it arrives as events (the feed watches the fleet from then on).
      if (!changed && seen[0]?.event === 'snapshot') {
        changed = true
        aggregator.apply({ type: 'beat', peerId: 'peer-1', heartbeat: beat(2, 'not_ready'), protocol: 'v2' })
      }
      return seen.some((e) => e.event === 'status' && e.data.to === 'unhealthy')
    })
    assert.equal(events[0]?.event, 'snapshot')
    assert.deepEqual(events[0]?.data.nodes.map((n: { peerId: string }) => n.peerId), ['peer-1'])
    const node = events.find((e) => e.event === 'node' && e.data.height === 2)
    assert.equal(node?.data.status, 'unhealthy')
    const status = events.find((e) => e.event === 'status')
    assert.deepEqual({ ...status?.data, at: undefined }, { peerId: 'peer-1', from: 'healthy', to: 'unhealthy', reason: 'reports not_ready', at: undefined })
  })
})

describe('live feed: alerts and maintenance', () => {
  const TOKEN = 'a-long-enough-admin-token-0123456789'
  /** Turns unhealthy: NodeUnhealthy fires. */
  const ALPHA = '12D3KooWCK82VLCSqWFRQGQf6NUkB1NuF4N4m6Zb9WhYuP4DqU9b'
  /** Its agent announces maintenance in its heartbeats. */
  const BRAVO = '12D3KooW9wwt6dykeRVdP2soVAL8y8bBhrX2Vimh7Wo6BzUL26gB'
  /** An operator puts it in maintenance. */
  const CHARLIE = '12D3KooWAK6qhAEuoaH1283BTVNUFUDVzH5Tt3xL5vqE7brCdHoF'
  /** Silenced by an operator, never reported. */
  const STRANGER = '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc'
  let aggregator: Aggregator

  before(async () => { aggregator = await startTestAggregator({ adminToken: TOKEN, alerting: defaultAlertingConfig(300) }) })
  after(async () => { await aggregator?.stop() })

  const named = (peerId: string, nickname: string, hb: Heartbeat): void => {
    aggregator.apply({ type: 'beat', peerId, heartbeat: { ...hb, nickname }, protocol: 'v2' })
  }
  const admin = async (body: unknown): Promise<void> => {
    const response = await fetch(`${aggregator.url}/api/v1/maintenance`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body),
    })
    assert.equal(response.status, 201)
  }

  it('sends `alerts` when an alert fires and when maintenance starts; node events carry the node\'s window', async () => {
    named(ALPHA, 'alpha', beat(1))
    named(BRAVO, 'bravo', beat(1))
    named(CHARLIE, 'charlie', beat(1))
    const failures: unknown[] = []
    const act = (fn: () => Promise<void> | void): void => { Promise.resolve().then(fn).catch((err: unknown) => { failures.push(err) }) }
    const alertsEvents = (events: SseEvent[]): any[] => events.filter((e) => e.event === 'alerts').map((e) => e.data)
    const nodeEvent = (events: SseEvent[], peerId: string, test: (n: any) => boolean): boolean => events.some((e) => e.event === 'node' && e.data.peerId === peerId && test(e.data))
    let step = 0
    // Each step acts once the feed showed the effect of the one before: no sleeps.
    const events = await readEvents(`${aggregator.url}/api/v1/events`, (seen) => {
      if (step === 0 && seen[0]?.event === 'snapshot') {
        step = 1
        act(() => {
          named(ALPHA, 'alpha', beat(2, 'not_ready'))
          named(BRAVO, 'bravo', { ...beat(2), maintenance: { until: Date.now() + 3_600_000, reason: 'kernel upgrade' } })
        })
      } else if (step === 1 && alertsEvents(seen).some((d) => d.alerts.firing.some((a: any) => a.name === 'NodeUnhealthy')) &&
        nodeEvent(seen, BRAVO, (n) => n.maintenance?.source === 'agent')) {
        step = 2
        act(async () => {
          await admin({ peerId: CHARLIE, duration: '10m', reason: 'disk swap' })
          await admin({ peerId: STRANGER, duration: '10m', reason: 'not ours' })
        })
      } else if (step === 2 && nodeEvent(seen, CHARLIE, (n) => n.maintenance?.source === 'admin') &&
        alertsEvents(seen).some((d) => d.maintenance.nodes.some((w: any) => w.peerId === STRANGER))) {
        step = 3
        act(async () => { await admin({ fleet: true, duration: '5m', reason: 'network upgrade' }) })
      }
      return step === 3 && alertsEvents(seen).some((d) => d.maintenance.fleet !== null && d.alerts.firing.every((a: any) => a.silenced))
    }, 20_000)
    assert.deepEqual(failures, [])

    // The snapshot has the same alerting fields as GET /api/v1/fleet, and node views with their window (none yet).
    const snapshot = events[0]?.data
    assert.deepEqual(snapshot.alerts, { firing: [], pending: 0 })
    assert.deepEqual(snapshot.maintenance, { fleet: null, nodes: [] })
    assert.ok(snapshot.nodes.every((n: any) => n.maintenance === null))

    const docs = alertsEvents(events)
    const fired = docs.find((d) => d.alerts.firing.length > 0)
    const alert = fired.alerts.firing.find((a: any) => a.name === 'NodeUnhealthy')
    assert.deepEqual({ node: alert.node, severity: alert.severity, state: alert.state, silenced: alert.silenced }, { node: { peerId: ALPHA, nickname: 'alpha' }, severity: 'warning', state: 'firing', silenced: false })
    assert.match(alert.summary, /^alpha \(12D3KooW.*\) is unhealthy/)
    assert.ok(Number.isFinite(Date.parse(alert.firedAt)))

    // The agent's window reaches the page in BRAVO's node event, and in the list of windows.
    const bravo = events.find((e) => e.event === 'node' && e.data.peerId === BRAVO && e.data.maintenance !== null)?.data
    assert.deepEqual({ ...bravo.maintenance, until: undefined }, { until: undefined, reason: 'kernel upgrade', source: 'agent', since: null })
    assert.ok(Date.parse(bravo.maintenance.until) > Date.now() + 50 * 60_000)
    assert.ok(docs.some((d) => d.maintenance.nodes.some((w: any) => w.peerId === BRAVO && w.source === 'agent')))

    // The operator's window on CHARLIE: a node event at once (no heartbeat needed), and in the list.
    const charlie = events.find((e) => e.event === 'node' && e.data.peerId === CHARLIE && e.data.maintenance !== null)?.data
    assert.deepEqual({ ...charlie.maintenance, until: undefined, since: undefined }, { until: undefined, since: undefined, reason: 'disk swap', source: 'admin' })
    const last = docs.at(-1)
    assert.deepEqual(last.maintenance.nodes.map((w: any) => [w.peerId, w.source, w.reason]).sort(),
      [[BRAVO, 'agent', 'kernel upgrade'], [CHARLIE, 'admin', 'disk swap'], [STRANGER, 'admin', 'not ours']].sort())
    assert.deepEqual({ ...last.maintenance.fleet, until: undefined, since: undefined }, { until: undefined, since: undefined, reason: 'network upgrade', source: 'admin' })
    // The fleet window silences the firing alert (at the next evaluation), and the page is told.
    assert.ok(last.alerts.firing.length > 0 && last.alerts.firing.every((a: any) => a.silenced))

    // A peer that never reported is not in the feed; and no `alerts` event repeats the one before it.
    assert.ok(!events.some((e) => e.event === 'remove' || (e.event === 'node' && e.data.peerId === STRANGER)))
    for (let i = 1; i < docs.length; i++) assert.notDeepEqual(docs[i], docs[i - 1], `alerts event ${i} repeats the previous one`)
    // Every node event carries the field, like the snapshot's views.
    assert.ok(events.filter((e) => e.event === 'node').every((e) => Object.hasOwn(e.data, 'maintenance')))
  })

  it('batched clients get the same windows in `nodes` events', async () => {
    const events = await readEvents(`${aggregator.url}/api/v1/events?batch=1`, (seen) => {
      if (seen.length === 1) named(BRAVO, 'bravo', { ...beat(3), maintenance: { reason: 'kernel upgrade' } })
      return seen.some((e) => e.event === 'nodes')
    })
    const bravo = events.find((e) => e.event === 'nodes')?.data.find((n: any) => n.peerId === BRAVO)
    assert.deepEqual(bravo?.maintenance, { until: null, reason: 'kernel upgrade', source: 'agent', since: null })
  })
})

describe('live feed fan-out', () => {
  let app: FastifyInstance
  let url: string
  let listeners: FleetListener[]
  /** Resolves when the last listener unsubscribes. */
  let unwatched = Promise.withResolvers<void>()
  const views = new Map<string, number>()
  const clock = new ManualClock({ wallStart: Date.now() })

  before(async () => {
    // A fleet stand-in: the test says which nodes changed and which are gone.
    listeners = []
    const fleet = {
      subscribe: (l: FleetListener) => {
        listeners.push(l)
        return () => {
          listeners = listeners.filter((x) => x !== l)
          if (listeners.length === 0) unwatched.resolve()
        }
      },
      get: (peerId: string) => views.has(peerId) ? { peerId, beat: beat(views.get(peerId) as number), protocol: 'v2', firstSeen: 0, lastSeen: 0, lastSeenMono: 0, beats: 1, seqGaps: 0, connected: true, lastHeadChange: 0, lastHeadChangeMono: 0, skewMs: 0, arrivals: emptyArrivalWindow() } : undefined,
      verdict: (peerId: string) => views.has(peerId) ? { status: 'healthy', reason: '' } : undefined,
      statusSince: () => 0,
      consensus: () => ({ networks: new Map(), contexts: new Map(), at: 0 }),
      sharesNickname: () => false,
      rules: DEFAULT_STATUS_RULES,
    } as unknown as FleetState
    app = Fastify()
    app.get('/events', serveEvents(fleet, () => ({ nodes: [] }), () => ({ total: views.size }), { flushMs: 20, pingMs: 100, summaryMs: 0, clock }))
    url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/events`
  })
  after(async () => { await app.close() })

  const change = (peerId: string): void => { for (const l of listeners) l.onNodeChanged?.(peerId) }

  it('sends node, remove, summary and ping events; batches for clients that ask', async () => {
    // Both clients hold their snapshot before anything changes; the feed's timers run on the test's clock.
    const snapshots = [Promise.withResolvers<void>(), Promise.withResolvers<void>()] as const
    const single = readEvents(url, (events) => { if (events[0]?.event === 'snapshot') snapshots[0].resolve(); return events.some((e) => e.event === 'ping') })
    const batched = readEvents(`${url}?batch=1`, (events) => { if (events[0]?.event === 'snapshot') snapshots[1].resolve(); return events.some((e) => e.event === 'ping') })
    await Promise.all(snapshots.map(async (s) => { await s.promise }))
    assert.equal(listeners.length, 1, 'one subscription serves every client')
    unwatched = Promise.withResolvers<void>()
    views.set('a', 1)
    views.set('b', 2)
    change('a')
    change('b')
    change('gone')
    clock.advance(20) // a flush: the changes go out
    clock.advance(80) // the keepalive
    const [one, many] = await Promise.all([single, batched])
    assert.deepEqual(one.map((e) => e.event), ['snapshot', 'node', 'node', 'remove', 'summary', 'ping'])
    assert.deepEqual(one.find((e) => e.event === 'remove')?.data, { peerId: 'gone' })
    assert.deepEqual(one.find((e) => e.event === 'summary')?.data, { total: 2 })
    assert.deepEqual(many.map((e) => e.event), ['snapshot', 'nodes', 'remove', 'summary', 'ping'])
    assert.deepEqual(many[1]?.data.map((n: { peerId: string, height: number }) => [n.peerId, n.height]), [['a', 1], ['b', 2]])
    assert.ok(Number.isFinite(Date.parse(one.at(-1)?.data.at)), 'ping carries the aggregator clock')
    // Both clients gone: the fleet is no longer watched.
    await unwatched.promise
    assert.equal(listeners.length, 0)
  })
})

describe('page build', () => {
  it('builds into a directory, knows when it is current, and rebuilds when a source is newer', async () => {
    const out = tempDir('hb-page-')
    assert.deepEqual(await pageFreshness(out), { fresh: false, reason: 'no bundle yet' })
    const first = await ensurePageBuilt(out)
    assert.equal(first.rebuilt, true)
    if (first.rebuilt) assert.ok(first.result.bytes.script > 10_000 && first.result.bytes.style > 1_000)
    assert.deepEqual(await ensurePageBuilt(out), { rebuilt: false })

    // Pretend the bundle was made before the sources last changed.
    const metaPath = join(out, BUNDLE_FILES.meta)
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as { builtAt: number, inputs: string[] }
    assert.ok(meta.inputs.includes('aggregator/web/src/main.ts') && meta.inputs.includes('node_modules/uplot/dist/uPlot.esm.js'))
    await writeFile(metaPath, JSON.stringify({ ...meta, builtAt: 0 }))
    const stale = await pageFreshness(out)
    assert.equal(stale.fresh, false)
    assert.match(stale.fresh ? '' : stale.reason, /changed since the last build/)
    await writeFile(metaPath, JSON.stringify({ ...meta, inputs: [...meta.inputs, 'aggregator/web/src/removed.ts'] }))
    assert.deepEqual(await pageFreshness(out), { fresh: false, reason: 'aggregator/web/src/removed.ts is gone' })
    await rm(join(out, BUNDLE_FILES.script))
    assert.deepEqual(await pageFreshness(out), { fresh: false, reason: 'no bundle yet' })
    await buildPage(out)
    assert.deepEqual(await pageFreshness(out), { fresh: true })
    await rm(out, { recursive: true, force: true })
  })
})
