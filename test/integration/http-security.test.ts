import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { DEFAULT_DETAILS_MODE, type DetailsMode } from '../../aggregator/fleet/exposure.ts'
import { FeedStats, type FeedLimits } from '../../aggregator/http/feed-guard.ts'
import { AdminAuth } from '../../aggregator/http/admin-auth.ts'
import { HttpRegistry } from '../../aggregator/http/registry.ts'
import { detailsDecider } from '../../aggregator/http/security.ts'
import { buildHttpServer } from '../../aggregator/http/server.ts'
import { ViewerAuth } from '../../aggregator/http/viewer-auth.ts'
import { viewsPart } from '../../aggregator/http/views.ts'
import { systemClock } from '../../shared/clock.ts'
import { createLogger } from '../../shared/log.ts'
import { sampleBeat } from '../support/hostile.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { waitFor } from '../support/wait.ts'
import { at } from '../support/instant.ts'

const TOKEN = 'a'.repeat(20) + '-admin-token'
const PEER = '12D3KooWFleetNodeOne'

function fleetWith (count: number, detailsBytes = 40): FleetState {
  const fleet = new FleetState()
  for (let i = 0; i < count; i++) {
    const heartbeat = sampleBeat({
      nickname: `node-${i}`,
      health: { status: 'ready', components: { chain_source: { status: 'ready', details: { note: 'x'.repeat(detailsBytes), rpc: 'http://10.0.0.7:1234/rpc/v0' } } } },
    })
    fleet.apply({ type: 'beat', peerId: i === 0 ? PEER : `12D3KooWFleetNode${i}`, heartbeat, protocol: 'v2', remoteAddr: `/ip4/10.0.${i % 250}.9/tcp/4001` }, at(Date.now()))
  }
  return fleet
}

interface Served { app: FastifyInstance, url: string, feedStats: FeedStats }

const servers: FastifyInstance[] = []
after(async () => { await Promise.all(servers.map(async (s) => { await s.close() })) })

/** The aggregator's views (fleet, node, feed, admin, page) over a given fleet, on the aggregator's HTTP server. */
async function serve (options: { fleet?: FleetState, details?: DetailsMode, token?: string, cors?: string[], feed?: Partial<FeedLimits> } = {}): Promise<Served> {
  const feedStats = new FeedStats()
  const adminAuth = new AdminAuth(options.token)
  const viewers = new ViewerAuth({ admin: adminAuth })
  const details = options.details ?? DEFAULT_DETAILS_MODE
  const registry = new HttpRegistry()
  const views = viewsPart({
    fleet: options.fleet ?? fleetWith(1),
    clock: systemClock,
    logger: createLogger({ name: 'test', level: 'silent' }),
    info: () => ({ peerId: 'agg', multiaddrs: [], version: 'test', startedAt: new Date(0).toISOString() }),
    details: detailsDecider(details, viewers),
    viewers,
    session: { details },
    forget: async () => undefined,
    feed: { limits: { maxClients: 10, maxBufferedBytes: 1024 * 1024, maxBackpressureMs: 10_000, ...options.feed }, stats: feedStats },
    admin: {
      snapshot: () => ({ admission: { refused: { not_allowed: 3 } } }),
      reloadPeers: async () => ({ reloaded: true }),
    },
  })
  views.routes?.(registry)
  await views.start()
  const app = buildHttpServer({ routes: registry.routes, adminAuth, corsOrigins: options.cors })
  servers.push(app)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { app, url: `http://127.0.0.1:${port}`, feedStats }
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

async function getJson (url: string, headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, body: any }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) })
  return { status: res.status, headers: res.headers, body: await res.json() }
}

