import type { Heartbeat } from '../../shared/heartbeat.ts'
import { emptyArrivalWindow } from './phi.ts'
import type { Instant, NodeRecord, WireProtocol } from './types.ts'

/**
 * What the store keeps of a node record to bring it back after a restart.
 * Connection state is not kept: after a restart nobody is connected until
 * they dial in again.
 */
export interface SavedNode {
  peerId: string
  protocol: WireProtocol
  firstSeen: number
  lastSeen: number
  beat: Heartbeat
  beats: number
  seqGaps: number
  remoteAddr: string | undefined
  lastHeadChange: number
  skewMs: number | null
}

export function savedNode (record: NodeRecord): SavedNode {
  return {
    peerId: record.peerId,
    protocol: record.protocol,
    firstSeen: record.firstSeen,
    lastSeen: record.lastSeen,
    beat: record.beat,
    beats: record.beats,
    seqGaps: record.seqGaps,
    remoteAddr: record.remoteAddr,
    lastHeadChange: record.lastHeadChange,
    skewMs: record.skewMs,
  }
}

/**
 * A record for a node known from before a restart: not connected, no
 * disconnect seen in this run, and flagged `restored` so its status says it
 * has not been heard from since (see deriveStatus) until its next beat.
 * The store keeps wall stamps only; the monotonic times of this run are
 * placed as far back as the wall clock says (never in the future), which is
 * all forget-after and the reasons need of a node not heard from since.
 */
export function restoredRecord (saved: SavedNode, now: Instant): NodeRecord {
  const monoOf = (wall: number): number => now.mono - Math.max(0, now.wall - wall)
  return {
    peerId: saved.peerId,
    protocol: saved.protocol,
    firstSeen: saved.firstSeen,
    lastSeen: saved.lastSeen,
    lastSeenMono: monoOf(saved.lastSeen),
    beat: saved.beat,
    beats: saved.beats,
    seqGaps: saved.seqGaps,
    connected: false,
    connectedAt: undefined,
    connectedAtMono: undefined,
    disconnectedAt: undefined,
    disconnectedAtMono: undefined,
    remoteAddr: saved.remoteAddr,
    lastHeadChange: saved.lastHeadChange,
    lastHeadChangeMono: monoOf(saved.lastHeadChange),
    skewMs: saved.skewMs ?? null,
    // The failure detector learns afresh: no interval spans the restart.
    arrivals: emptyArrivalWindow(),
    restored: true,
  }
}
