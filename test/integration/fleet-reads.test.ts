// GET /api/v1/fleet, /api/v1/fleet/health and /api/v1/nodes/:peerId through
// real HTTP: cached bytes with ETags (304), compression by Accept-Encoding,
// filters and pages.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { heartbeat } from '../support/heartbeats.ts'
import { startTestAggregator } from '../support/in-process.ts'

interface Raw { status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }

/** A GET as it comes over the wire (fetch would decompress on its own). */
function raw (url: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
      res.on('error', reject)
    }).on('error', reject).end()
  })
}

const NODES = 40

describe('fleet reads over HTTP', () => {
  let aggregator: Aggregator
  const put = (i: number, hb: Partial<Heartbeat> = {}): void => {
    aggregator.apply({ type: 'beat', peerId: `12D3KooWRead${String(i).padStart(4, '0')}`, heartbeat: heartbeat({ nickname: `lotus-${i}`, network: i % 4 === 0 ? 'calibnet' : 'mainnet', period: 60_000, ...hb }), protocol: 'v2' })
  }

  before(async () => {
    aggregator = await startTestAggregator()
    for (let i = 0; i < NODES; i++) put(i, i % 10 === 3 ? { health: { status: 'not_ready', components: { sync: { status: 'not_ready' } } } } : {})
  })
  after(async () => { await aggregator?.stop() })

  it('answers with an ETag, no-cache, and 304 while the fleet is unchanged', async () => {
    const first = await raw(`${aggregator.url}/api/v1/fleet`)
    assert.equal(first.status, 200)
    assert.equal(first.headers['content-type'], 'application/json; charset=utf-8')
    assert.equal(first.headers['cache-control'], 'no-cache')
    assert.match(String(first.headers.vary), /Accept-Encoding/)
    const etag = String(first.headers.etag)
    assert.match(etag, /^"[\w.-]+"$/)
    assert.equal(JSON.parse(first.body.toString()).nodes.length, NODES)

    const again = await raw(`${aggregator.url}/api/v1/fleet`, { 'if-none-match': etag })
    assert.equal(again.status, 304)
    assert.equal(again.body.length, 0)
    assert.equal(again.headers.etag, etag)

    put(NODES, {})
    const changed = await raw(`${aggregator.url}/api/v1/fleet`, { 'if-none-match': etag })
    assert.equal(changed.status, 200, 'a new node: a new document at once (the first change after a quiet spell)')
    assert.notEqual(changed.headers.etag, etag)
    assert.equal(JSON.parse(changed.body.toString()).nodes.length, NODES + 1)
  })

  it('compresses with gzip or brotli as the client takes it, and each encoding has its ETag', async () => {
    const plain = await raw(`${aggregator.url}/api/v1/fleet`)
    const gzip = await raw(`${aggregator.url}/api/v1/fleet`, { 'accept-encoding': 'gzip' })
    assert.equal(gzip.headers['content-encoding'], 'gzip')
    assert.deepEqual(gunzipSync(gzip.body), plain.body)
    assert.ok(gzip.body.length < plain.body.length / 4, `${gzip.body.length} of ${plain.body.length} bytes`)
    assert.equal(gzip.headers.etag, String(plain.headers.etag).replace(/"$/, '-gzip"'))
    const br = await raw(`${aggregator.url}/api/v1/fleet`, { 'accept-encoding': 'gzip, br' })
    assert.equal(br.headers['content-encoding'], 'br')
    assert.deepEqual(brotliDecompressSync(br.body), plain.body)
    assert.equal((await raw(`${aggregator.url}/api/v1/fleet`, { 'accept-encoding': 'identity' })).headers['content-encoding'], undefined)
    // The ETag of one representation revalidates them all (weak comparison).
    assert.equal((await raw(`${aggregator.url}/api/v1/fleet`, { 'if-none-match': String(gzip.headers.etag) })).status, 304)
  })

  it('filters by status, network and text, and pages with a cursor through every node once', async () => {
    const get = async (query: string): Promise<any> => JSON.parse((await raw(`${aggregator.url}/api/v1/fleet?${query}`)).body.toString())
    const unhealthy = await get('status=unhealthy,down')
    assert.deepEqual(unhealthy.nodes.map((n: any) => n.nickname).sort(), ['lotus-13', 'lotus-23', 'lotus-3', 'lotus-33'])
    assert.equal(unhealthy.summary.total, NODES + 1, 'the summary is the whole fleet\'s')
    assert.equal(unhealthy.page.matched, 4)
    assert.ok((await get('network=calibnet')).nodes.every((n: any) => n.network === 'calibnet'))
    assert.deepEqual((await get('q=LOTUS-3')).nodes.map((n: any) => n.nickname).sort(), ['lotus-3', 'lotus-30', 'lotus-31', 'lotus-32', 'lotus-33', 'lotus-34', 'lotus-35', 'lotus-36', 'lotus-37', 'lotus-38', 'lotus-39'])
    assert.equal((await get('q=12d3koowread0007')).nodes[0]?.nickname, 'lotus-7', 'the peer id matches too')

    const whole = (await get('')).nodes.map((n: any) => n.peerId)
    const paged: string[] = []
    let cursor: string | null = null
    do {
      const page: any = await get(`limit=7${cursor === null ? '' : `&cursor=${cursor}`}`)
      assert.ok(page.nodes.length <= 7)
      paged.push(...page.nodes.map((n: any) => n.peerId))
      cursor = page.page.nextCursor
    } while (cursor !== null)
    assert.deepEqual(paged, whole, 'the document\'s order, every node once')
    assert.deepEqual((await get('offset=35&limit=100')).nodes.map((n: any) => n.peerId), whole.slice(35))

    const filtered = await raw(`${aggregator.url}/api/v1/fleet?status=unhealthy`)
    assert.equal((await raw(`${aggregator.url}/api/v1/fleet?status=unhealthy`, { 'if-none-match': String(filtered.headers.etag) })).status, 304)
    assert.notEqual(filtered.headers.etag, (await raw(`${aggregator.url}/api/v1/fleet`)).headers.etag)
  })

  it('refuses a bad filter with 400 and a clear message', async () => {
    for (const [query, message] of [['status=sick', /unknown status "sick"/], ['limit=0', /invalid limit/], ['offset=1&cursor=abc', /offset or cursor/], ['cursor=%21', /invalid cursor/], ['status=down&status=stale', /more than once/]] as const) {
      const answer = await raw(`${aggregator.url}/api/v1/fleet?${query}`)
      assert.equal(answer.status, 400, query)
      const error = JSON.parse(answer.body.toString()).error
      assert.equal(error.code, 'ERR_INVALID_ARGUMENT')
      assert.match(error.message, message)
    }
  })

  it('serves the fleet health document the same way; 304 only for an answer that would be 200', async () => {
    const failing = await raw(`${aggregator.url}/api/v1/fleet/health`, { 'accept-encoding': 'gzip' })
    assert.equal(failing.status, 503)
    assert.equal(failing.headers['content-type'], 'application/health+json; charset=utf-8')
    assert.equal(failing.headers['content-encoding'], 'gzip')
    assert.equal(JSON.parse(gunzipSync(failing.body).toString()).status, 'fail')
    assert.equal((await raw(`${aggregator.url}/api/v1/fleet/health`, { 'if-none-match': String(failing.headers.etag) })).status, 503, 'a failing fleet is always said in full')
    for (let i = 0; i <= NODES; i++) if (i % 10 === 3) put(i, { seq: 2 })
    const passing = await raw(`${aggregator.url}/api/v1/fleet/health`)
    assert.equal(passing.status, 200)
    assert.equal((await raw(`${aggregator.url}/api/v1/fleet/health`, { 'if-none-match': String(passing.headers.etag) })).status, 304)
  })

  it('gives one node an ETag too', async () => {
    const url = `${aggregator.url}/api/v1/nodes/12D3KooWRead0001`
    const first = await raw(url)
    assert.equal(first.status, 200)
    assert.equal(first.headers['cache-control'], 'no-cache')
    assert.equal(JSON.parse(first.body.toString()).nickname, 'lotus-1')
    assert.match(String(first.headers.etag), /^W\/"/, 'weak: the view but for what time alone moves (it is built for each request)')
    assert.equal((await raw(url, { 'if-none-match': String(first.headers.etag) })).status, 304)
    assert.equal((await raw(`${aggregator.url}/api/v1/nodes/nobody`)).status, 404)
  })
})
