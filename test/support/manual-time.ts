import type { Scheduler } from '../../aggregator/store/write-behind.ts'

/** A clock and timers that move only when a test says so. */
export class ManualTime implements Scheduler {
  private current: number
  private timers: Array<{ every: number, due: number, run: () => void, cancelled: boolean }> = []

  constructor (start = 1_800_000_000_000) {
    this.current = start
  }

  readonly now = (): number => this.current

  every = (ms: number, run: () => void): (() => void) => {
    const timer = { every: ms, due: this.current + ms, run, cancelled: false }
    this.timers.push(timer)
    return () => { timer.cancelled = true }
  }

  /** Moves time forward, firing each timer as often as it came due, in order. */
  advance (ms: number): void {
    const end = this.current + ms
    for (;;) {
      const next = this.timers.filter((t) => !t.cancelled && t.due <= end).sort((a, b) => a.due - b.due)[0]
      if (next === undefined) break
      this.current = next.due
      next.due += next.every
      next.run()
    }
    this.current = end
  }

  get activeTimers (): number {
    return this.timers.filter((t) => !t.cancelled).length
  }
}
