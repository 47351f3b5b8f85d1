import { z } from 'zod'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { ComponentHealth } from '../../shared/health.ts'
import { MAX_UINT } from '../../shared/protocol.ts'
import { DEFAULT_ETH_URL } from '../constants.ts'
import type { ChainReading, ChainSource } from '../source.ts'
import { JsonRpcError, type JsonRpcCaller } from './jsonrpc.ts'
import { createJsonRpcClient } from './jsonrpc-ws.ts'

/** An Ethereum JSON-RPC quantity ("0x1b4") as a safe integer. */
export const quantity = z.string()
  .regex(/^0x[0-9a-fA-F]{1,16}$/, 'expected a hex quantity such as "0x1b4"')
  .transform((text) => BigInt(text))
  .refine((n) => n <= BigInt(MAX_UINT), 'quantity too large')
  .transform((n) => Number(n))

const blockHash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hex hash')

/** The parts of eth_getBlockByNumber's block object we use; null when there is no such block. */
export const ethBlockSchema = z.object({ hash: blockHash, number: quantity, timestamp: quantity.optional() })
export type EthBlock = z.output<typeof ethBlockSchema>

/** eth_syncing: false, or the progress of a sync. */
export const ethSyncingSchema = z.union([
  z.literal(false),
  z.object({ startingBlock: quantity.optional(), currentBlock: quantity, highestBlock: quantity }),
])
export type EthSyncing = z.output<typeof ethSyncingSchema>

/**
 * The network an Ethereum node is on: its chain id (EIP-155) and genesis hash.
 * The chain id alone does not tell dev chains apart (they all say 1337), the
 * genesis alone is unreadable; together they are exact and still readable.
 */
export function ethNetwork (chainId: number, genesisHash: string): string {
  return `eip155:${chainId}/${genesisHash.toLowerCase()}`
}

export function ethSyncComponent (latest: EthBlock, syncing: EthSyncing): ComponentHealth {
  if (syncing === false) return { status: 'ready', details: { syncing: false, localHeight: latest.number } }
  return {
    status: 'affected',
    details: {
      syncing: true,
      localHeight: syncing.currentBlock,
      targetHeight: syncing.highestBlock,
      behind: Math.max(0, syncing.highestBlock - syncing.currentBlock),
    },
  }
}

/** Builds a reading from the node's answers; pure. */
export function ethReading (latest: EthBlock, syncing: EthSyncing, network: { chainId: number, genesisHash: string }, peers: number | undefined): ChainReading {
  const details: Record<string, unknown> = { chainId: network.chainId }
  if (peers !== undefined) details.peers = peers
  if (latest.timestamp !== undefined) details.headTime = new Date(latest.timestamp * 1000).toISOString()
  return {
    head: latest.hash.toLowerCase(),
    height: latest.number,
    network: ethNetwork(network.chainId, network.genesisHash),
    ...(latest.timestamp !== undefined ? { headTime: latest.timestamp * 1000 } : {}),
    details,
    components: { sync: ethSyncComponent(latest, syncing) },
  }
}

export interface EthSourceOptions {
  /** The node's JSON-RPC endpoint, http(s):// or ws(s):// (default: DEFAULT_ETH_URL). */
  url?: string
  /** A bearer token, for endpoints behind an authenticating proxy; never logged. */
  token?: string
}

/**
 * Reads any standard Ethereum client (geth, Nethermind, Erigon, Besu, Reth, a
 * dev node) over HTTP JSON-RPC: the latest block's hash and number, the sync
 * progress, the peer count, and once the chain id and genesis hash.
 */
export class EthSource implements ChainSource {
  readonly kind = 'eth'
  private readonly rpc: JsonRpcCaller
  private network: { chainId: number, genesisHash: string } | undefined

  constructor (options: EthSourceOptions = {}) {
    this.rpc = createJsonRpcClient({ url: options.url ?? DEFAULT_ETH_URL, ...(options.token !== undefined ? { token: options.token } : {}) })
  }

  async close (): Promise<void> {
    await this.rpc.close()
  }

  get endpoint (): string {
    return this.rpc.endpoint
  }

  async read ({ signal }: { signal: AbortSignal }): Promise<ChainReading> {
    const [latest, syncing, network, peers] = await Promise.all([
      this.rpc.call('eth_getBlockByNumber', ['latest', false], ethBlockSchema.nullable(), { signal }),
      this.rpc.call('eth_syncing', [], ethSyncingSchema, { signal }),
      this.networkOf(signal),
      this.peerCount(signal),
    ])
    if (latest === null) throw new HeartbeatError(ErrorCodes.BAD_ANSWER, 'eth_getBlockByNumber("latest") answered null: the node has no head block')
    return ethReading(latest, syncing, network, peers)
  }

  private async networkOf (signal: AbortSignal): Promise<{ chainId: number, genesisHash: string }> {
    if (this.network !== undefined) return this.network
    const [chainId, genesis] = await Promise.all([
      this.rpc.call('eth_chainId', [], quantity, { signal }),
      this.rpc.call('eth_getBlockByNumber', ['0x0', false], ethBlockSchema.nullable(), { signal }),
    ])
    if (genesis === null) throw new HeartbeatError(ErrorCodes.BAD_ANSWER, 'eth_getBlockByNumber("0x0") answered null: the node does not have its genesis block')
    this.network = { chainId, genesisHash: genesis.hash }
    return this.network
  }

  /** net_peerCount is optional: some clients do not expose the net namespace. */
  private async peerCount (signal: AbortSignal): Promise<number | undefined> {
    try {
      return await this.rpc.call('net_peerCount', [], quantity, { signal })
    } catch (err) {
      if (err instanceof JsonRpcError) return undefined
      throw err
    }
  }
}
