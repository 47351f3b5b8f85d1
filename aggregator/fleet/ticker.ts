import type { Clock, Timer } from '../../shared/clock.ts'
import type { Logger } from '../../shared/log.ts'
import { STATUS_TICK_MS } from '../constants.ts'
import type { Part } from '../parts.ts'
import type { FleetState } from './fleet-state.ts'

/**
 * The fleet ticker: silence has no event of its own, so every status is
 * re-derived on a timer (and alerting evaluates on that tick). Also logs each
 * status change and each node forgotten.
 */
export function fleetTicker (options: { fleet: FleetState, clock: Clock, logger: Logger }): Part {
  const { fleet, clock, logger } = options
  let timer: Timer | undefined
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
      timer = clock.every(STATUS_TICK_MS, () => { fleet.tick(clock.wall()) })
    },
    stop () {
      timer?.cancel()
      unsubscribe?.()
    },
  }
}
