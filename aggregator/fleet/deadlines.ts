/**
 * The next moment each key (a node, a network) needs another look, in a
 * binary min-heap: the fleet re-derives only what is due instead of walking
 * every node on every tick. Pure; times are the caller's (monotonic ms).
 *
 * Moving a deadline later costs O(1): the key's heap entry stays where it is
 * and, when it comes up, is pushed back to the key's current deadline (a beat
 * moves a node's suspicion later on every beat; the heap sees it about once
 * per deadline instead). Moving it earlier pushes a new entry and leaves the
 * old one to be skipped. So the heap holds at most a few entries per key.
 */
export class DeadlineQueue {
  private readonly times: number[] = []
  private readonly keys: string[] = []
  /** Per key: the deadline wanted, and the time of the heap entry that stands for it. */
  private readonly wanted = new Map<string, { at: number, queued: number | undefined }>()

  /** Sets (or moves) the key's deadline; undefined clears it. */
  schedule (key: string, at: number | undefined): void {
    if (at === undefined || !Number.isFinite(at)) {
      this.wanted.delete(key)
      return
    }
    const state = this.wanted.get(key)
    if (state === undefined) {
      this.wanted.set(key, { at, queued: at })
      this.push(at, key)
      return
    }
    state.at = at
    if (state.queued === undefined || at < state.queued) {
      state.queued = at
      this.push(at, key)
    }
  }

  cancel (key: string): void {
    this.wanted.delete(key)
  }

  /** Keys whose deadline is at or before `now`, each once, removed from the queue (schedule them again as needed). */
  * due (now: number): Generator<string> {
    while (this.times.length > 0 && (this.times[0] as number) <= now) {
      const at = this.times[0] as number
      const key = this.keys[0] as string
      this.pop()
      const state = this.wanted.get(key)
      // Cancelled, or superseded by an earlier entry that already came up.
      if (state === undefined || state.queued !== at) continue
      if (state.at > now) {
        // Moved later meanwhile: back in line at the deadline wanted now.
        state.queued = state.at
        this.push(state.at, key)
        continue
      }
      this.wanted.delete(key)
      yield key
    }
  }

  /** Keys with a deadline. */
  get size (): number {
    return this.wanted.size
  }

  /** Entries in the heap (keys plus superseded entries not yet come up). */
  get entries (): number {
    return this.times.length
  }

  private push (at: number, key: string): void {
    const times = this.times
    const keys = this.keys
    let i = times.length
    times.push(at)
    keys.push(key)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((times[parent] as number) <= at) break
      times[i] = times[parent] as number
      keys[i] = keys[parent] as string
      i = parent
    }
    times[i] = at
    keys[i] = key
  }

  private pop (): void {
    const times = this.times
    const keys = this.keys
    const lastTime = times.pop() as number
    const lastKey = keys.pop() as string
    const n = times.length
    if (n === 0) return
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && (times[right] as number) < (times[left] as number) ? right : left
      if ((times[child] as number) >= lastTime) break
      times[i] = times[child] as number
      keys[i] = keys[child] as string
      i = child
    }
    times[i] = lastTime
    keys[i] = lastKey
  }
}
