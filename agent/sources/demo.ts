import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { DEFAULT_DEMO_BLOCK_TIME_MS, DEMO_NETWORK } from '../constants.ts'
import type { ChainReading, ChainSource } from '../source.ts'

const DAG_CBOR = 0x71

export interface DemoChainOptions {
  blockTimeMs?: number
  /** Chain time zero (ms since the epoch); every demo agent with the same origin agrees on the chain. */
  originMs?: number
  network?: string
  minerAddress?: string
  now?: () => number
}

/**
 * A simulated chain: the height advances every block time and the head is a
 * CID derived from network and height, so agents sharing an origin agree,
 * like nodes of one real network.
 */
export class DemoChainSource implements ChainSource {
  readonly kind = 'demo'
  private readonly blockTimeMs: number
  private readonly originMs: number
  private readonly network: string
  private readonly minerAddress: string
  private readonly now: () => number

  constructor (options: DemoChainOptions = {}) {
    this.blockTimeMs = options.blockTimeMs ?? DEFAULT_DEMO_BLOCK_TIME_MS
    this.originMs = options.originMs ?? Date.UTC(2020, 9, 15, 14, 0, 0) // Filecoin mainnet's launch
    this.network = options.network ?? DEMO_NETWORK
    this.minerAddress = options.minerAddress ?? ''
    this.now = options.now ?? Date.now
  }

  heightAt (timeMs: number): number {
    return Math.max(0, Math.floor((timeMs - this.originMs) / this.blockTimeMs))
  }

  async headAt (height: number): Promise<string> {
    const digest = await sha256.digest(new TextEncoder().encode(`${this.network}/${height}`))
    return `{${CID.createV1(DAG_CBOR, digest).toString()}}`
  }

  async read (): Promise<ChainReading> {
    const height = this.heightAt(this.now())
    return { head: await this.headAt(height), height, network: this.network, minerAddress: this.minerAddress }
  }
}
