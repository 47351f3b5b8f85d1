// Signing the page in, removing a node, and the public status page, through
// real HTTP against an in-process aggregator.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import { SESSION_COOKIE } from '../../aggregator/http/viewer-auth.ts'
import type { FleetStore } from '../../aggregator/store/index.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { at } from '../support/instant.ts'

const ADMIN = 'session-test-admin-token-0123456789'
const VIEWER = 'session-test-viewer-token-0123456789'
const SICK = '12D3KooWSickNode111111111111111111111111111111111'
const WELL = '12D3KooWWellNode111111111111111111111111111111111'
const ANON = '12D3KooWAnonNode111111111111111111111111111111111'
const ERROR_TEXT = 'dial tcp 10.1.2.3:1234: connection refused'

function beat (nickname: string, sick: boolean, seq = 1): Heartbeat {
  return {
    v: 2, head: '{bafyhead}', height: 100, nickname, minerAddress: 'f01234', network: 'demo', seq, sentAt: Date.now(), period: 600_000,
    health: {
      status: sick ? 'not_ready' : 'ready',
      components: { chain_source: sick ? { status: 'not_ready', details: { error: ERROR_TEXT } } : { status: 'ready', details: { version: '1.2.3' } } },
    },
    agent: { version: '0.1.0', startedAt: 1 }, state: 'running',
  }
}

/** The session cookie's value from a Set-Cookie header. */
function sessionCookie (response: Response): string {
  const header = response.headers.get('set-cookie') ?? ''
  const value = new RegExp(`${SESSION_COOKIE}=([^;]*)`).exec(header)?.[1]
  assert.ok(value !== undefined && value !== '', `a session cookie in ${header}`)
  return `${SESSION_COOKIE}=${value}`
}

