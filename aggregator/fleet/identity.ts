import type { NodeRecord, StatusVerdict } from './types.ts'

/**
 * One peer id used by more than one agent at once (two agents sharing a key
 * file, a cloned VM): seen by the ingest, which refuses the newer stream
 * (aggregator/ingest/identity.ts), and held on the node's record until no
 * second agent has tried for a while. docs/fleet-semantics.md, "One identity,
 * one node".
 */
export interface IdentityConflict {
  /** Distinct agent runs seen on this peer id at once (2 unless more clones appear). */
  readonly agents: number
  /** Their remote addresses, the one kept first. */
  readonly addresses: readonly string[]
  /** Aggregator clock (ms) when the conflict was first seen. */
  readonly since: number
}

/** The node's status while its identity is in conflict: unhealthy, whatever its beats say (they may be another machine's). */
export function identityVerdict (record: NodeRecord): StatusVerdict | undefined {
  const conflict = record.identityConflict
  if (conflict === undefined) return undefined
  return { status: 'unhealthy', reason: identityConflictReason(record.peerId, conflict) }
}

/** The reason, in words; without the addresses for callers who may not see remote addresses (--details). */
export function identityConflictReason (peerId: string, conflict: Pick<IdentityConflict, 'agents' | 'addresses'>, showAddresses = true): string {
  const agents = conflict.agents === 2 ? 'two agents' : `${conflict.agents} agents`
  const where = showAddresses && conflict.addresses.length > 0 ? ` (addresses ${conflict.addresses.join(', ')})` : ''
  return `this identity (${peerId}) is used by ${agents}${where}: give each node its own key file`
}
