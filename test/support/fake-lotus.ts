import type { IncomingMessage, ServerResponse } from 'node:http'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { WebSocketServer, type WebSocket } from 'ws'
import { sendJson, startHttpServer, type RunningServer } from './servers.ts'

export const LOTUS_TOKEN = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIl19.not-a-real-signature'

async function cid (text: string): Promise<string> {
  return CID.createV1(0x71, await sha256.digest(new TextEncoder().encode(text))).toString()
}

export interface RpcRequest { jsonrpc: string, id: number, method: string, params: unknown[] }
/** An HTTP answer of a test's own: true when it answered (or chose never to). */
export type Behaviour = (req: RpcRequest, res: ServerResponse, http: IncomingMessage) => boolean
/** A websocket answer of a test's own: true when it answered (or chose never to). */
export type WsBehaviour = (req: RpcRequest, socket: WebSocket) => boolean

/** Filecoin's epoch is 30 s; the fake's blocks are stamped on that grid. */
export const FAKE_BLOCK_DELAY_S = 30

/**
 * A local stand-in for a Lotus full node: JSON-RPC 2.0 on /rpc/v1 over HTTP
 * POST and over websocket (as Lotus serves both on one port), bearer-token
 * auth read from the Authorization header (or Lotus's `token` query
 * parameter), and the answer shapes Lotus documents for Filecoin.ChainHead
 * (with Blocks[].Timestamp), ChainGetGenesis, StateNetworkName, SyncState and
 * Version. Each test can override a method's answer.
 */
export class FakeLotus {
  server!: RunningServer
  calls: string[] = []
  /** The Authorization header of every HTTP request and websocket upgrade, in order. */
  authorizations: Array<string | undefined> = []
  /** Websocket upgrades seen (each a connection the agent opened). */
  upgrades = 0
  height = 2_000_000
  /** Seconds since the epoch of the head's blocks; by default "now" on the 30 s grid, as a synced node's. */
  headTimestamp: number | undefined
  blocks: string[] = []
  genesis = ''
  override: Behaviour = () => false
  overrideWs: WsBehaviour = () => false
  private wss: WebSocketServer | undefined

  get url (): string { return `${this.server.url}/rpc/v1` }
  get wsUrl (): string { return `${this.server.url.replace(/^http/, 'ws')}/rpc/v1` }

  /** Listens on an ephemeral port, or on `port` (a Lotus that comes back where it was). */
  async start (port = 0): Promise<void> {
    this.blocks = [await cid('block-b'), await cid('block-a')]
    this.genesis = await cid('genesis')
    this.server = await startHttpServer((http, res, body) => {
      this.authorizations.push(http.headers.authorization)
      if (!this.authorized(http)) {
        res.writeHead(401, { 'content-type': 'text/plain' })
        res.end('JWT Verification failed')
        return
      }
      const req = JSON.parse(body) as RpcRequest
      this.calls.push(req.method)
      if (this.override(req, res, http)) return
      const answer = this.answer(req)
      sendJson(res, 200, answer)
    }, port)
    const wss = new WebSocketServer({ noServer: true })
    this.wss = wss
    this.server.httpServer?.on('upgrade', (http: IncomingMessage, socket, head) => {
      this.authorizations.push(http.headers.authorization)
      if (new URL(http.url ?? '/', 'http://x').pathname !== '/rpc/v1' || !this.authorized(http)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\n\r\nJWT Verification failed')
        return
      }
      this.upgrades++
      wss.handleUpgrade(http, socket, head, (ws) => {
        ws.on('message', (data) => {
          const req = JSON.parse(data.toString()) as RpcRequest
          this.calls.push(req.method)
          if (this.overrideWs(req, ws)) return
          ws.send(JSON.stringify(this.answer(req)))
        })
      })
    })
  }

  /** Closes the HTTP server, every websocket and every connection. */
  async close (): Promise<void> {
    for (const client of this.wss?.clients ?? []) client.terminate()
    this.wss?.close()
    await this.server.close()
  }

  private authorized (http: IncomingMessage): boolean {
    // As Lotus's auth handler: the header first, else ?token=.
    const header = http.headers.authorization
    if (header !== undefined) return header === `Bearer ${LOTUS_TOKEN}`
    return new URL(http.url ?? '/', 'http://x').searchParams.get('token') === LOTUS_TOKEN
  }

  private answer (req: RpcRequest): unknown {
    const ok = (result: unknown): unknown => ({ jsonrpc: '2.0', result, id: req.id })
    const headTime = this.headTimestamp ?? Math.floor(Date.now() / 1000 / FAKE_BLOCK_DELAY_S) * FAKE_BLOCK_DELAY_S
    const tipset = (cids: string[], height: number, timestamp: number): unknown => ({
      Cids: cids.map((c) => ({ '/': c })),
      Blocks: cids.map(() => ({ Miner: 'f01000', Height: height, Timestamp: timestamp, Parents: [] })),
      Height: height,
    })
    switch (req.method) {
      case 'Filecoin.ChainHead': return ok(tipset(this.blocks, this.height, headTime))
      case 'Filecoin.ChainGetGenesis': return ok(tipset([this.genesis], 0, headTime - this.height * FAKE_BLOCK_DELAY_S))
      case 'Filecoin.StateNetworkName': return ok('calibrationnet')
      case 'Filecoin.SyncState': return ok({ ActiveSyncs: [{ WorkerID: 1, Base: null, Target: null, Stage: 4, Height: this.height, Start: '0001-01-01T00:00:00Z', End: '0001-01-01T00:00:00Z', Message: '' }], VMApplied: 0 })
      case 'Filecoin.Version': return ok({ Version: '1.34.1+calibnet+git.fake', APIVersion: 0x020300, BlockDelay: FAKE_BLOCK_DELAY_S, Agent: 'lotus' })
      default: return { jsonrpc: '2.0', id: req.id, error: { code: -32601, message: `method '${req.method}' not found` } }
    }
  }
}
