import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import type { WebSocket } from 'ws'
import { ChainMonitor } from '../../agent/chain-monitor.ts'
import { LotusSource } from '../../agent/sources/lotus.ts'
import { tipsetKeyString } from '../../agent/sources/tipset-key.ts'
import { ErrorCodes } from '../../shared/errors.ts'
import { FakeLotus, LOTUS_TOKEN, type RpcRequest } from '../support/fake-lotus.ts'
import { sendJson } from '../support/servers.ts'

const TOKEN = LOTUS_TOKEN

describe('lotus source against a local Lotus JSON-RPC server', () => {
  const lotus = new FakeLotus()
  before(async () => { await lotus.start() })
  after(async () => { await lotus.server.close() })
  const signal = (): AbortSignal => AbortSignal.timeout(5_000)

  it('reads the head tipset key, height, genesis network and sync state, with the token', async () => {
    lotus.override = () => false
    lotus.calls = []
    const source = new LotusSource({ url: lotus.url, token: TOKEN })
    const reading = await source.read({ signal: signal() })
    assert.equal(reading.head, tipsetKeyString(lotus.blocks))
    assert.match(reading.head, /^\{ bafy\S+ bafy\S+ \}$/)
    assert.equal(reading.height, 2_000_000)
    assert.equal(reading.network, lotus.genesis, 'the genesis CID, as go-filecoin sent it')
    assert.deepEqual(reading.components?.sync, { status: 'ready', details: { syncing: false, localHeight: 2_000_000, targetHeight: 2_000_000 } })
    assert.equal(reading.details?.blocks, 2)
    assert.equal(lotus.authorizations.at(-1), `Bearer ${TOKEN}`)

    lotus.height++
    const next = await source.read({ signal: signal() })
    assert.equal(next.height, 2_000_001)
    assert.equal(lotus.calls.filter((m) => m === 'Filecoin.ChainGetGenesis').length, 1, 'the genesis is asked once')
  })

  it('reports sync affected while a sync target is far ahead', async () => {
    lotus.override = (req, res) => {
      if (req.method !== 'Filecoin.SyncState') return false
      sendJson(res, 200, { jsonrpc: '2.0', id: req.id, result: { ActiveSyncs: [{ WorkerID: 0, Stage: 1, Height: 10, Base: null, Target: { Cids: [], Blocks: [], Height: lotus.height + 500 } }], VMApplied: 0 } })
      return true
    }
    const reading = await new LotusSource({ url: lotus.url, token: TOKEN }).read({ signal: signal() })
    assert.deepEqual(reading.components?.sync, { status: 'affected', details: { syncing: true, localHeight: lotus.height, targetHeight: lotus.height + 500, behind: 500 } })
  })

  it('falls back to the network name when the genesis call is refused, and copes without SyncState', async () => {
    lotus.override = (req, res) => {
      if (req.method === 'Filecoin.ChainGetGenesis' || req.method === 'Filecoin.SyncState') {
        sendJson(res, 200, { jsonrpc: '2.0', id: req.id, error: { code: 1, message: `missing permission to invoke '${req.method.slice(9)}' (need 'admin')` } })
        return true
      }
      return false
    }
    const reading = await new LotusSource({ url: lotus.url, token: TOKEN }).read({ signal: signal() })
    assert.equal(reading.network, 'calibrationnet')
    assert.equal(reading.components, undefined)
  })

  it('gives a clear error for a refused token, without the token in it', async () => {
    lotus.override = () => false
    const source = new LotusSource({ url: lotus.url, token: 'wrong-token-value' })
    await assert.rejects(source.read({ signal: signal() }), (err: Error & { code: string }) => {
      assert.match(err.message, /HTTP 401/)
      assert.match(err.message, /check the API token/)
      assert.doesNotMatch(err.message, /wrong-token-value/)
      assert.doesNotMatch(err.message, /rpc\/v1/, 'paths stay out of messages')
      return true
    })
  })

  it('gives a clear error for a JSON-RPC error answer', async () => {
    lotus.override = (req, res) => {
      if (req.method !== 'Filecoin.ChainHead') return false
      sendJson(res, 200, { jsonrpc: '2.0', id: req.id, error: { code: 1, message: 'chain store not loaded' } })
      return true
    }
    await assert.rejects(new LotusSource({ url: lotus.url, token: TOKEN }).read({ signal: signal() }), (err: Error & { code: string }) => {
      assert.equal(err.code, ErrorCodes.RPC_ERROR)
      assert.equal(err.message, 'Filecoin.ChainHead: the node answered with error 1: chain store not loaded')
      return true
    })
  })

  const nonsense: Array<[string, (req: RpcRequest, res: ServerResponse) => void, RegExp]> = [
    ['an HTML page', (_req, res) => { res.writeHead(502, { 'content-type': 'text/html' }); res.end('<html>Bad Gateway</html>') }, /answered HTTP 502 with something that is not JSON/],
    ['a height that is text', (req, res) => { sendJson(res, 200, { jsonrpc: '2.0', id: req.id, result: { Cids: [{ '/': lotus.blocks[0] }], Height: '12' } }) }, /unexpected answer .*result\.Height/],
    ['CIDs that are not CIDs', (req, res) => { sendJson(res, 200, { jsonrpc: '2.0', id: req.id, result: { Cids: [{ '/': 'hello' }], Height: 12 } }) }, /result\.Cids\[0\]\.\/: not a CID/],
    ['an answer to another request', (req, res) => { sendJson(res, 200, { jsonrpc: '2.0', id: req.id + 1000, result: null }) }, /answered request \d+ with id \d+/],
    ['neither result nor error', (req, res) => { sendJson(res, 200, { jsonrpc: '2.0', id: req.id }) }, /neither a result nor an error/],
  ]
  for (const [what, answer, message] of nonsense) {
    it(`refuses ${what} with a clear error`, async () => {
      lotus.override = (req, res) => {
        if (req.method !== 'Filecoin.ChainHead') return false
        answer(req, res)
        return true
      }
      await assert.rejects(new LotusSource({ url: lotus.url, token: TOKEN }).read({ signal: signal() }), (err: Error & { code: string }) => {
        assert.equal(err.code, ErrorCodes.BAD_ANSWER)
        assert.match(err.message, /^Filecoin\.ChainHead: /)
        assert.match(err.message, message)
        return true
      })
    })
  }

  it('times out against a server that never answers: chain_source not_ready, head kept', async () => {
    lotus.override = () => false
    const monitor = new ChainMonitor(new LotusSource({ url: lotus.url, token: TOKEN }), { timeoutMs: 400 })
    await monitor.poll()
    assert.equal(monitor.snapshot().component.status, 'ready')
    lotus.override = (req) => req.method === 'Filecoin.ChainHead' // swallow the request: no answer, ever
    const started = Date.now()
    await monitor.poll()
    const took = Date.now() - started
    assert.ok(took >= 350 && took < 3_000, `gave up at the timeout (${took} ms)`)
    const snap = monitor.snapshot()
    assert.equal(snap.component.status, 'not_ready')
    const details = snap.component.details as Record<string, unknown>
    assert.equal(details.code, ErrorCodes.TIMEOUT)
    assert.match(String(details.error), /did not answer within 400 ms/)
    assert.equal(snap.reading?.head, tipsetKeyString(lotus.blocks))
  })
})

