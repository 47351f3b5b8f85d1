// How statuses look: every status has a word and a glyph besides its colour,
// so the page never relies on colour alone.
import { NODE_STATUSES } from '../../fleet/types.ts'
import { HEALTH_STATUSES, type HealthStatus } from '../../../shared/health.ts'
import type { NodeStatus } from './types.ts'

export { NODE_STATUSES, HEALTH_STATUSES }

export interface StatusLook {
  label: string
  glyph: string
  /** Problems first: lower ranks sort first. */
  rank: number
  /** A colour family shared with the CSS (`tone-...`). */
  tone: 'ok' | 'warn' | 'bad' | 'down' | 'stale' | 'off'
}

export const NODE_STATUS_LOOK: Record<NodeStatus, StatusLook> = {
  unhealthy: { label: 'Unhealthy', glyph: '✕', rank: 0, tone: 'bad' },
  down: { label: 'Down', glyph: '▼', rank: 1, tone: 'down' },
  stale: { label: 'Stale', glyph: '◷', rank: 2, tone: 'stale' },
  degraded: { label: 'Degraded', glyph: '▲', rank: 3, tone: 'warn' },
  stopped: { label: 'Stopped', glyph: '■', rank: 4, tone: 'off' },
  healthy: { label: 'Healthy', glyph: '✓', rank: 5, tone: 'ok' },
}

/** Statuses in problems-first order, for the header and the filter. */
export const STATUSES_BY_RANK: NodeStatus[] = [...NODE_STATUSES].sort((a, b) => NODE_STATUS_LOOK[a].rank - NODE_STATUS_LOOK[b].rank)

const UNKNOWN_LOOK: StatusLook = { label: 'Unknown', glyph: '?', rank: -1, tone: 'off' }

/** Looks up a status that came over the wire (it may be one this page does not know yet). */
export function nodeStatusLook (status: string): StatusLook {
  return Object.hasOwn(NODE_STATUS_LOOK, status) ? NODE_STATUS_LOOK[status as NodeStatus] : { ...UNKNOWN_LOOK, label: status }
}

export const HEALTH_STATUS_LOOK: Record<HealthStatus, StatusLook> = {
  panicked: { label: 'panicked', glyph: '✕', rank: 0, tone: 'bad' },
  not_ready: { label: 'not ready', glyph: '✕', rank: 1, tone: 'bad' },
  shut_down: { label: 'shut down', glyph: '■', rank: 2, tone: 'off' },
  shutting_down: { label: 'shutting down', glyph: '■', rank: 3, tone: 'off' },
  affected: { label: 'affected', glyph: '▲', rank: 4, tone: 'warn' },
  ready: { label: 'ready', glyph: '✓', rank: 5, tone: 'ok' },
}

export function healthStatusLook (status: string): StatusLook {
  return Object.hasOwn(HEALTH_STATUS_LOOK, status) ? HEALTH_STATUS_LOOK[status as HealthStatus] : { ...UNKNOWN_LOOK, label: status }
}
