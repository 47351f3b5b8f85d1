import type { AlertRecord, MaintenanceWindow } from './types.ts'

/** What changed in what the page shows of alerting, since the last observation. */
export interface AlertingChange {
  /** The firing/pending set or the fleet-wide window changed: the header must be redrawn. */
  alerts: boolean
  /** Nodes whose own maintenance window started, ended or changed: their views must be sent again. */
  peerIds: string[]
}

/**
 * Tells whether the alert set or the maintenance windows changed between
 * two evaluations, from small keys (ids and states, not summaries), so the
 * live feed speaks only when something an operator sees has changed. Pure.
 *
 * Left out of the keys on purpose: an alert's summary (a stuck head's
 * "unchanged for 5m10s" changes every second) and the `until` of a window a
 * node's agent announces (mapped through each beat's own transit time, it
 * moves by milliseconds with every beat). Both still reach the page: the
 * next change sends the whole set, and node events carry the node's window.
 */
export class AlertingChangeTracker {
  private alertsKey = ''
  private fleetKey = ''
  private readonly nodeKeys = new Map<string, string>()

  /** Compares with the last observation and remembers this one; `extraKey` is anything else the header shows (the receivers' delivery state). */
  observe (active: readonly AlertRecord[], fleet: MaintenanceWindow | undefined, nodes: ReadonlyMap<string, MaintenanceWindow>, extraKey = ''): AlertingChange {
    const alertsKey = active.map((a) => `${a.id}\u0000${a.state}\u0000${a.silenced ? 1 : 0}\u0000${a.inhibitedBy ?? ''}`).join('\u0001') + extraKey
    const fleetKey = fleet === undefined ? '' : windowKey(fleet)
    const alerts = alertsKey !== this.alertsKey || fleetKey !== this.fleetKey
    this.alertsKey = alertsKey
    this.fleetKey = fleetKey
    const peerIds: string[] = []
    for (const [peerId, window] of nodes) {
      const key = windowKey(window)
      if (this.nodeKeys.get(peerId) !== key) {
        peerIds.push(peerId)
        this.nodeKeys.set(peerId, key)
      }
    }
    for (const peerId of this.nodeKeys.keys()) {
      if (!nodes.has(peerId)) {
        peerIds.push(peerId)
        this.nodeKeys.delete(peerId)
      }
    }
    // A node's window coming or going changes the maintenance list the header shows.
    return { alerts: alerts || peerIds.length > 0, peerIds }
  }

  /** One node's window changed outside an evaluation (an operator): remembered, so the next evaluation does not report it again. */
  observeNode (peerId: string, window: MaintenanceWindow | undefined): void {
    if (window === undefined) this.nodeKeys.delete(peerId)
    else this.nodeKeys.set(peerId, windowKey(window))
  }

  /** The fleet-wide window changed outside an evaluation. */
  observeFleet (window: MaintenanceWindow | undefined): void {
    this.fleetKey = window === undefined ? '' : windowKey(window)
  }
}

/** A window's identity: who set it, why, and (for an operator's) until when. */
export function windowKey (w: MaintenanceWindow): string {
  const until = w.source === 'agent' ? (w.until === undefined ? 'open' : 'timed') : String(w.until ?? 'open')
  return `${w.source}\u0000${w.reason}\u0000${until}`
}
