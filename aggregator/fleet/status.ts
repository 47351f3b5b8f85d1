import { formatDuration } from '../../shared/duration.ts'
import { isHealthy } from '../../shared/health.ts'
import { DEFAULT_LAG_THRESHOLD, DEFAULT_STUCK_AFTER_MS, DOWN_GRACE_PERIODS } from '../constants.ts'
import { identityVerdict } from './identity.ts'
import { DEFAULT_PHI_CONFIG, effectivePeriod, phiOf, windowMean, windowStdDeviation, type PhiConfig } from './phi.ts'
import type { NodeRecord, StatusVerdict } from './types.ts'

export interface StatusRules {
  /** Disconnected longer than this many periods -> down. */
  downGracePeriods: number
  /** The silence detector (stale). */
  phi: PhiConfig
  /** Lagging more than this many heights behind the network's maximum -> degraded. */
  lagThreshold: number
  /** Head unchanged for longer than this -> degraded (stuck). */
  stuckAfterMs: number
}

export const DEFAULT_STATUS_RULES: Readonly<StatusRules> = Object.freeze({
  downGracePeriods: DOWN_GRACE_PERIODS,
  phi: DEFAULT_PHI_CONFIG,
  lagThreshold: DEFAULT_LAG_THRESHOLD,
  stuckAfterMs: DEFAULT_STUCK_AFTER_MS,
})

/** The period a node is judged by (announced, else observed, else assumed). */
export function periodOf (record: NodeRecord): number {
  return effectivePeriod(record.beat.period, record.arrivals)
}

/** phi of the node's current silence, or undefined while the detector has too few samples. */
export function phiAt (record: NodeRecord, now: number, phi: PhiConfig = DEFAULT_PHI_CONFIG): number | undefined {
  return phiOf(record.arrivals, now - record.lastSeen, record.beat.period, phi)
}

/**
 * Whether a node is there at all, before anything about what it reports.
 * `disconnected` is the grace after a lost connection: the node is not yet
 * down, so a quick reconnect does not flap.
 * A node restored from the store counts as stale until its first beat.
 */
export type Liveness =
  | { state: 'alive' }
  | { state: 'stopped' | 'down' | 'disconnected' | 'stale', reason: string }

/** Shared: the common answer allocates nothing. */
const ALIVE: Liveness = Object.freeze({ state: 'alive' })
/** Shared verdict of a node with nothing to report. */
const HEALTHY: StatusVerdict = Object.freeze({ status: 'healthy', reason: '' })

export function livenessOf (record: NodeRecord, now: number, rules: StatusRules = DEFAULT_STATUS_RULES): Liveness {
  const period = periodOf(record)
  if (record.beat.state === 'stopping') {
    return { state: 'stopped', reason: `announced a graceful stop ${ago(now - record.lastSeen)}` }
  }
  // Known from before a restart: not healthy until it proves so again (no ghost healthy nodes).
  if (record.restored === true) {
    return { state: 'stale', reason: `not heard from since the aggregator restarted; last heartbeat ${ago(now - record.lastSeen)}` }
  }
  if (!record.connected && record.disconnectedAt !== undefined) {
    const gone = now - record.disconnectedAt
    const grace = rules.downGracePeriods * period
    if (gone >= grace) {
      return { state: 'down', reason: `disconnected ${ago(gone)} and not back; last heartbeat ${ago(now - record.lastSeen)}` }
    }
    return { state: 'disconnected', reason: `disconnected ${ago(gone)}; down unless it reconnects within ${formatDuration(roundMs(grace))}` }
  }
  const silence = now - record.lastSeen
  const phi = phiAt(record, now, rules.phi)
  if (phi === undefined) {
    const limit = rules.phi.fallbackStalePeriods * period
    if (silence > limit) {
      return {
        state: 'stale',
        reason: `no heartbeat for ${formatDuration(roundUp(silence))} while still connected (more than ${rules.phi.fallbackStalePeriods} periods of ${formatDuration(roundMs(period))}; too few beats yet for phi)`,
      }
    }
    return ALIVE
  }
  if (phi > rules.phi.threshold) {
    const mean = windowMean(record.arrivals)
    const deviation = windowStdDeviation(record.arrivals)
    return {
      state: 'stale',
      reason: `no heartbeat for ${formatDuration(roundUp(silence))} while still connected (phi ${formatPhi(phi)} > ${rules.phi.threshold}; usual interval ${formatDuration(roundMs(mean))} ± ${formatDuration(roundMs(deviation))})`,
    }
  }
  return ALIVE
}

