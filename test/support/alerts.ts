import type { AlertNotification, AlertRecord } from '../../aggregator/alerts/types.ts'
import { createLogger } from '../../shared/log.ts'

/** A real-looking peer id for alerts built by hand. */
export const ALERT_PEER = '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc'
export const quietLogger = createLogger({ name: 'test', level: 'silent' })
/** Where the receivers say alerts come from. */
export const testSource = { peerId: () => '12D3KooWTestAggregator', publicUrl: () => 'http://heartbeat.example:8080/' }

/** alpha is down, firing since `at` - 65 s (so its message says "for 1m5s"). */
export function nodeDownAlert (at: number, overrides: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id: `NodeDown/node/${ALERT_PEER}`,
    name: 'NodeDown',
    severity: 'critical',
    labels: { alertname: 'NodeDown', severity: 'critical', peer_id: ALERT_PEER, nickname: 'alpha' },
    summary: `alpha (${ALERT_PEER}) is down: disconnected at 12:00:03Z and not back within 3s; last heartbeat 12:00:02Z`,
    description: 'A node has been down or stale for 1m0s.',
    subject: { kind: 'node', peerId: ALERT_PEER, nickname: 'alpha' },
    state: 'firing',
    activeSince: at - 65_000,
    firedAt: at,
    resolvedAt: undefined,
    silenced: false,
    ...overrides,
  }
}

export function firingOf (alert: AlertRecord, at: number, extra: Partial<AlertNotification> = {}): AlertNotification {
  return { status: 'firing', alert, repeat: false, at, ...extra }
}

export function resolvedOf (alert: AlertRecord, at: number): AlertNotification {
  return { status: 'resolved', alert: { ...alert, state: 'resolved', resolvedAt: at }, repeat: false, at }
}
