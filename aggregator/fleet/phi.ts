/**
 * The phi-accrual failure detector (Hayashibara et al. 2004), the way Akka and
 * Cassandra use it. Instead of a fixed "silent for N seconds" rule, each node
 * keeps a sliding window of its heartbeat inter-arrival times; phi is how
 * unlikely the current silence is under the normal distribution those times
 * describe: phi = -log10(P(an interval at least this long)). phi 1 means a
 * 10% chance the node is merely slow, phi 8 one in a hundred million.
 *
 * Two guards keep it quiet on very regular senders (whose measured standard
 * deviation would be ~0 and make any delay look fatal): a minimum standard
 * deviation, and an acceptable pause added to the mean. Both scale with the
 * node's beat period, so one configuration fits a 1 s agent and a 30 s one.
 *
 * Everything here is pure arithmetic on the window; the clock is the caller's.
 */
import {
  ASSUMED_PERIOD_MS, PHI_ACCEPTABLE_PAUSE_PERIODS, PHI_FALLBACK_STALE_PERIODS, PHI_MAX_LEARNED_INTERVAL_PERIODS,
  PHI_MIN_SAMPLES, PHI_MIN_STD_DEVIATION_PERIODS, PHI_THRESHOLD, PHI_WINDOW_SIZE,
} from '../constants.ts'

export interface PhiConfig {
  /** phi above this -> the node is suspected (stale). Akka and Cassandra default to 8. */
  threshold: number
  /** Inter-arrival times kept per node. */
  windowSize: number
  /** Below this many learned intervals the detector abstains and the fallback rule applies. */
  minSamples: number
  /** Floor of the standard deviation, in beat periods. */
  minStdDeviationPeriods: number
  /** Silence tolerated on top of the mean before phi starts to climb, in beat periods. */
  acceptablePausePeriods: number
  /** Intervals longer than this (in periods) are outages, not samples: they are not learned. */
  maxLearnedIntervalPeriods: number
  /** Fallback while the window is too small: silence longer than this many periods -> stale. */
  fallbackStalePeriods: number
}

export const DEFAULT_PHI_CONFIG: Readonly<PhiConfig> = Object.freeze({
  threshold: PHI_THRESHOLD,
  windowSize: PHI_WINDOW_SIZE,
  minSamples: PHI_MIN_SAMPLES,
  minStdDeviationPeriods: PHI_MIN_STD_DEVIATION_PERIODS,
  acceptablePausePeriods: PHI_ACCEPTABLE_PAUSE_PERIODS,
  maxLearnedIntervalPeriods: PHI_MAX_LEARNED_INTERVAL_PERIODS,
  fallbackStalePeriods: PHI_FALLBACK_STALE_PERIODS,
})

/**
 * A fixed-size ring of inter-arrival times with running sums, so learning an
 * interval and reading mean/deviation are O(1).
 *
 * The ring buffer is shared between successive versions of a window (copying
 * it on every beat would make each beat O(window)); the scalar fields are
 * per version. So a window is a value for reading (mean, deviation and phi of
 * an older version stay right), but only the newest version may be extended:
 * the fold owns it linearly, which is how FleetState uses it.
 */
export interface ArrivalWindow {
  readonly ring: Float64Array
  /** Intervals currently in the ring (<= ring.length). */
  readonly count: number
  /** Slot the next interval goes to. */
  readonly next: number
  readonly sum: number
  readonly sumOfSquares: number
}

export function emptyArrivalWindow (size: number = PHI_WINDOW_SIZE): ArrivalWindow {
  if (!Number.isInteger(size) || size < 2) throw new RangeError(`phi window size must be an integer >= 2, got ${size}`)
  return { ring: new Float64Array(size), count: 0, next: 0, sum: 0, sumOfSquares: 0 }
}

/** The window with `intervalMs` learned (evicting the oldest when full). O(1), amortised. */
export function learnInterval (window: ArrivalWindow, intervalMs: number): ArrivalWindow {
  const { ring } = window
  const full = window.count === ring.length
  const evicted = full ? (ring[window.next] as number) : 0
  ring[window.next] = intervalMs
  const next = (window.next + 1) % ring.length
  const count = full ? window.count : window.count + 1
  if (next === 0) {
    // Once per lap, recompute the sums exactly so float error from the
    // running add/subtract can never accumulate (amortised O(1) per beat).
    let sum = 0
    let sumOfSquares = 0
    for (let i = 0; i < count; i++) {
      const v = ring[i] as number
      sum += v
      sumOfSquares += v * v
    }
    return { ring, count, next, sum, sumOfSquares }
  }
  return {
    ring,
    count,
    next,
    sum: window.sum - evicted + intervalMs,
    sumOfSquares: window.sumOfSquares - evicted * evicted + intervalMs * intervalMs,
  }
}

export function windowMean (window: ArrivalWindow): number {
  return window.count === 0 ? 0 : window.sum / window.count
}

