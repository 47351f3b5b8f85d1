import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { CachedBody, negotiateEncoding } from '../../aggregator/http/cached-body.ts'

describe('cached bodies', () => {
  it('chooses brotli or gzip by Accept-Encoding and its q-values', () => {
    assert.equal(negotiateEncoding(undefined), undefined)
    assert.equal(negotiateEncoding(''), undefined)
    assert.equal(negotiateEncoding('identity'), undefined)
    assert.equal(negotiateEncoding('gzip'), 'gzip')
    assert.equal(negotiateEncoding('gzip, deflate, br'), 'br')
    assert.equal(negotiateEncoding('br;q=0.5, gzip;q=0.8'), 'gzip')
    assert.equal(negotiateEncoding('br;q=0, gzip'), 'gzip')
    assert.equal(negotiateEncoding('gzip;q=0, br;q=0'), undefined)
    assert.equal(negotiateEncoding('*'), 'br')
    assert.equal(negotiateEncoding('*;q=0.1, gzip;q=0.2'), 'gzip')
    assert.equal(negotiateEncoding('GZIP'), 'gzip')
    assert.equal(negotiateEncoding(['deflate', 'gzip']), 'gzip')
  })

  it('knows its ETags in every encoding, weak or strong, in a list or as *', () => {
    const body = new CachedBody(Buffer.from('{}'), 'v1', 'application/json')
    assert.equal(body.etag(), '"v1"')
    assert.equal(body.etag('gzip'), '"v1-gzip"')
    for (const header of ['"v1"', 'W/"v1-gzip"', '"other", "v1-br"', '*']) assert.equal(body.matches(header), true, header)
    for (const header of [undefined, '"v2"', '"v1-"', 'v1']) assert.equal(body.matches(header), false, String(header))
  })

  it('says a weak ETag for a body that names its meaning, and matches it either way', () => {
    const body = new CachedBody(Buffer.from('{}'), 'n1', 'application/json', 200, true)
    assert.equal(body.etag(), 'W/"n1"')
    assert.equal(body.etag('br'), 'W/"n1-br"')
    for (const header of ['W/"n1"', '"n1"', 'W/"n1-gzip"']) assert.equal(body.matches(header), true, header)
    assert.equal(body.matches('W/"n2"'), false)
  })

  it('compresses once per encoding, whatever the number of waiting requests', async () => {
    const text = JSON.stringify({ nodes: Array.from({ length: 500 }, (_, i) => ({ peerId: `P${i}`, status: 'healthy' })) })
    const body = new CachedBody(Buffer.from(text), 'v1', 'application/json')
    const [a, b] = [body.encode('gzip'), body.encode('gzip')]
    assert.equal(a, b, 'one compression for both')
    assert.equal(gunzipSync(await a).toString(), text)
    const br = await body.encode('br')
    assert.equal(brotliDecompressSync(br).toString(), text)
    assert.ok(br.length < text.length / 5)
  })
})
