import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { CheckRunner } from '../../agent/checks/runner.ts'
import { checkInputSchema, createCheck, parseCheckFlag, type CheckInput } from '../../agent/checks/spec.ts'
import type { CheckSpec } from '../../agent/checks/types.ts'
import { ErrorCodes } from '../../shared/errors.ts'
import type { ComponentHealth } from '../../shared/health.ts'
import { refusedPort, sendJson, startHttpServer, startTcpServer, type RunningServer } from '../support/servers.ts'

/** Runs one check once through the real runner and returns the components it produced. */
async function checkOnce (spec: CheckSpec): Promise<{ components: Record<string, ComponentHealth>, tookMs: number }> {
  const runner = new CheckRunner([createCheck(spec)])
  const started = Date.now()
  await runner.start()
  const tookMs = Date.now() - started
  await runner.stop()
  return { components: runner.components(), tookMs }
}

const flag = (text: string, timeoutMs = 400): CheckSpec => ({ ...parseCheckFlag(text), timeoutMs })
const config = (input: CheckInput): CheckSpec => checkInputSchema.parse(input)
const detailsOf = (c: ComponentHealth | undefined): Record<string, unknown> => c?.details as Record<string, unknown>

describe('component checks against real local servers', () => {
  let web: RunningServer
  let tcp: RunningServer
  let refused: number
  before(async () => {
    web = await startHttpServer((req, res, body) => {
      switch (req.url) {
        case '/ok': res.writeHead(204); res.end(); return
        case '/down': res.writeHead(503); res.end('maintenance'); return
        case '/hang': return // accept the request, never answer
        case '/zksync': sendJson(res, 503, {
          status: 'not_ready',
          components: { sync_state: { status: 'not_ready', details: { is_synced: false, local_block: 80, main_node_block: 91 } }, http_api: { status: 'ready' } },
        }); return
        case '/actuator/health': sendJson(res, 200, {
          status: 'UP',
          components: { db: { status: 'UP', details: { database: 'PostgreSQL', validationQuery: 'isValid()' } }, ping: { status: 'UP' } },
        }); return
        case '/not-json': res.writeHead(200); res.end('OK'); return
        case '/rpc': {
          if (req.method !== 'POST') { sendJson(res, 405, { message: 'POST a JSON-RPC call' }); return }
          const call = JSON.parse(body) as { id: number, method: string }
          if (call.method === 'eth_blockNumber') sendJson(res, 200, { jsonrpc: '2.0', id: call.id, result: '0x1b4' })
          else sendJson(res, 200, { jsonrpc: '2.0', id: call.id, error: { code: -32601, message: 'the method does not exist/is not available' } })
          return
        }
        default: res.writeHead(404); res.end()
      }
    })
    tcp = await startTcpServer()
    refused = await refusedPort()
  })
  after(async () => {
    await web.close()
    await tcp.close()
  })

  describe('http', () => {
    it('is ready on 2xx, with the status and latency', async () => {
      const { components } = await checkOnce(flag(`api=http:${web.url}/ok`))
      assert.equal(components.api?.status, 'ready')
      assert.equal(detailsOf(components.api).httpStatus, 204)
      assert.equal(typeof detailsOf(components.api).latencyMs, 'number')
    })

    it('is not_ready on 503, or affected when auxiliary', async () => {
      const core = await checkOnce(flag(`api=http:${web.url}/down`))
      assert.equal(core.components.api?.status, 'not_ready')
      assert.equal(detailsOf(core.components.api).httpStatus, 503)
      const aux = await checkOnce(config({ name: 'api', kind: 'http', target: `${web.url}/down`, level: 'auxiliary' }))
      assert.equal(aux.components.api?.status, 'affected')
    })

    it('gives up on a server that hangs, at the timeout', async () => {
      const { components, tookMs } = await checkOnce(flag(`api=http:${web.url}/hang`, 400))
      assert.ok(tookMs >= 350 && tookMs < 3_000, `took ${tookMs} ms`)
      assert.equal(components.api?.status, 'not_ready')
      assert.equal(detailsOf(components.api).code, ErrorCodes.TIMEOUT)
    })

    it('fails fast on a refused port', async () => {
      const { components, tookMs } = await checkOnce(flag(`api=http:http://127.0.0.1:${refused}/`, 3_000))
      assert.ok(tookMs < 2_000)
      assert.equal(components.api?.status, 'not_ready')
      assert.match(String(detailsOf(components.api).error), /ECONNREFUSED/)
    })
  })

  describe('tcp', () => {
    it('is ready when something accepts, not_ready on a refused port', async () => {
      assert.equal((await checkOnce(flag(`p2p=tcp:${tcp.url}`))).components.p2p?.status, 'ready')
      const down = await checkOnce(flag(`p2p=tcp:127.0.0.1:${refused}`))
      assert.equal(down.components.p2p?.status, 'not_ready')
      assert.match(String(detailsOf(down.components.p2p).error), /cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/)
    })
  })

  describe('jsonrpc', () => {
    it('is ready when the method answers, showing a short result', async () => {
      const { components } = await checkOnce(flag(`rpc=jsonrpc:${web.url}/rpc#eth_blockNumber`))
      assert.equal(components.rpc?.status, 'ready')
      assert.equal(detailsOf(components.rpc).result, '0x1b4')
    })

    it('is not_ready when the method answers an error', async () => {
      const { components } = await checkOnce(flag(`rpc=jsonrpc:${web.url}/rpc#debug_nothing`))
      assert.equal(components.rpc?.status, 'not_ready')
      assert.equal(detailsOf(components.rpc).rpcCode, -32601)
    })

    it('times out against a hanging server', async () => {
      const { components } = await checkOnce(flag(`rpc=jsonrpc:${web.url}/hang#eth_blockNumber`))
      assert.equal(detailsOf(components.rpc).code, ErrorCodes.TIMEOUT)
    })
  })

  describe('health', () => {
    it("imports a zkSync /health document's components (503 is read, not a failure)", async () => {
      const { components } = await checkOnce(flag(`node=health:${web.url}/zksync`))
      assert.equal(components.node?.status, 'not_ready')
      assert.equal(detailsOf(components.node).httpStatus, 503)
      assert.deepEqual(components['node/sync_state'], { status: 'not_ready', details: { is_synced: false, local_block: 80, main_node_block: 91 } })
      assert.deepEqual(components['node/http_api'], { status: 'ready' })
    })

    it('imports a Spring actuator document', async () => {
      const { components } = await checkOnce(flag(`app=health:${web.url}/actuator/health`))
      assert.equal(components.app?.status, 'ready')
      assert.deepEqual(components['app/db'], { status: 'ready', details: { database: 'PostgreSQL', validationQuery: 'isValid()' } })
      assert.deepEqual(components['app/ping'], { status: 'ready' })
    })

    it('fails on an answer that is not a health document', async () => {
      const { components } = await checkOnce(flag(`app=health:${web.url}/not-json`))
      assert.equal(components.app?.status, 'not_ready')
      assert.match(String(detailsOf(components.app).error), /not JSON/)
      const other = await checkOnce(flag(`app=health:${web.url}/rpc`))
      assert.equal(other.components.app?.status, 'not_ready')
      assert.match(String(detailsOf(other.components.app).error), /answered HTTP 405, not a zkSync or Spring health document: status: Invalid input/)
    })
  })

  describe('command', () => {
    it('is ready on exit 0, not_ready otherwise, and killed at the timeout', async () => {
      const ok = await checkOnce(flag('disk=command:echo "free 42%"'))
      assert.deepEqual({ status: ok.components.disk?.status, output: detailsOf(ok.components.disk).output }, { status: 'ready', output: 'free 42%' })
      const failed = await checkOnce(flag('disk=command:echo full >&2; exit 2'))
      assert.equal(failed.components.disk?.status, 'not_ready')
      assert.equal(detailsOf(failed.components.disk).exitCode, 2)
      assert.match(String(detailsOf(failed.components.disk).error), /exited with status 2: full/)
      const hung = await checkOnce(flag('disk=command:sleep 20', 400))
      assert.ok(hung.tookMs < 3_000)
      assert.equal(detailsOf(hung.components.disk).code, ErrorCodes.TIMEOUT)
    })
  })
})
