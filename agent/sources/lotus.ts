import { z } from 'zod'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { ComponentHealth } from '../../shared/health.ts'
import { LIMITS, MAX_UINT } from '../../shared/protocol.ts'
import { DEFAULT_LOTUS_URL, DEFAULT_SYNC_LAG_EPOCHS } from '../constants.ts'
import type { ChainReading, ChainSource } from '../source.ts'
import { JsonRpcError, type JsonRpcCaller } from './jsonrpc.ts'
import { createJsonRpcClient } from './jsonrpc-ws.ts'
import { parseCid, tipsetKeyString } from './tipset-key.ts'

const cidString = z.string().refine((text) => {
  try { parseCid(text); return true } catch { return false }
}, 'not a CID')

/** A CID as Lotus writes it in JSON: {"/": "bafy…"}. */
const cidLink = z.object({ '/': cidString })
const epoch = z.number().int().min(0).max(MAX_UINT)

/** The parts of a Lotus TipSet (Filecoin.ChainHead, Filecoin.ChainGetGenesis) we use. */
export const lotusTipSetSchema = z.object({
  Cids: z.array(cidLink).min(1).max(256),
  Height: epoch,
  Blocks: z.array(z.object({ Timestamp: z.number().int().min(0) })).optional(),
})
export type LotusTipSet = z.output<typeof lotusTipSetSchema>

/** Filecoin.SyncState: one entry per sync worker; Target is null while a worker is idle. */
export const lotusSyncStateSchema = z.object({
  ActiveSyncs: z.array(z.object({
    Stage: z.number().int(),
    Height: epoch,
    Target: z.object({ Height: epoch }).nullable().optional(),
  })).nullable(),
})
export type LotusSyncState = z.output<typeof lotusSyncStateSchema>

/** Filecoin.Version: the node's build, API version and block delay (seconds; 30 on Filecoin networks). */
export const lotusVersionSchema = z.object({
  Version: z.string().max(200),
  APIVersion: z.number().int().min(0).optional(),
  BlockDelay: z.number().int().min(0).max(3600).optional(),
})
export type LotusVersion = z.output<typeof lotusVersionSchema>

/** Lotus's SyncStateStage values that mean "not working towards a target". */
const IDLE_STAGES = new Set([0 /* idle */, 4 /* complete */, 5 /* errored */])

/** The `sync` component from Lotus's sync workers: affected while a target is well past the head. */
export function lotusSyncComponent (headHeight: number, state: LotusSyncState, lagEpochs: number): ComponentHealth {
  let target: number | undefined
  for (const worker of state.ActiveSyncs ?? []) {
    if (IDLE_STAGES.has(worker.Stage) || worker.Target == null) continue
    target = Math.max(target ?? 0, worker.Target.Height)
  }
  if (target === undefined || target - headHeight <= lagEpochs) {
    return { status: 'ready', details: { syncing: false, localHeight: headHeight, targetHeight: Math.max(target ?? headHeight, headHeight) } }
  }
  return { status: 'affected', details: { syncing: true, localHeight: headHeight, targetHeight: target, behind: target - headHeight } }
}

/** The tipset's time: its blocks' Timestamp (seconds; one value in a valid tipset, the earliest if not), in ms. */
export function tipsetTime (tipset: LotusTipSet): number | undefined {
  const timestamps = tipset.Blocks?.map((b) => b.Timestamp) ?? []
  return timestamps.length === 0 ? undefined : Math.min(...timestamps) * 1000
}

/** Builds a reading from Lotus's answers; pure. */
export function lotusReading (head: LotusTipSet, network: string, sync: ComponentHealth | undefined, version?: LotusVersion): ChainReading {
  const key = tipsetKeyString(head.Cids.map((c) => c['/']))
  if (key.length > LIMITS.head) throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `Filecoin.ChainHead: a tipset of ${head.Cids.length} blocks does not fit in a heartbeat`)
  const details: Record<string, unknown> = { blocks: head.Cids.length }
  const headTime = tipsetTime(head)
  if (headTime !== undefined) details.headTime = new Date(headTime).toISOString()
  if (version !== undefined) {
    details.nodeVersion = version.Version
    if (version.BlockDelay !== undefined) details.blockDelaySeconds = version.BlockDelay
  }
  return {
    head: key,
    height: head.Height,
    network,
    ...(headTime !== undefined ? { headTime } : {}),
    details,
    ...(sync !== undefined ? { components: { sync } } : {}),
  }
}

