import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
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
