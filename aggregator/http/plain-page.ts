import type { FleetAlerts, MaintenanceDocument, MaintenanceView } from '../alerts/alerting.ts'
import type { NodeView } from '../fleet/view.ts'

/** Everything a node sends is text: escape it before it goes into HTML. */
export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

export interface PlainPageInput {
  peerId: string
  multiaddrs: string[]
  nodes: Array<NodeView & { maintenance?: MaintenanceView | null }>
  generatedAt: string
  /** Firing alerts and maintenance windows, when alerting is on. */
  alerts?: { alerts: FleetAlerts, maintenance: MaintenanceDocument }
}

function maintenanceText (m: MaintenanceView): string {
  return `maintenance${m.until !== null ? ` until ${m.until}` : ''}${m.reason !== '' ? `: ${m.reason}` : ''} (${m.source})`
}

function alertsSection (alerts: PlainPageInput['alerts']): string {
  if (alerts === undefined) return ''
  const firing = alerts.alerts.firing
  const items = firing.map((a) => `<li class="${escapeHtml(a.severity)}"><strong>${escapeHtml(a.name)}</strong> (${escapeHtml(a.severity)}${a.silenced ? ', silenced by maintenance' : ''}) since ${escapeHtml(a.firedAt ?? a.activeSince)}: ${escapeHtml(a.summary)}</li>`).join('\n')
  const fleet = alerts.maintenance.fleet
  const maintenance = fleet !== null ? `<p class="maintenance">The whole fleet is in ${escapeHtml(maintenanceText(fleet))}: no alert reaches a receiver.</p>` : ''
  return `<section id="alerts"><h2>Firing alerts (${firing.length})</h2>${maintenance}
${firing.length === 0 ? '<p>None.</p>' : `<ul>\n${items}\n</ul>`}
${alerts.alerts.pending > 0 ? `<p>${alerts.alerts.pending} pending (condition holds, not yet for long enough).</p>` : ''}<p>JSON: <a href="/api/v1/alerts">/api/v1/alerts</a></p></section>`
}

/** A plain server-rendered list of the nodes, refreshed every few seconds. */
export function renderPlainPage (input: PlainPageInput): string {
  const rows = input.nodes.map((n) => `<tr class="${escapeHtml(n.status)}"><td>${escapeHtml(n.status)}</td><td>${escapeHtml(n.displayName)}</td>` +
    `<td><code>${escapeHtml(n.peerId.slice(-8))}</code></td><td>${n.height}</td><td><code>${escapeHtml(n.head.slice(0, 24))}</code></td>` +
    `<td>${escapeHtml(n.minerAddress)}</td><td>${escapeHtml(n.lastSeen)}</td><td>${escapeHtml(n.reason)}` +
    `${n.maintenance !== undefined && n.maintenance !== null ? ` <em class="maintenance">${escapeHtml(maintenanceText(n.maintenance))}</em>` : ''}</td></tr>`).join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>Fleet health</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem}table{border-collapse:collapse}td,th{padding:.25rem .5rem;border-bottom:1px solid #ccc;text-align:left}
.healthy td:first-child{color:#087f23}.degraded td:first-child,.stale td:first-child{color:#a15c00}.unhealthy td:first-child,.down td:first-child{color:#b00020}
li.critical strong{color:#b00020}li.warning strong{color:#a15c00}.maintenance{color:#555}</style>
</head><body>
<h1>Fleet health</h1>
<p>Aggregator <code>${escapeHtml(input.peerId)}</code> at ${input.multiaddrs.map((m) => `<code>${escapeHtml(m)}</code>`).join(', ')}. ${input.nodes.length} nodes, as of ${escapeHtml(input.generatedAt)}. JSON: <a href="/api/v1/fleet">/api/v1/fleet</a></p>
${alertsSection(input.alerts)}
<table><thead><tr><th>Status</th><th>Node</th><th>Peer</th><th>Height</th><th>Head</th><th>Miner</th><th>Last seen</th><th>Reason</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>`
}
