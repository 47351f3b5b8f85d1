import type { AlertRecord, MaintenanceWindow } from './types.ts'

/** The JSON shapes of alerting (GET /api/v1/alerts, the fleet document, the feed, the webhook body). */

/** An alert in the JSON API. Times are ISO 8601. */
export interface AlertView {
  id: string
  name: string
  state: AlertRecord['state']
  severity: string
  summary: string
  description: string
  labels: Record<string, string>
  node: { peerId: string, nickname: string } | null
  network: string | null
  component: string | null
  activeSince: string
  firedAt: string | null
  resolvedAt: string | null
  silenced: boolean
  /** The id of the alert that explains this one (its node is down or unhealthy): shown, not sent. Null when none. */
  inhibitedBy?: string | null
}

export interface MaintenanceView {
  until: string | null
  reason: string
  source: MaintenanceWindow['source']
  since: string | null
}

const iso = (ms: number | undefined): string | null => ms === undefined ? null : new Date(ms).toISOString()

export function alertView (a: AlertRecord): AlertView {
  return {
    id: a.id,
    name: a.name,
    state: a.state,
    severity: a.severity,
    summary: a.summary,
    description: a.description,
    labels: a.labels,
    node: a.subject.kind === 'node' ? { peerId: a.subject.peerId, nickname: a.subject.nickname } : null,
    network: a.subject.kind === 'network' ? a.subject.network : null,
    component: a.subject.kind === 'node' ? a.subject.component ?? null : null,
    activeSince: new Date(a.activeSince).toISOString(),
    firedAt: iso(a.firedAt),
    resolvedAt: iso(a.resolvedAt),
    silenced: a.silenced,
    inhibitedBy: a.inhibitedBy ?? null,
  }
}

export function maintenanceView (w: MaintenanceWindow): MaintenanceView {
  return { until: iso(w.until), reason: w.reason, source: w.source, since: iso(w.since) }
}

