import type { ComponentHealth } from '../shared/health.ts'

/** What a chain source reports about its node at one moment. */
export interface ChainReading {
  head: string
  height: number
  minerAddress?: string
  network?: string
  /** Extra components the source knows about (e.g. `sync` while the node catches up). */
  components?: Record<string, ComponentHealth>
}

/**
 * A chain source reads the node beside the agent. Keep it small: real sources
 * (Lotus, Ethereum, a command) implement the same interface.
 */
export interface ChainSource {
  /** A short name for logs and the `chain_source` component (demo, lotus, eth, command). */
  readonly kind: string
  read (options: { signal: AbortSignal }): Promise<ChainReading>
  close?(): Promise<void>
}
