import type { NodeView } from '../fleet/view.ts'

/** Everything a node sends is text: escape it before it goes into HTML. */
export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** A plain server-rendered list of the nodes, refreshed every few seconds. */
export function renderPlainPage (input: { peerId: string, multiaddrs: string[], nodes: NodeView[], generatedAt: string }): string {
  const rows = input.nodes.map((n) => `<tr class="${escapeHtml(n.status)}"><td>${escapeHtml(n.status)}</td><td>${escapeHtml(n.displayName)}</td>` +
    `<td><code>${escapeHtml(n.peerId.slice(-8))}</code></td><td>${n.height}</td><td><code>${escapeHtml(n.head.slice(0, 24))}</code></td>` +
    `<td>${escapeHtml(n.minerAddress)}</td><td>${escapeHtml(n.lastSeen)}</td><td>${escapeHtml(n.reason)}</td></tr>`).join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>Fleet health</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem}table{border-collapse:collapse}td,th{padding:.25rem .5rem;border-bottom:1px solid #ccc;text-align:left}
.healthy td:first-child{color:#087f23}.degraded td:first-child,.stale td:first-child{color:#a15c00}.unhealthy td:first-child,.down td:first-child{color:#b00020}</style>
</head><body>
<h1>Fleet health</h1>
<p>Aggregator <code>${escapeHtml(input.peerId)}</code> at ${input.multiaddrs.map((m) => `<code>${escapeHtml(m)}</code>`).join(', ')}. ${input.nodes.length} nodes, as of ${escapeHtml(input.generatedAt)}. JSON: <a href="/api/v1/fleet">/api/v1/fleet</a></p>
<table><thead><tr><th>Status</th><th>Node</th><th>Peer</th><th>Height</th><th>Head</th><th>Miner</th><th>Last seen</th><th>Reason</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>`
}