export interface LotusSourceOptions {
  /** The node's JSON-RPC endpoint, http(s):// or ws(s):// (default: DEFAULT_LOTUS_URL). */
  url?: string
  /** An API token (lotus auth create-token --perm read); sent as a bearer token, never logged. */
  token?: string
  syncLagEpochs?: number
}

/**
 * Reads a node of the Lotus JSON-RPC API (Lotus; Forest and Venus serve the
 * same methods, docs/sources-and-checks.md) over HTTP or websocket: the head
 * tipset, its height and its blocks' timestamp (Filecoin.ChainHead), the
 * network (the genesis CID, as go-filecoin sent it, or the network name when
 * the genesis cannot be had), the sync workers, and once the node's version.
 */
export class LotusSource implements ChainSource {
  readonly kind = 'lotus'
  private readonly rpc: JsonRpcCaller
  private readonly syncLagEpochs: number
  /** The genesis never changes: asked once, then remembered. */
  private network: string | undefined
  /** Asked once; a node without Filecoin.Version is not a failure. */
  private version: LotusVersion | null | undefined

  constructor (options: LotusSourceOptions = {}) {
    this.rpc = createJsonRpcClient({ url: options.url ?? DEFAULT_LOTUS_URL, ...(options.token !== undefined ? { token: options.token } : {}) })
    this.syncLagEpochs = options.syncLagEpochs ?? DEFAULT_SYNC_LAG_EPOCHS
  }

  get endpoint (): string {
    return this.rpc.endpoint
  }

  async read ({ signal }: { signal: AbortSignal }): Promise<ChainReading> {
    const [head, network, syncState, version] = await Promise.all([
      this.rpc.call('Filecoin.ChainHead', [], lotusTipSetSchema, { signal }),
      this.networkOf(signal),
      this.syncState(signal),
      this.versionOf(signal),
    ])
    const sync = syncState === undefined ? undefined : lotusSyncComponent(head.Height, syncState, this.syncLagEpochs)
    return lotusReading(head, network, sync, version)
  }

  async close (): Promise<void> {
    await this.rpc.close()
  }

  private async versionOf (signal: AbortSignal): Promise<LotusVersion | undefined> {
    if (this.version !== undefined) return this.version ?? undefined
    try {
      this.version = await this.rpc.call('Filecoin.Version', [], lotusVersionSchema, { signal })
    } catch (err) {
      if (!(err instanceof JsonRpcError) && !(err instanceof HeartbeatError && err.code === ErrorCodes.BAD_ANSWER)) throw err
      this.version = null
    }
    return this.version ?? undefined
  }

  private async networkOf (signal: AbortSignal): Promise<string> {
    if (this.network !== undefined) return this.network
    try {
      const genesis = await this.rpc.call('Filecoin.ChainGetGenesis', [], lotusTipSetSchema, { signal })
      this.network = (genesis.Cids[0] as { '/': string })['/']
    } catch (err) {
      // A node (or a proxy) that refuses the genesis call may still tell its network's name.
      if (!(err instanceof JsonRpcError)) throw err
      const name = await this.rpc.call('Filecoin.StateNetworkName', [], z.string().min(1).max(LIMITS.network), { signal })
      this.network = name
    }
    return this.network
  }

  /** Filecoin.SyncState, or undefined when the node does not offer it (other Filecoin nodes). */
  private async syncState (signal: AbortSignal): Promise<LotusSyncState | undefined> {
    try {
      return await this.rpc.call('Filecoin.SyncState', [], lotusSyncStateSchema, { signal })
    } catch (err) {
      if (err instanceof JsonRpcError) return undefined
      throw err
    }
  }
}
