// Pure text formatting for the page. No DOM here: unit-tested in Node.

const numberFormat = new Intl.NumberFormat('en-US')

/** 1234567 -> "1,234,567"; anything that is not a finite number -> "—". */
export function formatCount (value: number | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? numberFormat.format(value) : '—'
}

/** A compact duration: "0s", "42s", "3m 05s", "2h 04m", "3d 4h". */
export function formatSpan (ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  const seconds = Math.max(0, Math.floor(ms / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`
  const days = Math.floor(hours / 24)
  return `${days}d ${hours % 24}h`
}

/** "3s ago"; under a second is "just now"; a time in the future (clock noise) counts as now. */
export function formatAgo (ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  return ms < 1000 ? 'just now' : `${formatSpan(ms)} ago`
}

/** Milliseconds of an ISO time, or NaN. */
export function parseTime (iso: unknown): number {
  return typeof iso === 'string' ? Date.parse(iso) : Number.NaN
}

/** "…Xy12AbCd": the end of a peer id is what tells peer ids apart (the start is a shared multihash prefix). */
export function shortPeerId (peerId: string): string {
  return peerId.length > 10 ? `…${peerId.slice(-8)}` : peerId
}

/** A head CID, short: braces (Filecoin tipset keys) dropped, then "bafy…k3j4h5g6". */
export function shortHead (head: string): string {
  const bare = head.replace(/^\{(.*)\}$/s, '$1')
  return bare.length > 16 ? `${bare.slice(0, 4)}…${bare.slice(-8)}` : bare
}

/** A local date and time for tooltips and the detail view. */
export function formatDateTime (ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  return new Date(ms).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

/** Component details as readable text (JSON, indented). Never HTML. */
export function formatDetails (details: unknown): string {
  if (details === undefined) return ''
  if (typeof details === 'string') return details
  try {
    return JSON.stringify(details, null, 2) ?? ''
  } catch {
    return String(details)
  }
}

/** Any value of a node's view as one line of text, for the "every field" list. */
export function formatValue (value: unknown): string {
  if (value === null || value === undefined) return '—'
  if (typeof value === 'string') return value === '' ? '(empty)' : value
  if (typeof value === 'number') return Number.isInteger(value) ? formatCount(value) : String(value)
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  try {
    return JSON.stringify(value)
  } catch {
    return String(value)
  }
}

/** An uptime ratio (0..1) as a percentage: "100%", "99.95%", "87.3%"; null (not watched) as "—". */
export function formatUptime (ratio: number | null | undefined): string {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) return '—'
  const value = Math.min(100, Math.max(0, ratio * 100))
  if (value === 100) return '100%'
  return `${value.toFixed(value >= 99 ? 2 : 1)}%`
}

const pad2 = (n: number): string => String(n).padStart(2, '0')
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/**
 * A time axis label (local time) for ticks `stepSeconds` apart: "14:05:30"
 * under a minute, "14:05" under a day, "Jan 5" beyond; a midnight tick of a
 * clock-time axis says the date instead, so a chart spanning days shows them.
 */
export function formatTick (seconds: number, stepSeconds: number): string {
  const d = new Date(seconds * 1000)
  const date = `${MONTHS[d.getMonth()] ?? ''} ${d.getDate()}`
  if (stepSeconds >= 86_400) return date
  if (d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0) return date
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`
  return stepSeconds < 60 ? `${hm}:${pad2(d.getSeconds())}` : hm
}
