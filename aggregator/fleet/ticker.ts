import { type Clock, instantOf, type Timer } from '../../shared/clock.ts'
import { formatDuration, roundToSeconds } from '../../shared/duration.ts'
import type { Logger } from '../../shared/log.ts'
import { WALL_STEP_WARN_MS, WallStepDetector } from '../../shared/wall-step.ts'
import { STATUS_TICK_LATE_MS, STATUS_TICK_MS } from '../constants.ts'
import type { Part } from '../parts.ts'
import type { FleetState } from './fleet-state.ts'

/**
 * The fleet ticker: silence has no event of its own, so statuses are
 * re-derived on a timer (and alerting evaluates on that tick). Also logs each
 * status change and each node forgotten, and says once when the machine's
 * wall clock stepped (NTP, an operator): nothing is judged on it, so nothing
 * else changes.
 *
 * A tick that comes late means the loop was held (a long synchronous store
 * write due at the same moment, a GC, a starved CPU): heartbeats may be
 * waiting unread in the sockets, and judging silence now would take them for
 * silence. So a late tick first lets the loop read what is waiting (a timeout
 * of 0 runs after the loop's next poll for I/O), then judges.
 */
export function fleetTicker (options: { fleet: FleetState, clock: Clock, logger: Logger }): Part {
  const { fleet, clock, logger } = options
  let timer: Timer | undefined
  let deferred: Timer | undefined
  let unsubscribe: (() => void) | undefined
  return {
    name: 'fleet ticker',
    start () {
      unsubscribe = fleet.subscribe({
        onStatusChanged: (change) => {
          const nickname = fleet.get(change.peerId)?.beat.nickname
          logger.info({ peer: change.peerId, nickname, from: change.from, to: change.to, reason: change.reason }, `node ${nickname !== undefined && nickname !== '' ? nickname : change.peerId} is ${change.to}`)
        },
        onNodeForgotten: (peerId, why) => {
          if (why === 'removed') return // the route that removed it logs who did
          logger.info({ peer: peerId, forgetAfterMs: fleet.forgetAfterMs }, 'forgot a node silent for longer than forget-after')
        },
      })
      const steps = new WallStepDetector(clock, WALL_STEP_WARN_MS)
      const tick = (): void => {
        const step = steps.observe()
        if (step !== undefined) {
          logger.warn({ stepMs: Math.round(step) },
            `the wall clock stepped ${step < 0 ? 'back' : 'forward'} by ${formatDuration(roundToSeconds(Math.abs(step)))}: statuses, beat budgets, penalties and alerts run on the monotonic clock and go on unchanged; new stamps keep their order`)
        }
        fleet.tick(instantOf(clock))
      }
      let last = clock.monotonic()
      timer = clock.every(STATUS_TICK_MS, () => {
        const now = clock.monotonic()
        const late = now - last - STATUS_TICK_MS
        last = now
        if (late > STATUS_TICK_LATE_MS) {
          deferred?.cancel()
          deferred = clock.timeout(0, () => { deferred = undefined; tick() })
          return
        }
        tick()
      })
    },
    stop () {
      timer?.cancel()
      deferred?.cancel()
      unsubscribe?.()
    },
  }
}
