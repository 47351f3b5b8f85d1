import { emptyArrivalWindow } from './phi.ts'
import type { Liveness } from './status.ts'
import type { NodeRecord, StatusVerdict } from './types.ts'

/**
 * Remote records (pure): nodes another aggregator of a shared store holds.
 * Their status is the holder's verdict, never re-derived here (this
 * aggregator sees none of their beats); they enter consensus as that verdict
 * says. See docs/store.md, "Many aggregators, one fleet".
 */

/** A remote node's liveness for its vote, read from its holder's verdict (nothing changes it here by time: nextAt undefined). */
export function remoteLiveness (verdict: StatusVerdict): Liveness {
  switch (verdict.status) {
    case 'healthy':
    case 'degraded':
    case 'unhealthy':
      return { state: 'alive', nextAt: undefined }
    case 'stale':
    case 'down':
    case 'stopped':
      return { state: verdict.status, reason: verdict.reason, nextAt: undefined }
  }
}

/**
 * A remote record becoming local on its first beat here (the agent failed
 * over to this aggregator): what it reported and since when carry over, so
 * it stays one node; the connection and the failure detector start afresh.
 */
export function localized (record: NodeRecord): NodeRecord {
  const { remote: _remote, ...rest } = record
  return {
    ...rest,
    connected: false,
    connectedAt: undefined,
    connectedAtMono: undefined,
    disconnectedAt: undefined,
    disconnectedAtMono: undefined,
    arrivals: emptyArrivalWindow(),
    restored: false,
  }
}

/**
 * Whether another aggregator's copy of a node replaces what this one holds:
 * never while this one has the node connected; otherwise when the holder has
 * it connected, or heard from it later (the newer holder wins). "Later" is
 * judged on this aggregator's monotonic clock, where the remote record's
 * last beat was placed when its row was read: no two machines' wall clocks
 * are compared.
 */
export function remoteReplaces (local: NodeRecord | undefined, remote: NodeRecord): boolean {
  if (local === undefined || local.remote !== undefined) return true
  if (local.connected) return false
  return remote.connected || remote.lastSeenMono > local.lastSeenMono || local.restored === true
}
