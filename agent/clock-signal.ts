import type { Clock } from '../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../shared/errors.ts'

/** An AbortSignal that aborts after `ms` of the clock's (monotonic) time; `clear` cancels the timer. */
export interface ClockTimeout {
  signal: AbortSignal
  clear: () => void
}

/**
 * AbortSignal.timeout on an injected clock: the source and check deadlines run
 * on the agent's Clock, so tests drive them with a ManualClock instead of
 * waiting. The timer never keeps the process alive. `reason` becomes the
 * signal's reason (a TIMEOUT HeartbeatError by default).
 */
export function clockTimeout (clock: Clock, ms: number, reason?: () => Error): ClockTimeout {
  const controller = new AbortController()
  const timer = clock.timeout(ms, () => {
    controller.abort(reason?.() ?? new HeartbeatError(ErrorCodes.TIMEOUT, `no answer within ${ms} ms`))
  }, { unref: true })
  return { signal: controller.signal, clear: () => { timer.cancel() } }
}
