import type { IncomingMessage, ServerResponse } from 'node:http'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { sendJson, startHttpServer, type RunningServer } from './servers.ts'

export const LOTUS_TOKEN = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIl19.not-a-real-signature'

async function cid (text: string): Promise<string> {
  return CID.createV1(0x71, await sha256.digest(new TextEncoder().encode(text))).toString()
}

export interface RpcRequest { jsonrpc: string, id: number, method: string, params: unknown[] }
export type Behaviour = (req: RpcRequest, res: ServerResponse, http: IncomingMessage) => boolean

/**
 * A local stand-in for a Lotus full node: JSON-RPC 2.0 over HTTP POST on
 * /rpc/v1, bearer-token auth, and the answer shapes Lotus documents for
 * Filecoin.ChainHead, ChainGetGenesis, StateNetworkName and SyncState.
 * Each test can override a method's answer.
 */
export class FakeLotus {
  server!: RunningServer
  calls: string[] = []
  authorizations: Array<string | undefined> = []
  height = 2_000_000
  blocks: string[] = []
  genesis = ''
  override: Behaviour = () => false

  get url (): string { return `${this.server.url}/rpc/v1` }

  /** Listens on an ephemeral port, or on `port` (a Lotus that comes back where it was). */
  async start (port = 0): Promise<void> {
    this.blocks = [await cid('block-b'), await cid('block-a')]
    this.genesis = await cid('genesis')
    this.server = await startHttpServer((http, res, body) => {
      this.authorizations.push(http.headers.authorization)
      if (http.headers.authorization !== `Bearer ${LOTUS_TOKEN}`) {
        res.writeHead(401, { 'content-type': 'text/plain' })
        res.end('JWT Verification failed')
        return
      }
      const req = JSON.parse(body) as RpcRequest
      this.calls.push(req.method)
      if (this.override(req, res, http)) return
      const ok = (result: unknown): void => { sendJson(res, 200, { jsonrpc: '2.0', result, id: req.id }) }
      const tipset = (cids: string[], height: number): unknown => ({
        Cids: cids.map((c) => ({ '/': c })),
        Blocks: cids.map(() => ({ Miner: 'f01000', Height: height, Timestamp: 1_700_000_000 + height * 30, Parents: [] })),
        Height: height,
      })
      switch (req.method) {
        case 'Filecoin.ChainHead': ok(tipset(this.blocks, this.height)); return
        case 'Filecoin.ChainGetGenesis': ok(tipset([this.genesis], 0)); return
        case 'Filecoin.StateNetworkName': ok('calibrationnet'); return
        case 'Filecoin.SyncState': ok({ ActiveSyncs: [{ WorkerID: 1, Base: null, Target: null, Stage: 4, Height: this.height, Start: '0001-01-01T00:00:00Z', End: '0001-01-01T00:00:00Z', Message: '' }], VMApplied: 0 }); return
        default: sendJson(res, 200, { jsonrpc: '2.0', id: req.id, error: { code: -32601, message: `method '${req.method}' not found` } })
      }
    }, port)
  }
}