describe('page sign-in, node removal and the public status page', () => {
  let aggregator: Aggregator
  let base: string

  before(async () => {
    aggregator = await startTestAggregator({ adminToken: ADMIN, viewerToken: VIEWER, statusPage: true, store: { flushIntervalMs: 50 } })
    base = aggregator.url
    aggregator.apply({ type: 'beat', peerId: SICK, heartbeat: beat('lotus-sick', true), protocol: 'v2', remoteAddr: '/ip4/10.9.9.9/tcp/4001' })
    aggregator.apply({ type: 'beat', peerId: WELL, heartbeat: beat('lotus-well', false), protocol: 'v2' })
    aggregator.apply({ type: 'beat', peerId: ANON, heartbeat: beat('', false), protocol: 'v2' })
  })
  after(async () => { await aggregator?.stop() })

  const store = (): FleetStore => {
    const open = aggregator.inspect().store
    assert.ok(open !== undefined, 'the store is open')
    return open
  }
  const fleet = async (headers: Record<string, string> = {}): Promise<any> => await (await fetch(`${base}/api/v1/fleet`, { headers })).json()
  const sick = (doc: any): any => doc.nodes.find((n: any) => n.peerId === SICK)

  it('shows details only to a signed-in page: the viewer token trades for an HttpOnly, SameSite=Strict cookie', async () => {
    assert.equal(sick(await fleet()).health.components.chain_source.details, undefined, 'a stranger sees no error text')
    assert.equal(sick(await fleet()).remoteAddr, undefined)
    assert.deepEqual(await (await fetch(`${base}/api/v1/session`)).json(), { signedIn: false, role: null, expiresAt: null, signIn: true, details: 'when-authorized' })

    const wrong = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { authorization: 'Bearer not-the-token-at-all-000' } })
    assert.equal(wrong.status, 401)
    assert.equal(wrong.headers.get('set-cookie'), null)

    const response = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${VIEWER}` } })
    assert.equal(response.status, 201)
    const setCookie = response.headers.get('set-cookie') ?? ''
    assert.match(setCookie, /; HttpOnly/)
    assert.match(setCookie, /; SameSite=Strict/)
    assert.match(setCookie, /; Path=\//)
    assert.doesNotMatch(setCookie, /; Secure/, 'plain http: a Secure cookie would never come back')
    const body = await response.json() as { role: string, expiresAt: string }
    assert.equal(body.role, 'viewer')
    assert.ok(Date.parse(body.expiresAt) > Date.now() + 11 * 3_600_000)
    const cookie = sessionCookie(response)
    assert.ok(!cookie.includes(VIEWER), 'the cookie is not the token')

    const seen = sick(await fleet({ cookie }))
    assert.equal(seen.health.components.chain_source.details.error, ERROR_TEXT)
    assert.equal(seen.remoteAddr, '/ip4/10.9.9.9/tcp/4001')
    const node = await (await fetch(`${base}/api/v1/nodes/${SICK}`, { headers: { cookie } })).json() as any
    assert.equal(node.health.components.chain_source.details.error, ERROR_TEXT)
    assert.equal((await (await fetch(`${base}/api/v1/session`, { headers: { cookie } })).json() as any).role, 'viewer')

    // Behind a TLS-terminating proxy the cookie is Secure.
    const proxied = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${VIEWER}`, 'x-forwarded-proto': 'https' } })
    assert.match(proxied.headers.get('set-cookie') ?? '', /; Secure/)

    // Signing out ends the session on the server: the same cookie shows nothing any more.
    const out = await fetch(`${base}/api/v1/session`, { method: 'DELETE', headers: { cookie } })
    assert.equal(out.status, 200)
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/)
    assert.deepEqual(await out.json(), { signedIn: false, ended: true })
    assert.equal(sick(await fleet({ cookie })).health.components.chain_source.details, undefined)
  })

  it('gives the live feed details through the cookie, and closes that feed when the session ends', async () => {
    const cookie = sessionCookie(await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${VIEWER}` } }))
    const controller = new AbortController()
    const response = await fetch(`${base}/api/v1/events`, { headers: { cookie }, signal: controller.signal })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    while (!text.includes('event: snapshot') || !text.slice(text.indexOf('event: snapshot')).includes('\n\n')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    assert.ok(text.includes(ERROR_TEXT), 'the snapshot carries the error text')
    await fetch(`${base}/api/v1/session`, { method: 'DELETE', headers: { cookie } })
    // The server ends the stream (destroying the socket: undici calls that "terminated").
    const ended = await (async () => {
      try {
        while (!(await reader.read()).done) { /* pings, nothing else */ }
        return 'done'
      } catch (err) {
        return (err as Error).message
      }
    })()
    assert.match(ended, /^(done|terminated)$/)
    controller.abort()
  })

  it('refuses cross-site sign-in and sign-out, and never lets a viewer session act as admin', async () => {
    const cross = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${VIEWER}`, origin: 'https://evil.example' } })
    assert.equal(cross.status, 403)
    assert.equal((await cross.json() as any).error.code, 'ERR_FORBIDDEN_ORIGIN')
    const same = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${VIEWER}`, origin: base } })
    assert.equal(same.status, 201)
    const cookie = sessionCookie(same)
    const removal = await fetch(`${base}/api/v1/nodes/${WELL}`, { method: 'DELETE', headers: { cookie, origin: base } })
    assert.equal(removal.status, 401, 'a viewer session is no admin')
    const maintenance = await fetch(`${base}/api/v1/maintenance`, { method: 'POST', headers: { cookie, origin: base, 'content-type': 'application/json' }, body: JSON.stringify({ fleet: true, duration: '1m' }) })
    assert.equal(maintenance.status, 401, 'the admin API takes the bearer token only')
  })

  it('removes a node for an admin (bearer, or a page session signed in with the admin token from the same origin)', async () => {
    const unknown = await fetch(`${base}/api/v1/nodes/12D3KooWNobody11111111111111111111111111111111111`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } })
    assert.equal(unknown.status, 404)
    const stranger = await fetch(`${base}/api/v1/nodes/${WELL}`, { method: 'DELETE' })
    assert.equal(stranger.status, 401)

    const admin = sessionCookie(await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } }))
    assert.equal((await (await fetch(`${base}/api/v1/session`, { headers: { cookie: admin } })).json() as any).role, 'admin')
    const crossSite = await fetch(`${base}/api/v1/nodes/${WELL}`, { method: 'DELETE', headers: { cookie: admin, origin: 'https://evil.example' } })
    assert.equal(crossSite.status, 403)
    const noOrigin = await fetch(`${base}/api/v1/nodes/${WELL}`, { method: 'DELETE', headers: { cookie: admin } })
    assert.equal(noOrigin.status, 403, 'a cookie alone (no Origin) is not enough')

    await store().flush()
    assert.equal(await store().knows(WELL), true)
    const removed = await fetch(`${base}/api/v1/nodes/${WELL}`, { method: 'DELETE', headers: { cookie: admin, origin: base } })
    assert.equal(removed.status, 200)
    assert.deepEqual(await removed.json(), { removed: true, peerId: WELL })
    assert.equal(aggregator.inspect().fleet.get(WELL), undefined)
    assert.equal(await store().knows(WELL), false)
    assert.equal((await fetch(`${base}/api/v1/nodes/${WELL}`)).status, 404)
    assert.equal((await fetch(`${base}/api/v1/nodes/${WELL}/history`)).status, 404)
    assert.ok(!(await (await fetch(`${base}/metrics`)).text()).includes(WELL), 'no metrics series left')
    await store().flush()
    assert.equal(await store().knows(WELL), false, 'nothing pending wrote it back')

    // A node that beats again comes back as new: first seen now, one beat, a fresh history.
    aggregator.apply({ type: 'beat', peerId: WELL, heartbeat: beat('lotus-well', false, 7), protocol: 'v2' })
    const back = await (await fetch(`${base}/api/v1/nodes/${WELL}`)).json() as any
    assert.equal(back.beats, 1)
    assert.equal(back.status, 'healthy')
  })

  it('resolves the alerts of a removed node', async () => {
    const peerId = '12D3KooWAlertNode11111111111111111111111111111111'
    aggregator.apply({ type: 'beat', peerId, heartbeat: beat('lotus-alerting', true), protocol: 'v2' })
    aggregator.inspect().alerting.evaluate(at(Date.now() + 3_600_000))
    const active = (): Array<{ node: { peerId: string } | null }> => (aggregator.inspect().alerting.document(at(Date.now())).alerts as Array<{ node: { peerId: string } | null }>).filter((a) => a.node?.peerId === peerId)
    assert.ok(active().length > 0, 'an alert about it')
    assert.equal((await fetch(`${base}/api/v1/nodes/${peerId}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } })).status, 200)
    assert.deepEqual(active(), [])
  })

  it('publishes /status and badges without a token: statuses and uptime by nickname, never a peer id, address or error', async () => {
    const response = await fetch(`${base}/status`)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.match(response.headers.get('cache-control') ?? '', /^public, max-age=\d+$/)
    const etag = response.headers.get('etag') ?? ''
    assert.notEqual(etag, '')
    const html = await response.text()
    assert.match(html, /lotus-sick/)
    assert.match(html, /Unhealthy/)
    assert.match(html, /without a nickname/)
    for (const secret of [SICK, WELL, ANON, '12D3KooW', ERROR_TEXT, '10.9.9.9', 'f01234', 'chain_source', 'bafyhead', '0.1.0']) {
      assert.ok(!html.includes(secret), `/status leaks ${secret}`)
    }
    assert.doesNotMatch(html, /<script/)
    assert.equal((await fetch(`${base}/status`, { headers: { 'if-none-match': etag } })).status, 304)

    const badge = await fetch(`${base}/badge/fleet.svg`)
    assert.equal(badge.status, 200)
    assert.equal(badge.headers.get('content-type'), 'image/svg+xml; charset=utf-8')
    const svg = await badge.text()
    assert.match(svg, /<title>fleet: 1 needs attention<\/title>/)
    assert.ok(!svg.includes('12D3KooW'))
    const node = await (await fetch(`${base}/badge/node/lotus-sick.svg`)).text()
    assert.match(node, /<title>lotus-sick: unhealthy<\/title>/)
    const missing = await fetch(`${base}/badge/node/nobody.svg`)
    assert.equal(missing.status, 404)
    assert.match(await missing.text(), /<title>nobody: unknown<\/title>/)
  })
})

describe('the public status page is off by default', () => {
  it('answers 404 for /status and the badges', async () => {
    const aggregator = await startTestAggregator()
    try {
      for (const path of ['/status', '/badge/fleet.svg', '/badge/node/x.svg']) assert.equal((await fetch(`${aggregator.url}${path}`)).status, 404, path)
      const session = await fetch(`${aggregator.url}/api/v1/session`, { method: 'POST', headers: { authorization: 'Bearer whatever-token-0000000000' } })
      assert.equal(session.status, 403, 'no token configured: sign-in is off')
    } finally {
      await aggregator.stop()
    }
  })
})
