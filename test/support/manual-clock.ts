import type { Clock, Timer, TimerOptions } from '../../shared/clock.ts'

interface PendingTimer {
  due: number
  /** Repeat interval; undefined for a one-shot timer. */
  every: number | undefined
  run: () => void
  cancelled: boolean
  /** Insertion order: timers due at the same instant fire in the order they were set. */
  order: number
}

/**
 * A Clock that moves only when a test says so. `advance` moves both clocks
 * and fires every timer that comes due, in order; `stepWall` moves only the
 * wall clock, as an NTP correction does (timers and intervals are untouched).
 */
export class ManualClock implements Clock {
  private mono: number
  private wallOffset: number
  private timers: PendingTimer[] = []
  private counter = 0

  /** `wallStart` is the wall time at monotonic 0 + `monoStart`. */
  constructor (options: { wallStart?: number, monoStart?: number } = {}) {
    this.mono = options.monoStart ?? 1_000
    this.wallOffset = (options.wallStart ?? 1_800_000_000_000) - this.mono
  }

  readonly monotonic = (): number => this.mono
  readonly wall = (): number => this.mono + this.wallOffset

  readonly timeout = (ms: number, run: () => void, _options?: TimerOptions): Timer => this.add(ms, undefined, run)

  readonly every = (ms: number, run: () => void, _options?: TimerOptions): Timer => this.add(ms, Math.max(1, ms), run)

  readonly sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted === true) return
    await new Promise<void>((resolve) => {
      const timer = this.add(ms, undefined, done)
      function done (): void {
        timer.cancel()
        signal?.removeEventListener('abort', done)
        resolve()
      }
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  /** Moves both clocks forward by `ms`, firing each timer as often as it comes due, in order. */
  advance (ms: number): void {
    const end = this.mono + ms
    for (;;) {
      const next = this.nextDue(end)
      if (next === undefined) break
      this.fire(next)
    }
    this.mono = end
  }

  /**
   * As `advance`, but lets promise continuations run after each timer fires
   * (a sleep that resolves, then schedules the next one), so async loops
   * driven by the clock make progress.
   */
  async advanceAsync (ms: number): Promise<void> {
    const end = this.mono + ms
    for (;;) {
      await settle()
      const next = this.nextDue(end)
      if (next === undefined) break
      this.fire(next)
    }
    this.mono = end
    await settle()
  }

  /** Steps the wall clock only (positive: forward), as NTP does; monotonic time and timers are unaffected. */
  stepWall (ms: number): void {
    this.wallOffset += ms
  }

  /** Timers still scheduled. */
  get pendingTimers (): number {
    return this.timers.filter((t) => !t.cancelled).length
  }

  private add (ms: number, every: number | undefined, run: () => void): Timer {
    const timer: PendingTimer = { due: this.mono + Math.max(0, ms), every, run, cancelled: false, order: this.counter++ }
    this.timers.push(timer)
    return {
      cancel: () => {
        timer.cancelled = true
        this.timers = this.timers.filter((t) => t !== timer)
      },
    }
  }

  private nextDue (end: number): PendingTimer | undefined {
    let best: PendingTimer | undefined
    for (const t of this.timers) {
      if (t.cancelled || t.due > end) continue
      if (best === undefined || t.due < best.due || (t.due === best.due && t.order < best.order)) best = t
    }
    return best
  }

  private fire (timer: PendingTimer): void {
    this.mono = Math.max(this.mono, timer.due)
    if (timer.every === undefined) {
      timer.cancelled = true
      this.timers = this.timers.filter((t) => t !== timer)
    } else {
      timer.due += timer.every
    }
    timer.run()
  }
}

/** Lets pending promise continuations (and anything they chain) run. */
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => { setImmediate(resolve) })
}
