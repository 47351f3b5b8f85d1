// Alerts and maintenance as the page reads them: from the snapshot's
// `alerts` and `maintenance` fields, and from the feed's `alerts` event
// (the same two fields, sent again when they change). Pure, no DOM.
import { formatDateTime, formatSpan, parseTime, shortPeerId } from './format.ts'
import type { StatusLook } from './status.ts'
import type { AlertView, MaintenanceView } from './types.ts'

/** Glyphs beside the words (never instead of them): a flag for alerts, tools for maintenance. */
export const ALERT_GLYPH = '⚑'
export const MAINTENANCE_GLYPH = '⚒'

/** What the page knows of alerting; undefined when the aggregator does not alert. */
export interface PageAlerts {
  /** Firing alerts, worst severity first, then the longest firing first. */
  firing: AlertView[]
  pending: number
  fleetMaintenance: MaintenanceView | null
  /** Nodes with a window in force (an operator's or their agent's). */
  nodesInMaintenance: number
  /** Receivers whose last delivery failed: alerts may not be reaching anyone. */
  failingReceivers?: Array<{ name: string, error: string }>
}

/** Reads the two alerting fields from a snapshot or an `alerts` event; anything unreadable is left out. */
export function readAlerts (doc: unknown): PageAlerts | undefined {
  if (!isRecord(doc) || !isRecord(doc.alerts)) return undefined
  const firing = (Array.isArray(doc.alerts.firing) ? doc.alerts.firing : []).filter(isAlertLike)
  const pending = typeof doc.alerts.pending === 'number' && Number.isFinite(doc.alerts.pending) ? doc.alerts.pending : 0
  const maintenance = isRecord(doc.maintenance) ? doc.maintenance : {}
  const out: PageAlerts = {
    firing: sortAlerts(firing),
    pending,
    fleetMaintenance: isMaintenanceLike(maintenance.fleet) ? maintenance.fleet : null,
    nodesInMaintenance: Array.isArray(maintenance.nodes) ? maintenance.nodes.length : 0,
  }
  const failing = (Array.isArray(doc.alerts.failingReceivers) ? doc.alerts.failingReceivers : [])
    .filter(isRecord).filter((r) => typeof r.name === 'string')
    .map((r) => ({ name: r.name as string, error: typeof r.error === 'string' ? r.error : '' }))
  if (failing.length > 0) out.failingReceivers = failing
  return out
}

export const SEVERITY_LOOK: Record<string, StatusLook> = {
  critical: { label: 'Critical', glyph: '✕', rank: 0, tone: 'bad' },
  warning: { label: 'Warning', glyph: '▲', rank: 1, tone: 'warn' },
  info: { label: 'Info', glyph: 'ℹ', rank: 2, tone: 'off' },
}

/** A severity that came over the wire (a rules file may one day allow others). */
export function severityLook (severity: string): StatusLook {
  return Object.hasOwn(SEVERITY_LOOK, severity) ? SEVERITY_LOOK[severity] as StatusLook : { label: severity === '' ? 'Unknown' : severity, glyph: '?', rank: 3, tone: 'off' }
}

/** Worst severity first; then the one firing longest; then by id, so every page agrees. */
export function sortAlerts (alerts: AlertView[]): AlertView[] {
  const since = (a: AlertView): number => {
    const t = parseTime(a.firedAt ?? a.activeSince)
    return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY
  }
  return [...alerts].sort((a, b) => severityLook(a.severity).rank - severityLook(b.severity).rank || since(a) - since(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** What an alert is about, in a few words: the node's nickname (its peer id when it has none), a network, or the fleet. */
export function alertSubject (alert: AlertView): { text: string, title: string, peerId: string | undefined } {
  if (alert.node !== null && alert.node !== undefined) {
    const name = alert.node.nickname !== '' ? alert.node.nickname : shortPeerId(alert.node.peerId)
    const component = alert.component !== null && alert.component !== undefined ? ` · ${alert.component}` : ''
    return { text: `${name}${component}`, title: alert.node.peerId, peerId: alert.node.peerId }
  }
  if (alert.network !== null && alert.network !== undefined) {
    return { text: `network ${alert.network === '' ? '(unnamed)' : shortPeerId(alert.network)}`, title: alert.network, peerId: undefined }
  }
  return { text: 'whole fleet', title: 'about the fleet as a whole', peerId: undefined }
}

/**
 * The summary without the node's name at its start, for a line that shows
 * the subject beside it ("alpha (12D3…) is down: …" -> "is down: …"). The
 * whole summary stays available (tooltip, detail view).
 */
export function summaryAfterSubject (alert: AlertView): string {
  const node = alert.node
  if (node === null || node === undefined) return alert.summary
  const name = node.nickname !== '' ? `${node.nickname} (${node.peerId})` : node.peerId
  if (!alert.summary.startsWith(name)) return alert.summary
  const rest = alert.summary.slice(name.length).replace(/^:\s*/, '').trim()
  return rest === '' ? alert.summary : rest
}

/** "for 3m 05s" (from firedAt, else since it became active). */
export function alertAge (alert: AlertView, now: number): { text: string, title: string } {
  const fired = parseTime(alert.firedAt)
  const at = Number.isFinite(fired) ? fired : parseTime(alert.activeSince)
  if (!Number.isFinite(at)) return { text: '', title: '' }
  return { text: `for ${formatSpan(now - at)}`, title: `firing since ${formatDateTime(at)}` }
}

/** "until 14:05:00 (in 42m 10s)", or "until further notice" for a window without an end. */
export function maintenanceUntil (window: MaintenanceView, now: number): string {
  const until = parseTime(window.until)
  if (!Number.isFinite(until)) return 'until further notice'
  return `until ${formatDateTime(until)} (in ${formatSpan(until - now)})`
}

/** Who set the window, in words. */
export function maintenanceSource (window: MaintenanceView): string {
  return window.source === 'admin' ? 'set by an operator' : window.source === 'agent' ? 'announced by the node\'s agent' : `set by ${String(window.source)}`
}

/** One line for a node's window: "In maintenance until … (in …): kernel upgrade, announced by the node's agent". */
export function maintenanceLine (window: MaintenanceView, now: number): string {
  const reason = window.reason === '' ? '' : `: ${window.reason}`
  return `In maintenance ${maintenanceUntil(window, now)}${reason} (${maintenanceSource(window)})`
}

/** A node view's window, when the aggregator sent one. */
export function nodeMaintenance (node: { maintenance?: MaintenanceView | null }): MaintenanceView | undefined {
  return isMaintenanceLike(node.maintenance) ? node.maintenance : undefined
}

function isAlertLike (value: unknown): value is AlertView {
  return isRecord(value) && typeof value.id === 'string' && typeof value.name === 'string' && typeof value.severity === 'string'
}

function isMaintenanceLike (value: unknown): value is MaintenanceView {
  return isRecord(value) && typeof value.reason === 'string' && typeof value.source === 'string'
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