describe('lotus source over the websocket form of the API (ws://HOST:1234/rpc/v1)', () => {
  const lotus = new FakeLotus()
  before(async () => { await lotus.start() })
  after(async () => { await lotus.close() })
  const signal = (ms = 5_000): AbortSignal => AbortSignal.timeout(ms)

  it('reads head, height, head time, network, sync and version, with the token in the upgrade\'s Authorization header, on one kept socket', async () => {
    lotus.overrideWs = () => false
    lotus.calls = []
    lotus.authorizations = []
    lotus.upgrades = 0
    lotus.headTimestamp = 1_767_225_600
    const source = new LotusSource({ url: lotus.wsUrl, token: TOKEN })
    try {
      const reading = await source.read({ signal: signal() })
      assert.equal(reading.head, tipsetKeyString(lotus.blocks))
      assert.equal(reading.height, lotus.height)
      assert.equal(reading.network, lotus.genesis)
      assert.equal(reading.headTime, 1_767_225_600_000, "the blocks' Timestamp, seconds -> ms")
      assert.equal(reading.details?.headTime, new Date(1_767_225_600_000).toISOString())
      assert.equal(reading.details?.nodeVersion, '1.34.1+calibnet+git.fake')
      assert.equal(reading.details?.blockDelaySeconds, 30)
      assert.equal(reading.components?.sync?.status, 'ready')
      lotus.height++
      assert.equal((await source.read({ signal: signal() })).height, lotus.height)
      assert.equal(lotus.upgrades, 1, 'one websocket for every call')
      assert.deepEqual(lotus.authorizations, [`Bearer ${TOKEN}`])
      assert.equal(lotus.calls.filter((m) => m === 'Filecoin.Version').length, 1, 'the version is asked once')
    } finally {
      await source.close()
      lotus.headTimestamp = undefined
    }
  })

  it('refuses a wrong token with a clear error, without the token in it', async () => {
    const source = new LotusSource({ url: lotus.wsUrl, token: 'wrong-token-value' })
    await assert.rejects(source.read({ signal: signal() }), (err: Error & { code: string }) => {
      assert.equal(err.code, ErrorCodes.BAD_ANSWER)
      assert.match(err.message, /refused the websocket with HTTP 401 \(the node refused the request: check the API token\)/)
      assert.doesNotMatch(err.message, /wrong-token-value|rpc\/v1/)
      return true
    })
    await source.close()
  })

  it('a call that gets no answer ends at its deadline; the next poll gets a fresh socket', async () => {
    lotus.upgrades = 0
    lotus.overrideWs = (req) => req.method === 'Filecoin.ChainHead' // swallowed: never answered
    const source = new LotusSource({ url: lotus.wsUrl, token: TOKEN })
    try {
      await assert.rejects(source.read({ signal: signal(300) }), (err: Error & { code: string }) => {
        assert.equal(err.code, ErrorCodes.TIMEOUT)
        assert.match(err.message, /^Filecoin\.ChainHead: no answer from ws:\/\/127\.0\.0\.1:\d+ in time$/)
        return true
      })
      lotus.overrideWs = () => false
      const reading = await source.read({ signal: signal() })
      assert.equal(reading.height, lotus.height)
      assert.equal(lotus.upgrades, 2, 'the silent socket was dropped')
    } finally {
      await source.close()
    }
  })

  it('refuses an answer larger than the limit, and answers that are not JSON-RPC', async () => {
    const cases: Array<[string, (req: RpcRequest, ws: WebSocket) => void, RegExp]> = [
      ['a 9 MiB answer', (req, ws) => { ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: 'x'.repeat(9 * 1024 * 1024) })) }, /larger than 8388608 bytes/],
      ['text that is not JSON', (_req, ws) => { ws.send('<html>Bad Gateway</html>') }, /not JSON over the websocket/],
      ['a height that is text', (req, ws) => { ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: { Cids: [{ '/': lotus.blocks[0] }], Height: '12' } })) }, /unexpected answer .*result\.Height/],
      ['an error object', (req, ws) => { ws.send(JSON.stringify({ jsonrpc: '2.0', id: req.id, error: { code: 1, message: 'chain store not loaded' } })) }, /the node answered with error 1: chain store not loaded/],
    ]
    for (const [what, answer, message] of cases) {
      lotus.overrideWs = (req, ws) => {
        if (req.method !== 'Filecoin.ChainHead') return false
        answer(req, ws)
        return true
      }
      const source = new LotusSource({ url: lotus.wsUrl, token: TOKEN })
      await assert.rejects(source.read({ signal: signal() }), (err: Error) => {
        assert.match(err.message, /^Filecoin\.ChainHead: /, what)
        assert.match(err.message, message, what)
        return true
      })
      await source.close()
    }
    lotus.overrideWs = () => false
  })

  it('a node that closes the socket is an error for the calls waiting, and the next poll reconnects', async () => {
    lotus.upgrades = 0
    lotus.overrideWs = (req, ws) => {
      if (req.method !== 'Filecoin.ChainHead') return false
      ws.close(1011, 'shutting down')
      return true
    }
    const source = new LotusSource({ url: lotus.wsUrl, token: TOKEN })
    try {
      await assert.rejects(source.read({ signal: signal() }), (err: Error & { code: string }) => {
        assert.equal(err.code, ErrorCodes.SOURCE_FAILED)
        assert.match(err.message, /closed the websocket \(code 1011: shutting down\)/)
        return true
      })
      lotus.overrideWs = () => false
      assert.equal((await source.read({ signal: signal() })).height, lotus.height)
      assert.equal(lotus.upgrades, 2)
    } finally {
      await source.close()
    }
  })

  it('a node that is not there: a clear error, no hang', async () => {
    const source = new LotusSource({ url: 'ws://127.0.0.1:1/rpc/v1', token: TOKEN })
    await assert.rejects(source.read({ signal: signal() }), /cannot reach ws:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/)
    await source.close()
  })
})
