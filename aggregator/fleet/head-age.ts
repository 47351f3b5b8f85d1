import { DEFAULT_UNKNOWN_HEAD_AGE_MS, HEAD_AGE_BLOCKS } from '../constants.ts'
import { type ChainFacts, chainOf, expectedHeightAt } from './chains.ts'
import type { NodeRecord } from './types.ts'

/**
 * How old a node's head is, without trusting the aggregator's wall clock (a
 * wall step must change no status): the agent's own clock compares the
 * block's time with the beat's send time, and the aggregator's monotonic
 * clock ages that since the beat arrived:
 *
 *   age(t) = (sentAt - headTime) + (monotonic(t) - monotonic at receipt)
 *
 * clamped at 0. The head's time is the heartbeat's `headTime` (the block's
 * timestamp, when the source knows it) or, on a chain whose heights are a
 * clock (Filecoin: height h is due at genesis + h x 30 s), the time its height
 * was due. Legacy (go-filecoin) beats carry no send time: their heads are not
 * aged. Pure.
 */

/** The head's own time (ms since the epoch, chain time), or undefined when unknown. */
export function headTimeOf (record: NodeRecord): number | undefined {
  if (record.protocol === 'legacy' || (record.beat.height === 0 && record.beat.head === '')) return undefined
  if (record.beat.headTime !== undefined) return record.beat.headTime
  const chain = chainOf(record.beat.network)
  return chain?.genesisMs === undefined ? undefined : chain.genesisMs + record.beat.height * chain.blockTimeMs
}

/** The head's age when the last beat was sent, by the agent's clock (ms, >= 0), or undefined when unknown. */
export function headAgeAtBeat (record: NodeRecord): number | undefined {
  const headTime = headTimeOf(record)
  return headTime === undefined ? undefined : Math.max(0, record.beat.sentAt - headTime)
}

/** The head's age at monotonic `now` (ms, >= 0), or undefined when unknown. */
export function headAgeAt (record: NodeRecord, now: number): number | undefined {
  const headTime = headTimeOf(record)
  if (headTime === undefined) return undefined
  return Math.max(0, record.beat.sentAt - headTime + (now - record.lastSeenMono))
}

/** The monotonic moment the head's age passes `thresholdMs` (undefined when unknown). */
export function headTurnsOldAt (record: NodeRecord, thresholdMs: number): number | undefined {
  const headTime = headTimeOf(record)
  return headTime === undefined ? undefined : record.lastSeenMono + thresholdMs - (record.beat.sentAt - headTime)
}

/**
 * The threshold a node's head age is judged by: the one configured for every
 * network (--head-age-threshold), else HEAD_AGE_BLOCKS of its network's block
 * times, else DEFAULT_UNKNOWN_HEAD_AGE_MS.
 */
export function headAgeThresholdOf (network: string, configuredMs: number | undefined): number {
  if (configuredMs !== undefined) return configuredMs
  const chain = chainOf(network)
  return chain === undefined ? DEFAULT_UNKNOWN_HEAD_AGE_MS : HEAD_AGE_BLOCKS * chain.blockTimeMs
}

/** The node's clock at monotonic `now`: its last sentAt aged by our monotonic clock (never our wall clock). */
export function agentClockAt (record: NodeRecord, now: number): number {
  return record.beat.sentAt + (now - record.lastSeenMono)
}

/**
 * The height the node's chain should be at by that clock, for chains whose
 * heights are a clock (Filecoin networks with a known genesis), and how many
 * epochs the node is behind it (what Lotus exports as
 * lotus_chain_node_height_expected minus its height). Undefined otherwise.
 */
export function clockHeightOf (record: NodeRecord, now: number, chain: ChainFacts | undefined = chainOf(record.beat.network)): { expectedHeight: number, epochsBehind: number } | undefined {
  if (chain === undefined || record.protocol === 'legacy' || (record.beat.height === 0 && record.beat.head === '')) return undefined
  const expectedHeight = expectedHeightAt(chain, agentClockAt(record, now))
  return expectedHeight === undefined ? undefined : { expectedHeight, epochsBehind: Math.max(0, expectedHeight - record.beat.height) }
}
