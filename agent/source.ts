import type { ComponentHealth } from '../shared/health.ts'

/** What a chain source reports about its node at one moment. */
export interface ChainReading {
  head: string
  height: number
  minerAddress?: string
  network?: string
  /** The head's own timestamp, ms since the epoch (block timestamp), when the node says it. */
  headTime?: number
  /** Extra facts for the `chain_source` component's details (peers, chain id...). */
  details?: Record<string, unknown>
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

/** The sources the command line and the config file can name. */
export const SOURCE_KINDS = ['demo', 'lotus', 'eth', 'command'] as const
export type SourceKind = typeof SOURCE_KINDS[number]
