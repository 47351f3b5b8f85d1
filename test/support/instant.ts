import type { Instant } from '../../shared/clock.ts'

/**
 * One moment for pure code that takes both clocks, in tests that drive time
 * by hand: monotonic and wall time equal unless a wall offset is given (a
 * wall clock stepped by `wallOffset` ms).
 */
export function at (ms: number, wallOffset = 0): Instant {
  return { mono: ms, wall: ms + wallOffset }
}