/** Population standard deviation of the learned intervals. */
export function windowStdDeviation (window: ArrivalWindow): number {
  if (window.count === 0) return 0
  const mean = window.sum / window.count
  return Math.sqrt(Math.max(0, window.sumOfSquares / window.count - mean * mean))
}

/**
 * The beat period the detector judges a node by: the one it announced, or,
 * for senders that announce none (go-filecoin), the mean it was observed to
 * keep, and go-filecoin's 3 s before anything was observed.
 */
export function effectivePeriod (announcedPeriodMs: number, window: ArrivalWindow): number {
  if (announcedPeriodMs > 0) return announcedPeriodMs
  const observed = windowMean(window)
  // A sender bursting beats back to back has no usable rhythm: keep the assumption.
  return observed > 0 ? observed : ASSUMED_PERIOD_MS
}

/**
 * Whether an observed interval is a sample of the node's rhythm. Gaps longer
 * than `maxLearnedIntervalPeriods` are outages (a stopped process, a restart)
 * and would teach the detector to tolerate exactly what it should detect.
 * A node with no announced period and no samples yet has no scale: its first
 * interval is learned as it comes.
 */
export function isLearnableInterval (intervalMs: number, announcedPeriodMs: number, window: ArrivalWindow, config: PhiConfig = DEFAULT_PHI_CONFIG): boolean {
  if (!(intervalMs >= 0) || !Number.isFinite(intervalMs)) return false
  if (announcedPeriodMs <= 0 && window.count === 0) return true
  return intervalMs <= config.maxLearnedIntervalPeriods * effectivePeriod(announcedPeriodMs, window)
}

/**
 * phi for a node silent for `silenceMs`, or undefined while the window holds
 * fewer than `minSamples` intervals (the caller falls back to its period rule).
 */
export function phiOf (window: ArrivalWindow, silenceMs: number, announcedPeriodMs: number, config: PhiConfig = DEFAULT_PHI_CONFIG): number | undefined {
  if (window.count < config.minSamples) return undefined
  const period = effectivePeriod(announcedPeriodMs, window)
  const mean = windowMean(window) + config.acceptablePausePeriods * period
  const stdDeviation = Math.max(windowStdDeviation(window), config.minStdDeviationPeriods * period)
  return phiFromNormal(Math.max(0, silenceMs), mean, stdDeviation)
}

/**
 * -log10(1 - CDF(t)) for a normal distribution, with the logistic
 * approximation of the CDF that Akka uses (error < 0.0002, and no underflow
 * to 1 - 1 = 0 far in the tail, where the formula below stays finite).
 */
export function phiFromNormal (t: number, mean: number, stdDeviation: number): number {
  const y = (t - mean) / stdDeviation
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y))
  if (t > mean) {
    // In the far tail e underflows to 0; -log10(e) = y(...)/ln 10 is the exact limit.
    if (e === 0) return (y * (1.5976 + 0.070566 * y * y)) / Math.LN10
    return -Math.log10(e / (1 + e))
  }
  return -Math.log10(1 - 1 / (1 + e))
}

/**
 * The silence (ms) at which phi reaches `threshold`, or undefined while the
 * window holds fewer than `minSamples` intervals: the deadline of a node's
 * suspicion, solved once per beat instead of evaluating phi on every tick.
 *
 * phi(t) = -log10(e / (1 + e)) with e = exp(-y (1.5976 + 0.070566 y^2)),
 * y = (t - mean) / sd (phiFromNormal, on both sides of the mean). phi = T
 * means e / (1 + e) = p = 10^-T, so 0.070566 y^3 + 1.5976 y = ln((1 - p) / p):
 * a cubic with one real root (both coefficients are positive), by Cardano.
 */
export function silenceAtPhi (window: ArrivalWindow, announcedPeriodMs: number, config: PhiConfig = DEFAULT_PHI_CONFIG): number | undefined {
  if (window.count < config.minSamples) return undefined
  const period = effectivePeriod(announcedPeriodMs, window)
  const mean = windowMean(window) + config.acceptablePausePeriods * period
  const stdDeviation = Math.max(windowStdDeviation(window), config.minStdDeviationPeriods * period)
  const y = standardScoreAtPhi(config.threshold)
  return Math.max(0, mean + y * stdDeviation)
}

/** The y of phiFromNormal at which phi equals `phi` (see silenceAtPhi). */
export function standardScoreAtPhi (phi: number): number {
  const a = 0.070566
  const b = 1.5976
  // ln((1 - p) / p) with p = 10^-phi, without underflow for large phi.
  const p = 10 ** -phi
  const target = phi * Math.LN10 + Math.log1p(-p)
  // y^3 + P y + Q = 0
  const P = b / a
  const Q = -target / a
  const root = Math.sqrt((Q / 2) ** 2 + (P / 3) ** 3)
  return Math.cbrt(-Q / 2 + root) + Math.cbrt(-Q / 2 - root)
}
