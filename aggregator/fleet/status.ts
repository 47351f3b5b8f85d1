import { formatDuration } from '../../shared/duration.ts'
import { isHealthy } from '../../shared/health.ts'
import { ASSUMED_PERIOD_MS, DOWN_GRACE_PERIODS, STALE_AFTER_PERIODS } from '../constants.ts'
import type { NodeRecord, StatusVerdict } from './types.ts'

export interface StatusRules {
  /** Silence longer than this many announced periods -> stale. */
  staleAfterPeriods: number
  /** Disconnected longer than this many periods -> down. */
  downGracePeriods: number
}

export const DEFAULT_STATUS_RULES: StatusRules = {
  staleAfterPeriods: STALE_AFTER_PERIODS,
  downGracePeriods: DOWN_GRACE_PERIODS,
}

export function periodOf (record: NodeRecord): number {
  return record.beat.period > 0 ? record.beat.period : ASSUMED_PERIOD_MS
}

/**
 * A node's status at `now`, from its record alone (pure). Precedence: an
 * announced stop, then a restore not yet confirmed by a beat, then connection
 * loss, then silence, then what the node says about its own health.
 */
export function deriveStatus (record: NodeRecord, now: number, rules: StatusRules = DEFAULT_STATUS_RULES): StatusVerdict {
  const period = periodOf(record)
  if (record.beat.state === 'stopping') {
    return { status: 'stopped', reason: `announced a graceful stop ${ago(now - record.lastSeen)}` }
  }
  // Known from before a restart: not healthy until it proves so again (no ghost healthy nodes).
  if (record.restored === true) {
    return { status: 'stale', reason: `not heard from since the aggregator restarted; last heartbeat ${ago(now - record.lastSeen)}` }
  }
  if (!record.connected && record.disconnectedAt !== undefined) {
    const gone = now - record.disconnectedAt
    const grace = rules.downGracePeriods * period
    if (gone >= grace) {
      return { status: 'down', reason: `disconnected ${ago(gone)} and not back; last heartbeat ${ago(now - record.lastSeen)}` }
    }
    return { status: 'degraded', reason: `disconnected ${ago(gone)}; down unless it reconnects within ${formatDuration(grace)}` }
  }
  const silence = now - record.lastSeen
  if (silence > rules.staleAfterPeriods * period) {
    return { status: 'stale', reason: `no heartbeat for ${formatDuration(roundMs(silence))} (period ${formatDuration(period)}) while still connected` }
  }
  const health = record.beat.health
  if (!isHealthy(health.status)) {
    const bad = Object.entries(health.components)
      .filter(([, c]) => !isHealthy(c.status))
      .map(([name, c]) => `${name} ${c.status}`)
    return { status: 'unhealthy', reason: `reports ${health.status}${bad.length > 0 ? `: ${bad.join(', ')}` : ''}` }
  }
  return { status: 'healthy', reason: '' }
}

function roundMs (ms: number): number {
  return ms < 10_000 ? Math.round(ms / 100) * 100 : Math.round(ms / 1000) * 1000
}

function ago (ms: number): string {
  return `${formatDuration(roundMs(Math.max(0, ms)))} ago`
}