describe('details exposure over HTTP', () => {
  it('when-authorized (the default): strangers see statuses only, the admin sees details and addresses', async () => {
    const { url } = await serve({ token: TOKEN })
    for (const path of ['/api/v1/fleet', `/api/v1/nodes/${PEER}`]) {
      const anonymous = JSON.stringify((await getJson(url + path)).body)
      assert.equal(anonymous.includes('10.0.0.7'), false, `${path} leaks details`)
      assert.equal(anonymous.includes('/ip4/10.0.0.9'), false, `${path} leaks the remote address`)
      assert.ok(anonymous.includes('"chain_source":{"status":"ready"}'), `${path} keeps component statuses`)
      const wrong = JSON.stringify((await getJson(url + path, bearer('b'.repeat(32)))).body)
      assert.equal(wrong.includes('10.0.0.7'), false, `${path} shows details for a wrong token`)
      const admin = JSON.stringify((await getJson(url + path, bearer(TOKEN))).body)
      assert.ok(admin.includes('http://10.0.0.7:1234/rpc/v0'), `${path} hides details from the admin`)
      assert.ok(admin.includes('"remoteAddr":"/ip4/10.0.0.9/tcp/4001"'), `${path} hides the address from the admin`)
    }
    const page = await (await fetch(url + '/')).text()
    assert.equal(page.includes('10.0.0.7'), false)
  })

  it('never: not even the admin; always: everyone', async () => {
    const never = await serve({ token: TOKEN, details: 'never' })
    assert.equal(JSON.stringify((await getJson(never.url + '/api/v1/fleet', bearer(TOKEN))).body).includes('10.0.0.7'), false)
    const always = await serve({ details: 'always' })
    assert.ok(JSON.stringify((await getJson(always.url + '/api/v1/fleet')).body).includes('10.0.0.7'))
  })

  it('the live feed follows the same rule', async () => {
    const { url } = await serve({ token: TOKEN })
    const firstEvent = async (headers: Record<string, string>): Promise<string> => {
      const controller = new AbortController()
      const res = await fetch(url + '/api/v1/events', { headers, signal: controller.signal })
      const reader = res.body?.getReader()
      let text = ''
      while (!text.includes('event: snapshot') || !text.endsWith('\n\n')) {
        const chunk = await reader?.read()
        if (chunk === undefined || chunk.done) break
        text += Buffer.from(chunk.value).toString()
      }
      controller.abort()
      return text
    }
    assert.equal((await firstEvent({})).includes('10.0.0.7'), false)
    assert.ok((await firstEvent(bearer(TOKEN))).includes('10.0.0.7'))
  })
})

describe('details on the other fleet views of a whole aggregator', () => {
  it('/api/v1/fleet/health shows component details only to the admin (when-authorized)', async () => {
    const aggregator = await startTestAggregator({ adminToken: TOKEN })
    try {
      const heartbeat = sampleBeat({ health: { status: 'not_ready', components: { disk: { status: 'not_ready', details: { error: 'disk full at /srv/lotus on 10.0.0.7' } } } } })
      aggregator.apply({ type: 'beat', peerId: PEER, heartbeat, protocol: 'v2', remoteAddr: '/ip4/10.0.0.9/tcp/4001' })
      const url = `${aggregator.url}/api/v1/fleet/health`
      const anonymous = await fetch(url)
      assert.equal(anonymous.status, 503)
      const body = await anonymous.text()
      assert.equal(body.includes('disk full'), false, body)
      assert.ok(body.includes('not_ready'))
      const admin = await (await fetch(url, { headers: bearer(TOKEN) })).text()
      assert.ok(admin.includes('not_ready: disk full at /srv/lotus on 10.0.0.7'), admin)
      // The effective configuration on /actuator/info never shows the admin token.
      const info = await (await fetch(`${aggregator.url}/actuator/info`)).text()
      assert.equal(info.includes(TOKEN), false)
      assert.ok(info.includes('"adminToken":"[redacted]"'), info)
    } finally {
      await aggregator.stop()
    }
  })
})

describe('admin endpoint', () => {
  it('needs the bearer token: 401 with a challenge, then 200', async () => {
    const { url } = await serve({ token: TOKEN })
    const none = await getJson(url + '/api/v1/admin/security')
    assert.equal(none.status, 401)
    assert.equal(none.body.error.code, 'ERR_UNAUTHORIZED')
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/)
    assert.equal((await getJson(url + '/api/v1/admin/security', bearer(TOKEN.slice(0, -1)))).status, 401)
    assert.equal((await getJson(url + '/api/v1/admin/security', { authorization: `Basic ${TOKEN}` })).status, 401)
    const ok = await getJson(url + '/api/v1/admin/security', bearer(TOKEN))
    assert.equal(ok.status, 200)
    assert.equal(ok.body.admission.refused.not_allowed, 3)
  })

  it('is off (403) without an admin token', async () => {
    const { url } = await serve()
    const res = await getJson(url + '/api/v1/admin/security', bearer(TOKEN))
    assert.equal(res.status, 403)
    assert.equal(res.body.error.code, 'ERR_ADMIN_DISABLED')
  })
})

