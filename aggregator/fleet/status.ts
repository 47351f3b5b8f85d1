import { formatDuration } from '../../shared/duration.ts'
import { isHealthy } from '../../shared/health.ts'
import { DEFAULT_LAG_THRESHOLD, DEFAULT_STUCK_AFTER_MS, DOWN_GRACE_PERIODS, LARGE_SKEW_MS } from '../constants.ts'
import { clockHeightOf, headAgeAt, headAgeAtBeat, headAgeThresholdOf, headTimeOf, headTurnsOldAt } from './head-age.ts'
import { identityVerdict } from './identity.ts'
import { DEFAULT_PHI_CONFIG, effectivePeriod, phiOf, silenceAtPhi, windowMean, windowStdDeviation, type PhiConfig } from './phi.ts'
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
  /**
   * Head older than this (by its block's time) -> degraded, for every
   * network (--head-age-threshold); undefined: HEAD_AGE_BLOCKS block times
   * of the node's network (head-age.ts).
   */
  headAgeThresholdMs?: number
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

/** True between a (re)connect and the first beat on that connection: the silence before it spans the reconnect. */
export function awaitsFirstBeat (record: NodeRecord): boolean {
  return record.connected && record.connectedAtMono !== undefined && record.connectedAtMono > record.lastSeenMono
}

/**
 * phi of the node's current silence (monotonic `now`), or undefined while the
 * detector has too few samples or has nothing to judge: on a new connection
 * that has not carried a beat yet, the gap since the last beat spans the
 * reconnect and says nothing about the rhythm.
 */
export function phiAt (record: NodeRecord, now: number, phi: PhiConfig = DEFAULT_PHI_CONFIG): number | undefined {
  if (awaitsFirstBeat(record)) return undefined
  return phiOf(record.arrivals, now - record.lastSeenMono, record.beat.period, phi)
}

/**
 * Whether a node is there at all, before anything about what it reports.
 * `disconnected` is the grace after a lost connection: the node is not yet
 * down, so a quick reconnect does not flap.
 * A node restored from the store counts as stale until its first beat.
 * Each state also says when it could turn into another without an event
 * (`nextAt`, monotonic; undefined: only an event changes it).
 */
export type Liveness =
  | { state: 'alive', nextAt: number | undefined }
  | { state: 'stopped' | 'down' | 'disconnected' | 'stale', reason: string, nextAt: number | undefined, until?: number }

/** Shared verdict of a node with nothing to report. */
const HEALTHY: StatusVerdict = Object.freeze({ status: 'healthy', reason: '' })

/**
 * `now` is monotonic: whether a node is there is judged on intervals only.
 * Reasons state absolute times (wall stamps of the record), never ages, so
 * they do not change as time passes.
 */