/** Nodes whose reports count towards their network's consensus and maximum height. */
export function countsTowardsConsensus (liveness: Liveness): boolean {
  return liveness.state === 'alive' || liveness.state === 'disconnected'
}

/** What a node's network says at the moment (from the consensus pass). */
export interface NetworkContext {
  /** Greatest height reported in the node's network; undefined when nobody reports. */
  maxHeight: number | undefined
}

/** Heights the node is behind its network's maximum (0 when unknown or ahead). */
export function lagOf (record: NodeRecord, network: NetworkContext | undefined): number {
  const max = network?.maxHeight
  return max === undefined ? 0 : Math.max(0, max - record.beat.height)
}

/**
 * A node's status at `now`, from its record and its network's context
 * (pure). Precedence: an announced stop, then connection loss, then
 * silence, then an identity used by two agents, then the node's own health,
 * then its progress.
 */
export function deriveStatus (record: NodeRecord, now: number, rules: StatusRules = DEFAULT_STATUS_RULES, network?: NetworkContext, liveness: Liveness = livenessOf(record, now, rules)): StatusVerdict {
  switch (liveness.state) {
    case 'stopped': return { status: 'stopped', reason: liveness.reason }
    case 'down': return { status: 'down', reason: liveness.reason }
    case 'disconnected': return { status: 'degraded', reason: liveness.reason }
    case 'stale': return { status: 'stale', reason: liveness.reason }
    case 'alive': break
  }
  // Two agents on one identity: what the beats say cannot be trusted to be one machine's.
  const conflict = identityVerdict(record)
  if (conflict !== undefined) return conflict
  const health = record.beat.health
  if (!isHealthy(health.status)) {
    return { status: 'unhealthy', reason: `reports ${health.status}${componentsNot(health.components, (s) => isHealthy(s))}` }
  }
  const troubles: string[] = []
  if (health.status === 'affected') troubles.push(`reports affected${componentsNot(health.components, (s) => s === 'ready')}`)
  const lag = lagOf(record, network)
  if (lag > rules.lagThreshold) {
    troubles.push(`lags ${lag} behind the network's height ${network?.maxHeight ?? 0} (more than ${rules.lagThreshold})`)
  }
  const unchanged = now - record.lastHeadChange
  if (unchanged > rules.stuckAfterMs) {
    troubles.push(`head unchanged for ${formatDuration(roundUp(unchanged))} (stuck after ${formatDuration(rules.stuckAfterMs)})`)
  }
  if (troubles.length > 0) return { status: 'degraded', reason: troubles.join('; ') }
  return HEALTHY
}

function componentsNot (components: NodeRecord['beat']['health']['components'], fine: (status: NodeRecord['beat']['health']['status']) => boolean): string {
  const listed = Object.entries(components)
    .filter(([, c]) => !fine(c.status))
    .map(([name, c]) => `${name} ${c.status}`)
  return listed.length > 0 ? `: ${listed.join(', ')}` : ''
}

/** phi for people: one decimal, and a plain word when it runs off to infinity. */
export function formatPhi (phi: number): string {
  return Number.isFinite(phi) ? phi.toFixed(1) : 'infinite'
}

function roundMs (ms: number): number {
  if (ms < 1000) return Math.round(ms / 10) * 10
  return ms < 10_000 ? Math.round(ms / 100) * 100 : Math.round(ms / 1000) * 1000
}

/** Rounds up, so a duration shown as over a limit never reads as equal to it. */
function roundUp (ms: number): number {
  const unit = ms < 1000 ? 10 : ms < 10_000 ? 100 : 1000
  return Math.ceil(ms / unit) * unit
}

function ago (ms: number): string {
  return `${formatDuration(roundMs(Math.max(0, ms)))} ago`
}
