import type { FleetEvent, NodeRecord } from './types.ts'

/**
 * The fleet's pure fold, per node: (record, event, now) -> record. A node
 * exists from its first heartbeat; connection events for peers that never
 * sent one are ignored. Records are immutable values.
 */
export function foldNode (record: NodeRecord | undefined, event: FleetEvent, now: number): NodeRecord | undefined {
  switch (event.type) {
    case 'beat': {
      const hb = event.heartbeat
      if (record === undefined) {
        return {
          peerId: event.peerId,
          protocol: event.protocol,
          firstSeen: now,
          lastSeen: now,
          beat: hb,
          beats: 1,
          seqGaps: 0,
          connected: true,
          connectedAt: now,
          disconnectedAt: undefined,
          remoteAddr: event.remoteAddr,
          lastHeadChange: now,
          skewMs: now - hb.sentAt,
        }
      }
      const sameRun = hb.agent.startedAt === record.beat.agent.startedAt
      const gap = sameRun && hb.seq > record.beat.seq + 1 ? hb.seq - record.beat.seq - 1 : 0
      return {
        ...record,
        protocol: event.protocol,
        lastSeen: now,
        beat: hb,
        beats: record.beats + 1,
        seqGaps: record.seqGaps + gap,
        // A beat proves a live connection, whatever the connection events said.
        connected: true,
        connectedAt: record.connected ? record.connectedAt : now,
        disconnectedAt: undefined,
        remoteAddr: event.remoteAddr ?? record.remoteAddr,
        lastHeadChange: hb.head !== record.beat.head ? now : record.lastHeadChange,
        skewMs: now - hb.sentAt,
        restored: false,
      }
    }
    case 'connected':
      if (record === undefined || record.connected) return record
      return { ...record, connected: true, connectedAt: now, disconnectedAt: undefined, remoteAddr: event.remoteAddr ?? record.remoteAddr }
    case 'disconnected':
      if (record === undefined || !record.connected) return record
      return { ...record, connected: false, disconnectedAt: now }
  }
}