export function livenessOf (record: NodeRecord, now: number, rules: StatusRules = DEFAULT_STATUS_RULES): Liveness {
  const period = periodOf(record)
  if (record.beat.state === 'stopping') {
    return { state: 'stopped', reason: `announced a graceful stop at ${clockTime(record.lastSeen)}`, nextAt: undefined }
  }
  // Known from before a restart: not healthy until it proves so again (no ghost healthy nodes).
  if (record.restored === true) {
    return { state: 'stale', reason: `not heard from since the aggregator restarted; last heartbeat ${dateTime(record.lastSeen)}`, nextAt: undefined }
  }
  if (!record.connected && record.disconnectedAtMono !== undefined) {
    const grace = rules.downGracePeriods * period
    const gone = record.disconnectedAt ?? record.lastSeen
    if (now - record.disconnectedAtMono >= grace) {
      return { state: 'down', reason: `disconnected at ${clockTime(gone)} and not back within ${formatDuration(roundMs(grace))}; last heartbeat ${clockTime(record.lastSeen)}`, nextAt: undefined }
    }
    return {
      state: 'disconnected',
      reason: `disconnected at ${clockTime(gone)}; down unless it reconnects within ${formatDuration(roundMs(grace))}`,
      nextAt: record.disconnectedAtMono + grace,
      until: gone + grace,
    }
  }
  const limit = rules.phi.fallbackStalePeriods * period
  // Back on a new connection, no beat on it yet: a reconnect is not a silence.
  // Judged from the connection by the warm-up rule, never by phi (whose last
  // sample is from before the gap).
  if (awaitsFirstBeat(record)) {
    const connectedAtMono = record.connectedAtMono as number
    if (now - connectedAtMono > limit) {
      return {
        state: 'stale',
        reason: `reconnected at ${clockTime(record.connectedAt ?? record.lastSeen)} but no heartbeat on the new connection (more than ${rules.phi.fallbackStalePeriods} periods of ${formatDuration(roundMs(period))})`,
        nextAt: undefined,
      }
    }
    return { state: 'alive', nextAt: connectedAtMono + limit }
  }
  const silence = now - record.lastSeenMono
  const phi = phiAt(record, now, rules.phi)
  if (phi === undefined) {
    if (silence > limit) {
      return {
        state: 'stale',
        reason: `no heartbeat since ${clockTime(record.lastSeen)} while still connected (more than ${rules.phi.fallbackStalePeriods} periods of ${formatDuration(roundMs(period))}; too few beats yet for phi)`,
        nextAt: undefined,
      }
    }
    return { state: 'alive', nextAt: record.lastSeenMono + limit }
  }
  if (phi > rules.phi.threshold) {
    const mean = windowMean(record.arrivals)
    const deviation = windowStdDeviation(record.arrivals)
    return {
      state: 'stale',
      reason: `no heartbeat since ${clockTime(record.lastSeen)} while still connected (phi > ${rules.phi.threshold}; usual interval ${formatDuration(roundMs(mean))} ± ${formatDuration(roundMs(deviation))})`,
      nextAt: undefined,
    }
  }
  // The silence at which phi crosses the threshold, solved once: the node's suspicion deadline.
  const suspectAfter = silenceAtPhi(record.arrivals, record.beat.period, rules.phi)
  return { state: 'alive', nextAt: suspectAfter === undefined ? undefined : record.lastSeenMono + suspectAfter }
}

/** Nodes whose reports count towards their network's consensus and maximum height: there, and with a head read. */
export function countsTowardsConsensus (liveness: Liveness, record?: NodeRecord): boolean {
  if (record !== undefined && hasNoHead(record)) return false
  return liveness.state === 'alive' || liveness.state === 'disconnected'
}

/**
 * A node whose agent has never read a head from its node (height 0 and an
 * empty head: what the agent sends before its chain source's first good
 * reading, agent/beat.ts): it reports nothing to count.
 */
export function hasNoHead (record: NodeRecord): boolean {
  return record.beat.height === 0 && record.beat.head === ''
}

/** What a node's network says at the moment (from the consensus tally). */
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
 * A node's status at `now` (monotonic), from its record and its network's
 * context (pure). Precedence: an announced stop, then connection loss, then
 * silence, then an identity used by two agents, then a head never read, then
 * the node's own health, then its progress.
 */
export function deriveStatus (record: NodeRecord, now: number, rules: StatusRules = DEFAULT_STATUS_RULES, network?: NetworkContext, liveness: Liveness = livenessOf(record, now, rules)): StatusVerdict {
  switch (liveness.state) {
    case 'stopped': return { status: 'stopped', reason: liveness.reason }
    case 'down': return { status: 'down', reason: liveness.reason }
    case 'disconnected': return { status: 'degraded', reason: liveness.reason, until: liveness.until }
    case 'stale': return { status: 'stale', reason: liveness.reason }
    case 'alive': break
  }
  // Two agents on one identity: what the beats say cannot be trusted to be one machine's.
  const conflict = identityVerdict(record)
  if (conflict !== undefined) return conflict
  const health = record.beat.health
  if (hasNoHead(record)) {
    const error = chainSourceError(health.components)
    return { status: 'unhealthy', reason: `has not read a head from its node yet${error === undefined ? '' : `: ${error}`}` }
  }
  if (!isHealthy(health.status)) {
    return { status: 'unhealthy', reason: `reports ${health.status}${componentsNot(health.components, (s) => isHealthy(s))}` }
  }
  const troubles: string[] = []
  if (health.status === 'affected') troubles.push(`reports affected${componentsNot(health.components, (s) => s === 'ready')}`)
  const lag = lagOf(record, network)
  if (lag > rules.lagThreshold) {
    troubles.push(`lags ${lag} behind the network's height ${network?.maxHeight ?? 0} (more than ${rules.lagThreshold})`)
  }
  if (now - record.lastHeadChangeMono > rules.stuckAfterMs) {
    troubles.push(`head unchanged since ${clockTime(record.lastHeadChange)} (stuck after ${formatDuration(rules.stuckAfterMs)})`)
  }
  const oldAfter = headAgeThresholdOf(record.beat.network, rules.headAgeThresholdMs)
  const age = headAgeAt(record, now)
  if (age !== undefined && age > oldAfter) troubles.push(oldHeadReason(record, oldAfter))
  if (troubles.length > 0) return { status: 'degraded', reason: troubles.join('; ') }
  return HEALTHY
}