describe('headers and limits', () => {
  it('sends the security headers and no CORS header unless configured', async () => {
    const { url } = await serve()
    const res = await fetch(url + '/api/v1/fleet', { headers: { origin: 'https://evil.example' } })
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
  })

  it('allows a configured origin, and only that one', async () => {
    const { url } = await serve({ cors: ['https://ops.example.com'] })
    const allowed = await fetch(url + '/api/v1/fleet', { headers: { origin: 'https://ops.example.com' } })
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://ops.example.com')
    assert.match(allowed.headers.get('vary') ?? '', /origin/i)
    const other = await fetch(url + '/api/v1/fleet', { headers: { origin: 'https://evil.example' } })
    assert.equal(other.headers.get('access-control-allow-origin'), null)
    const preflight = await fetch(url + '/api/v1/fleet', { method: 'OPTIONS', headers: { origin: 'https://ops.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } })
    assert.equal(preflight.status, 204)
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/)
  })

  it('refuses oversized headers (431) and keeps answering', async () => {
    const { url } = await serve()
    const res = await fetch(url + '/api/v1/fleet', { headers: { 'x-filler': 'y'.repeat(20 * 1024) } })
    assert.equal(res.status, 431)
    assert.equal((await fetch(url + '/api/v1/fleet')).status, 200)
  })

  it('refuses oversized bodies (413) before anything else looks at them', async () => {
    const { url } = await serve({ token: TOKEN })
    const res = await fetch(url + '/api/v1/admin/reload-peers', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(TOKEN) }, body: JSON.stringify({ x: 'z'.repeat(64 * 1024) }) })
    assert.equal(res.status, 413)
    const small = await fetch(url + '/api/v1/admin/reload-peers', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(TOKEN) }, body: '{}' })
    assert.equal(small.status, 200)
  })
})

describe('live-feed bounds', () => {
  it('turns away clients past the bound with 503, and takes one again when a slot frees', async () => {
    const { url, feedStats } = await serve({ feed: { maxClients: 2 } })
    const controllers = [new AbortController(), new AbortController()]
    for (const c of controllers) assert.equal((await fetch(url + '/api/v1/events', { signal: c.signal })).status, 200)
    const third = await getJson(url + '/api/v1/events')
    assert.equal(third.status, 503)
    assert.equal(third.body.error.code, 'ERR_FEED_FULL')
    assert.equal(feedStats.refused, 1)
    controllers[0]?.abort()
    await waitFor(() => feedStats.clients === 1, { what: 'the aborted client to be gone' })
    const again = new AbortController()
    assert.equal((await fetch(url + '/api/v1/events', { signal: again.signal })).status, 200)
    again.abort()
    controllers[1]?.abort()
  })

  it('drops a client that stops reading while a reading client keeps its feed', async () => {
    // 2000 nodes with 4 KiB of details: a snapshot of ~9 MB, more than loopback socket buffers hold.
    const fleet = fleetWith(2000, 4000)
    const { url, feedStats } = await serve({ fleet, details: 'always', feed: { maxBackpressureMs: 1000 } })
    const { port } = new URL(url)
    const slow: Socket = connect({ host: '127.0.0.1', port: Number(port) })
    await new Promise((resolve) => slow.once('connect', resolve))
    slow.pause() // never reads: the kernel buffers fill, then the server's
    slow.write('GET /api/v1/events HTTP/1.1\r\nhost: x\r\n\r\n')

    const controller = new AbortController()
    const res = await fetch(url + '/api/v1/events', { signal: controller.signal })
    const reader = res.body?.getReader()
    let received = 0
    let nodeEvents = 0
    const ticker = setInterval(() => {
      for (let i = 0; i < 5; i++) fleet.apply({ type: 'beat', peerId: PEER, heartbeat: sampleBeat({ seq: Date.now() + i }), protocol: 'v2' }, at(Date.now()))
    }, 100)
    try {
      const reading = (async () => {
        while (true) {
          const chunk = await reader?.read()
          if (chunk === undefined || chunk.done) return
          received += chunk.value.length
          nodeEvents += (Buffer.from(chunk.value).toString().match(/event: node/g) ?? []).length
        }
      })()
      await waitFor(() => feedStats.dropped === 1, { timeoutMs: 15_000, what: 'the slow client to be dropped' })
      assert.equal(feedStats.clients, 1, 'the reading client is still connected')
      const before = nodeEvents
      await waitFor(() => nodeEvents > before, { timeoutMs: 5000, what: 'the reading client to keep getting node events' })
      assert.ok(received > 5_000_000, `the reading client got its snapshot (${received} bytes)`)
      controller.abort()
      await reading.catch(() => {})
    } finally {
      clearInterval(ticker)
      slow.destroy()
    }
  })
})
