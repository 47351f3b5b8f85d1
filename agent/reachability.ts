import type { Clock, Timer } from '../shared/clock.ts'

/** What the agent knows about one target: reachable (a stream opened) or not, since when. */
export interface TargetReachability {
  /** The target's multiaddr. */
  target: string
  /** True while the last word about it is a stream that opened; false since a failed attempt or a lost stream. */
  up: boolean
  /** How long it has been unreachable, ms (0 while up). */
  unreachableForMs: number
  /** Wall time it became unreachable (for display); undefined while up. */
  unreachableSince: number | undefined
  /** The likely cause of the last failure, in words. */
  lastError: string | undefined
  /** The unreachable period has crossed the threshold (its ERROR was logged). */
  alerted: boolean
}

export interface ReachabilityEvents {
  /** A target stayed unreachable past the threshold: once per outage. */
  onUnreachable: (target: string, forMs: number, lastError: string | undefined) => void
  /** A target that had crossed the threshold is reachable again. */
  onRecovered: (target: string, downForMs: number) => void
}

interface Entry {
  target: string
  up: boolean
  /** Monotonic time the outage began. */
  downAt: number
  downAtWall: number
  lastError: string | undefined
  alerted: boolean
  timer: Timer | undefined
}

/**
 * The agent's own view of its aggregators: per target, reachable or not and
 * for how long, on the monotonic clock. A target is unknown until the agent
 * has tried it (a lower-weighted target nobody needed has no state). Crossing
 * the threshold fires once per outage, on a timer, so the ERROR comes when it
 * is due and not at the next dial attempt.
 */
export class ReachabilityTracker {
  private readonly clock: Clock
  private readonly events: ReachabilityEvents
  private thresholdMs: number
  private readonly entries = new Map<string, Entry>()

  constructor (clock: Clock, thresholdMs: number, events: ReachabilityEvents) {
    this.clock = clock
    this.thresholdMs = thresholdMs
    this.events = events
  }

  /** A heartbeat stream to `key` opened. */
  up (key: string, target: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) {
      this.entries.set(key, { target, up: true, downAt: 0, downAtWall: 0, lastError: undefined, alerted: false, timer: undefined })
      return
    }
    if (entry.up) return
    entry.timer?.cancel()
    entry.timer = undefined
    if (entry.alerted) this.events.onRecovered(entry.target, this.clock.monotonic() - entry.downAt)
    entry.up = true
    entry.alerted = false
    entry.lastError = undefined
  }

  /** An attempt on `key` failed, or its stream was lost; an outage already running keeps its start. */
  down (key: string, target: string, error: string): void {
    let entry = this.entries.get(key)
    if (entry === undefined) {
      entry = { target, up: true, downAt: 0, downAtWall: 0, lastError: undefined, alerted: false, timer: undefined }
      this.entries.set(key, entry)
    }
    entry.lastError = error
    if (!entry.up) return
    entry.up = false
    entry.downAt = this.clock.monotonic()
    entry.downAtWall = this.clock.wall()
    this.arm(entry)
  }

  /** A target removed by a reload: no state, no pending ERROR. */
  forget (key: string): void {
    this.entries.get(key)?.timer?.cancel()
    this.entries.delete(key)
  }

  /** A reload changed the threshold: outages in progress are judged against the new one. */
  setThreshold (thresholdMs: number): void {
    if (thresholdMs === this.thresholdMs) return
    this.thresholdMs = thresholdMs
    for (const entry of this.entries.values()) {
      if (entry.up || entry.alerted) continue
      entry.timer?.cancel()
      this.arm(entry)
    }
  }

  /** Every target the agent has a word about. */
  snapshot (): TargetReachability[] {
    const now = this.clock.monotonic()
    return [...this.entries.values()].map((e) => ({
      target: e.target,
      up: e.up,
      unreachableForMs: e.up ? 0 : Math.max(0, now - e.downAt),
      unreachableSince: e.up ? undefined : e.downAtWall,
      lastError: e.lastError,
      alerted: e.alerted,
    }))
  }

  /** Cancels every pending timer (the service stopped). */
  close (): void {
    for (const entry of this.entries.values()) {
      entry.timer?.cancel()
      entry.timer = undefined
    }
  }

  private arm (entry: Entry): void {
    const due = entry.downAt + this.thresholdMs - this.clock.monotonic()
    entry.timer = this.clock.timeout(Math.max(0, due), () => {
      entry.timer = undefined
      if (entry.up || entry.alerted) return
      entry.alerted = true
      this.events.onUnreachable(entry.target, this.clock.monotonic() - entry.downAt, entry.lastError)
    }, { unref: true })
  }
}
