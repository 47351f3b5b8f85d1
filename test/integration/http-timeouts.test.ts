import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  HTTP_HEADERS_TIMEOUT_MS, HTTP_KEEP_ALIVE_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, HTTP_TIMEOUT_CHECK_MS,
} from '../../aggregator/constants.ts'
import { buildHttpServer, type HttpTimeouts } from '../../aggregator/http/server.ts'
import { formatDuration } from '../../shared/duration.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { ROOT } from '../support/processes.ts'

/**
 * Slow clients (docs/security.md, "HTTP"): a request whose headers, or whole
 * body, are late is answered 408 and closed within its deadline plus the
 * checking interval; a response may last as long as it needs (the live feed).
 * The deadlines are shortened here (the same code path as the documented
 * defaults, whose values are checked against the docs below).
 */
const SHORT: HttpTimeouts = { headersMs: 1_000, requestMs: 2_000, keepAliveMs: 1_000, checkEveryMs: 100 }
/** What a busy machine may add to a timer (the test machine is shared). */
const SCHEDULING_SLACK_MS = 400

interface Cut { ms: number, answer: string }

/** Opens a raw connection, lets `feed` write to it slowly, and resolves when the server closes it. */
async function slowClient (port: number, feed: (socket: Socket) => void): Promise<Cut> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    let started = 0
    socket.on('connect', () => { started = Date.now(); feed(socket) })
    socket.on('data', (d: Buffer) => { answer += d.toString() })
    socket.on('error', () => {})
    socket.on('close', () => { resolve({ ms: Date.now() - started, answer }) })
    setTimeout(() => { socket.destroy(); reject(new Error(`not cut after 20 s; got ${answer}`)) }, 20_000).unref()
  })
}

/** Writes `chunks` one every `everyMs` while the socket is open. */
function trickle (socket: Socket, chunks: string[], everyMs: number): void {
  let i = 0
  const timer = setInterval(() => {
    if (socket.destroyed || i >= chunks.length) { clearInterval(timer); return }
    socket.write(chunks[i++]!)
  }, everyMs)
  socket.on('close', () => { clearInterval(timer) })
}

function assertCutWithin (cut: Cut, deadlineMs: number, checkEveryMs: number): void {
  assert.match(cut.answer, /^HTTP\/1\.1 408 Request Timeout/)
  assert.ok(cut.ms >= deadlineMs - 50, `cut after ${cut.ms} ms, before its deadline of ${deadlineMs} ms`)
  assert.ok(cut.ms <= deadlineMs + checkEveryMs + SCHEDULING_SLACK_MS, `cut after ${cut.ms} ms, later than ${deadlineMs} + ${checkEveryMs} ms`)
}

describe('HTTP deadlines for slow clients', () => {
  it('headers trickled one line at a time are cut at the headers deadline', async (t) => {
    const aggregator = await startTestAggregator({ http: { host: '127.0.0.1', port: 0, timeouts: SHORT } })
    t.after(async () => { await aggregator.stop() })
    const port = Number(new URL(aggregator.url).port)
    const headers = ['GET /api/v1/fleet HTTP/1.1\r\n', 'Host: x\r\n', ...Array.from({ length: 100 }, (_, i) => `X-Slow-${i}: y\r\n`)]
    assertCutWithin(await slowClient(port, (s) => { trickle(s, headers, 100) }), SHORT.headersMs, SHORT.checkEveryMs)
    // A connection that sends nothing at all is cut at the same deadline.
    assertCutWithin(await slowClient(port, () => {}), SHORT.headersMs, SHORT.checkEveryMs)
  })

  it('a body sent slowly is cut at the request deadline, counted from the request\'s first byte', async (t) => {
    const aggregator = await startTestAggregator({ http: { host: '127.0.0.1', port: 0, timeouts: SHORT }, adminToken: 'secret-token-for-tests' })
    t.after(async () => { await aggregator.stop() })
    const port = Number(new URL(aggregator.url).port)
    const cut = await slowClient(port, (s) => {
      s.write('POST /api/v1/maintenance HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\nAuthorization: Bearer secret-token-for-tests\r\n\r\n{')
      trickle(s, Array.from({ length: 199 }, () => ' '), 100)
    })
    assertCutWithin(cut, SHORT.requestMs, SHORT.checkEveryMs)
  })

  it('the live feed outlives every deadline: a response is not a request', async (t) => {
    const aggregator = await startTestAggregator({ http: { host: '127.0.0.1', port: 0, timeouts: SHORT } })
    t.after(async () => { await aggregator.stop() })
    const controller = new AbortController()
    const res = await fetch(`${aggregator.url}/api/v1/events`, { signal: controller.signal })
    assert.equal(res.status, 200)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const openedAt = Date.now()
    const outlive = SHORT.requestMs + SHORT.keepAliveMs + 3 * SHORT.checkEveryMs + 500
    let bytes = 0
    while (Date.now() - openedAt < outlive) {
      const chunk = await Promise.race([reader.read(), new Promise<'waiting'>((resolve) => { setTimeout(() => { resolve('waiting') }, 200) })])
      if (chunk === 'waiting') continue
      assert.equal(chunk.done, false, `the feed ended after ${Date.now() - openedAt} ms`)
      bytes += chunk.value?.byteLength ?? 0
    }
    assert.ok(bytes > 0, 'the feed said something')
    controller.abort()
  })

  it('the defaults are the documented ones, and Node enforces them', () => {
    const app = buildHttpServer({ routes: [] })
    const server = app.server as typeof app.server & { connectionsCheckingInterval: number }
    assert.equal(server.headersTimeout, HTTP_HEADERS_TIMEOUT_MS)
    assert.equal(server.requestTimeout, HTTP_REQUEST_TIMEOUT_MS)
    assert.equal(server.keepAliveTimeout, HTTP_KEEP_ALIVE_TIMEOUT_MS)
    assert.equal(server.connectionsCheckingInterval, HTTP_TIMEOUT_CHECK_MS)
    const security = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8')
    const row = (label: string): string => new RegExp(`^\\| ${label} \\| ([^|]+) \\|`, 'm').exec(security)?.[1]?.trim() ?? `(no row "${label}")`
    assert.equal(row('Time to send the request headers'), `${formatDuration(HTTP_HEADERS_TIMEOUT_MS)} (408; cut within ${formatDuration(HTTP_TIMEOUT_CHECK_MS)} after)`)
    assert.equal(row('Time to send a whole request'), `${formatDuration(HTTP_REQUEST_TIMEOUT_MS)} (408; cut within ${formatDuration(HTTP_TIMEOUT_CHECK_MS)} after)`)
    assert.equal(row('An idle keep-alive connection'), `closed after ${formatDuration(HTTP_KEEP_ALIVE_TIMEOUT_MS)}`)
  })
})
