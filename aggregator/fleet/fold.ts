import { DEFAULT_PHI_CONFIG, emptyArrivalWindow, isLearnableInterval, learnInterval, type ArrivalWindow, type PhiConfig } from './phi.ts'
import type { FleetEvent, NodeRecord } from './types.ts'

/**
 * The fleet's pure fold, per node: (record, event, now) -> record. A node
 * exists from its first heartbeat; connection events for peers that never
 * sent one are ignored. Records are values, except that the failure
 * detector's ring buffer is handed from each record to its successor (see
 * ArrivalWindow): fold a record at most once, as FleetState does.
 */
export function foldNode (record: NodeRecord | undefined, event: FleetEvent, now: number, phi: PhiConfig = DEFAULT_PHI_CONFIG): NodeRecord | undefined {
  switch (event.type) {
    case 'beat': {
      const hb = event.heartbeat
      // The legacy wire has no send time: there is no skew to show.
      const skewMs = event.protocol === 'legacy' ? null : now - hb.sentAt
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
          skewMs,
          arrivals: emptyArrivalWindow(phi.windowSize),
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
        skewMs,
        arrivals: nextArrivals(record, hb.period, now, phi),
        restored: false,
      }
    }
    case 'connected':
      if (record === undefined || record.connected) return record
      return { ...record, connected: true, connectedAt: now, disconnectedAt: undefined, remoteAddr: event.remoteAddr ?? record.remoteAddr }
    case 'disconnected':
      if (record === undefined || !record.connected) return record
      return { ...record, connected: false, disconnectedAt: now }
    case 'identity':
      if (record === undefined || record.identityConflict === event.conflict) return record
      return { ...record, identityConflict: event.conflict }
  }
}

/**
 * The detector learns the time since the previous beat only when it measures
 * the node's rhythm: on one unbroken connection, and not across an outage.
 * A new announced period starts a new window (the old rhythm says nothing).
 */
function nextArrivals (record: NodeRecord, period: number, now: number, phi: PhiConfig): ArrivalWindow {
  if (period !== record.beat.period) return emptyArrivalWindow(phi.windowSize)
  const unbroken = record.connected && record.connectedAt !== undefined && record.connectedAt <= record.lastSeen
  const interval = now - record.lastSeen
  if (!unbroken || !isLearnableInterval(interval, period, record.arrivals, phi)) return record.arrivals
  return learnInterval(record.arrivals, interval)
}
