import { DEFAULT_PHI_CONFIG, emptyArrivalWindow, isLearnableInterval, learnInterval, type ArrivalWindow, type PhiConfig } from './phi.ts'
import type { FleetEvent, Instant, NodeRecord } from './types.ts'

/**
 * The fleet's pure fold, per node: (record, event, now) -> record. Intervals
 * are taken on `now.mono`; `now.wall` only stamps (never before the node's
 * previous stamp, so a wall clock stepped back keeps its records in order). A node
 * exists from its first heartbeat; connection events for peers that never
 * sent one are ignored. Records are values, except that the failure
 * detector's ring buffer is handed from each record to its successor (see
 * ArrivalWindow): fold a record at most once, as FleetState does.
 */
export function foldNode (record: NodeRecord | undefined, event: FleetEvent, now: Instant, phi: PhiConfig = DEFAULT_PHI_CONFIG): NodeRecord | undefined {
  switch (event.type) {
    case 'beat': {
      const hb = event.heartbeat
      // The legacy wire has no send time: there is no skew to show.
      const skewMs = event.protocol === 'legacy' ? null : now.wall - hb.sentAt
      if (record === undefined) {
        return {
          peerId: event.peerId,
          protocol: event.protocol,
          firstSeen: now.wall,
          lastSeen: now.wall,
          lastSeenMono: now.mono,
          beat: hb,
          beats: 1,
          seqGaps: 0,
          connected: true,
          connectedAt: now.wall,
          connectedAtMono: now.mono,
          disconnectedAt: undefined,
          disconnectedAtMono: undefined,
          remoteAddr: event.remoteAddr,
          lastHeadChange: now.wall,
          lastHeadChangeMono: now.mono,
          skewMs,
          arrivals: emptyArrivalWindow(phi.windowSize),
        }
      }
      const sameRun = hb.agent.startedAt === record.beat.agent.startedAt
      const gap = sameRun && hb.seq > record.beat.seq + 1 ? hb.seq - record.beat.seq - 1 : 0
      const stamp = Math.max(now.wall, record.lastSeen)
      const headChanged = hb.head !== record.beat.head
      return {
        ...record,
        protocol: event.protocol,
        lastSeen: stamp,
        lastSeenMono: now.mono,
        beat: hb,
        beats: record.beats + 1,
        seqGaps: record.seqGaps + gap,
        // A beat proves a live connection, whatever the connection events said.
        connected: true,
        connectedAt: record.connected ? record.connectedAt : stamp,
        connectedAtMono: record.connected ? record.connectedAtMono : now.mono,
        disconnectedAt: undefined,
        disconnectedAtMono: undefined,
        remoteAddr: event.remoteAddr ?? record.remoteAddr,
        lastHeadChange: headChanged ? stamp : record.lastHeadChange,
        lastHeadChangeMono: headChanged ? now.mono : record.lastHeadChangeMono,
        skewMs,
        arrivals: nextArrivals(record, hb.period, now.mono, phi),
        restored: false,
      }
    }
    case 'connected':
      if (record === undefined || record.connected) return record
      return {
        ...record,
        connected: true,
        connectedAt: Math.max(now.wall, record.disconnectedAt ?? record.lastSeen),
        connectedAtMono: now.mono,
        disconnectedAt: undefined,
        disconnectedAtMono: undefined,
        remoteAddr: event.remoteAddr ?? record.remoteAddr,
      }
    case 'disconnected':
      if (record === undefined || !record.connected) return record
      return { ...record, connected: false, disconnectedAt: Math.max(now.wall, record.connectedAt ?? record.lastSeen, record.lastSeen), disconnectedAtMono: now.mono }
    case 'identity':
      if (record === undefined || record.identityConflict === event.conflict) return record
      return { ...record, identityConflict: event.conflict }
  }
}

/**
 * The detector learns the time since the previous beat only when it measures
 * the node's rhythm: on one unbroken connection (the first beat on a new
 * connection teaches nothing: the interval spans the reconnect), and not
 * across an outage. A new announced period starts a new window (the old
 * rhythm says nothing).
 */
function nextArrivals (record: NodeRecord, period: number, nowMono: number, phi: PhiConfig): ArrivalWindow {
  if (period !== record.beat.period) return emptyArrivalWindow(phi.windowSize)
  const unbroken = record.connected && record.connectedAtMono !== undefined && record.connectedAtMono <= record.lastSeenMono
  const interval = nowMono - record.lastSeenMono
  if (!unbroken || !isLearnableInterval(interval, period, record.arrivals, phi)) return record.arrivals
  return learnInterval(record.arrivals, interval)
}
