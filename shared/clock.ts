/**
 * Time, injected. Two clocks travel together (docs/ARCHITECTURE.md, "Time"):
 *
 * - `monotonic()` for every interval: silence, phi, grace, stuck heads, beat
 *   budgets, penalties, schedules, backoff, alert `for`. It never steps, so an
 *   NTP correction of the machine's clock cannot turn a node stale, refuse a
 *   peer or stop a beat. Its zero means nothing: only differences count.
 * - `wall()` only to stamp records and show times (milliseconds since the epoch).
 *
 * Timers run on monotonic time. Production code takes a `Clock` and defaults to
 * `systemClock`; tests pass a ManualClock (test/support/manual-clock.ts) and
 * drive it, so no test sleeps to let time pass.
 */

/** A scheduled callback; `cancel` is idempotent. */
export interface Timer {
  cancel: () => void
}

export interface TimerOptions {
  /** Do not keep the process alive for this timer alone (Node's unref). */
  unref?: boolean
}

export interface Clock {
  /** Monotonic milliseconds (fractional): for intervals only. */
  monotonic: () => number
  /** Milliseconds since the epoch: for stamps and display only. */
  wall: () => number
  /** Calls `run` once, `ms` from now. */
  timeout: (ms: number, run: () => void, options?: TimerOptions) => Timer
  /** Calls `run` every `ms` until cancelled. */
  every: (ms: number, run: () => void, options?: TimerOptions) => Timer
  /** Resolves after `ms`, or at once (without throwing) when `signal` aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>
}

/**
 * One moment on both clocks: `mono` to judge intervals, `wall` only to stamp
 * what is kept and shown. Pure code that needs both takes an Instant, so no
 * interval is ever measured on the wall clock.
 */
export interface Instant {
  readonly mono: number
  readonly wall: number
}

/** The clock's present moment, read once. */
export function instantOf (clock: Clock): Instant {
  return { mono: clock.monotonic(), wall: clock.wall() }
}

/** Node's timers take at most 2^31-1 ms; longer delays are clamped (and re-armed by callers that care). */
export const MAX_TIMER_MS = 2 ** 31 - 1

function clampDelay (ms: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, Number.isFinite(ms) ? ms : 0))
}

/** The machine's clocks: performance.now() and Date.now(), with Node's timers (which run on monotonic time). */
export const systemClock: Clock = {
  monotonic: () => performance.now(),
  wall: () => Date.now(),
  timeout: (ms, run, options) => {
    const handle = setTimeout(run, clampDelay(ms))
    if (options?.unref === true) handle.unref()
    return { cancel: () => { clearTimeout(handle) } }
  },
  every: (ms, run, options) => {
    const handle = setInterval(run, Math.max(1, clampDelay(ms)))
    if (options?.unref === true) handle.unref()
    return { cancel: () => { clearInterval(handle) } }
  },
  sleep: async (ms, signal) => {
    if (signal?.aborted === true) return
    await new Promise<void>((resolve) => {
      const handle = setTimeout(done, clampDelay(ms))
      function done (): void {
        clearTimeout(handle)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      signal?.addEventListener('abort', done, { once: true })
    })
  },
}