/**
 * The next monotonic moment at which the node's verdict could change without
 * an event (a beat, a connection event, its network's height moving): its
 * suspicion deadline, the end of a grace, its head turning stuck. Undefined
 * when only an event can change it.
 */
export function nextStatusChange (record: NodeRecord, now: number, rules: StatusRules, liveness: Liveness): number | undefined {
  let next = liveness.nextAt
  if (liveness.state === 'alive' && !hasNoHead(record)) {
    const stuckAt = record.lastHeadChangeMono + rules.stuckAfterMs
    if (stuckAt >= now && (next === undefined || stuckAt < next)) next = stuckAt
    const oldAt = headTurnsOldAt(record, headAgeThresholdOf(record.beat.network, rules.headAgeThresholdMs))
    if (oldAt !== undefined && oldAt >= now && (next === undefined || oldAt < next)) next = oldAt
  }
  return next
}

/**
 * Why a head is too old, in words that do not age: the block's time, the
 * head's age when the node last reported it and, on a chain whose heights
 * are a clock, how many epochs behind the clock it was; and, when the
 * agent's clock and ours differ a lot, that the age is by the agent's clock.
 */
function oldHeadReason (record: NodeRecord, thresholdMs: number): string {
  const headTime = headTimeOf(record) as number
  const atBeat = headAgeAtBeat(record) as number
  const when = atBeat > 12 * 3_600_000 ? dateTime(headTime) : clockTime(headTime)
  const behind = clockHeightOf(record, record.lastSeenMono)?.epochsBehind ?? 0
  let text = `head older than ${formatDuration(thresholdMs)}: its block is from ${when} (${formatDuration(roundAge(atBeat))} old at the last heartbeat${behind > 0 ? `, ${behind} epochs behind the clock` : ''})`
  const skew = record.skewMs
  if (skew !== null && Math.abs(skew) > LARGE_SKEW_MS) {
    text += `; the agent's clock is ${formatDuration(roundAge(Math.abs(skew)))} ${skew > 0 ? 'behind' : 'ahead of'} the aggregator's (the age is by the agent's clock)`
  }
  return text
}

/** An age for people: to the second under an hour, to the minute above. */
function roundAge (ms: number): number {
  return ms < 3_600_000 ? Math.round(ms / 1000) * 1000 : Math.round(ms / 60_000) * 60_000
}

/** The chain source's error, as the agent reports it (its `details.error`), for a node that never read a head. */
function chainSourceError (components: NodeRecord['beat']['health']['components']): string | undefined {
  const source = components.chain_source
  const error = (source?.details as { error?: unknown } | undefined)?.error
  return typeof error === 'string' && error !== '' ? error : undefined
}

function componentsNot (components: NodeRecord['beat']['health']['components'], fine: (status: NodeRecord['beat']['health']['status']) => boolean): string {
  const listed = Object.entries(components)
    .filter(([, c]) => !fine(c.status))
    .map(([name, c]) => `${name} ${c.status}`)
  return listed.length > 0 ? `: ${listed.join(', ')}` : ''
}

/** A wall stamp as a time of day, UTC: 12:00:03Z (reasons about the last minutes). */
export function clockTime (ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)}Z`
}

/** A wall stamp with its date, UTC: 2026-01-31 12:00:03Z (reasons about what may be days old). */
export function dateTime (ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`
}

function roundMs (ms: number): number {
  if (ms < 1000) return Math.round(ms / 10) * 10
  return ms < 10_000 ? Math.round(ms / 100) * 100 : Math.round(ms / 1000) * 1000
}
