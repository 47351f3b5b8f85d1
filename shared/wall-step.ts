import type { Clock } from './clock.ts'

/**
 * The wall clock moving this much more or less than the monotonic clock
 * between two observations is a step (NTP, an operator), logged once as a WARN
 * with its size. Slewing never comes near it; timer jitter under load stays far
 * below. Intervals never use the wall clock, so nothing else changes. Both
 * programs watch with it.
 */
export const WALL_STEP_WARN_MS = 2_000

/**
 * Notices a step of the machine's wall clock (NTP correcting a clock that ran
 * ahead, an operator's `date -s`): between two observations the wall clock
 * moved by a different amount than the monotonic clock. Slow slewing never
 * adds up to a step, because each observation starts a new baseline; so a
 * step is reported once, at the first observation after it.
 */
export class WallStepDetector {
  private readonly clock: Clock
  private readonly thresholdMs: number
  private mono: number
  private wall: number

  constructor (clock: Clock, thresholdMs: number) {
    this.clock = clock
    this.thresholdMs = thresholdMs
    this.mono = clock.monotonic()
    this.wall = clock.wall()
  }

  /** The step since the last observation (ms, positive: forward) when larger than the threshold, else undefined. */
  observe (): number | undefined {
    const mono = this.clock.monotonic()
    const wall = this.clock.wall()
    const step = (wall - this.wall) - (mono - this.mono)
    this.mono = mono
    this.wall = wall
    return Math.abs(step) > this.thresholdMs ? step : undefined
  }
}
