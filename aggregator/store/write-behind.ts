import type { Clock, Timer } from '../../shared/clock.ts'
import { MAX_PENDING_ROWS } from './constants.ts'

/** A height sample: where a node's chain was at a moment (aggregator clock). */
export interface HeightSample {
  peerId: string
  at: number
  height: number
  head: string
}

/** One status change of one node, as the event log keeps it. */
export interface StatusTransition {
  peerId: string
  at: number
  from: string | null
  to: string
  reason: string
}

/** What one flush hands to the writer: nodes whose latest state must be written, and the rows to append. */
export interface PendingBatch {
  nodes: string[]
  samples: HeightSample[]
  transitions: StatusTransition[]
}

export interface WriteBehindOptions {
  intervalMs: number
  /** Writes a batch in one transaction; throws when nothing was written. */
  write: (batch: PendingBatch, now: number) => void
  /** Its timer and intervals (monotonic), and the stamps of what it writes (wall clock). */
  clock: Clock
  /** With nothing pending, still call `write` (with an empty batch) when the last write is this old. */
  idleWriteMs?: number
  maxPendingRows?: number
  onError?: (err: unknown) => void
}

export interface WriteBehindStats {
  flushes: number
  failures: number
  /** Rows given up on while the writer kept failing. */
  dropped: number
  lastFlushAt: number | undefined
  lastFlushMs: number | undefined
  lastError: string | undefined
}

/**
 * Write-behind: ingest only touches memory (a set of changed nodes, lists of
 * samples and transitions); a timer hands everything to `write` once per
 * interval. However fast heartbeats arrive, the disk sees one transaction per
 * interval, and a crash loses at most one interval. When a write fails the
 * batch goes back in line (bounded) and is tried again on the next tick.
 */
export class WriteBehind {
  private dirty = new Set<string>()
  private samples: HeightSample[] = []
  private transitions: StatusTransition[] = []
  private readonly options: WriteBehindOptions
  private timer: Timer | undefined
  private lastWriteAt: number
  readonly stats: WriteBehindStats = { flushes: 0, failures: 0, dropped: 0, lastFlushAt: undefined, lastFlushMs: undefined, lastError: undefined }

  constructor (options: WriteBehindOptions) {
    this.options = options
    this.lastWriteAt = options.clock.monotonic()
  }

  markNode (peerId: string): void {
    this.dirty.add(peerId)
  }

  addSample (sample: HeightSample): void {
    this.samples.push(sample)
  }

  addTransition (transition: StatusTransition): void {
    this.transitions.push(transition)
  }

  /** Drops everything pending about one node (it was removed: nothing about it may be written after). */
  forget (peerId: string): void {
    this.dirty.delete(peerId)
    this.samples = this.samples.filter((s) => s.peerId !== peerId)
    this.transitions = this.transitions.filter((t) => t.peerId !== peerId)
  }

  get pending (): { nodes: number, samples: number, transitions: number } {
    return { nodes: this.dirty.size, samples: this.samples.length, transitions: this.transitions.length }
  }

  start (): void {
    if (this.timer !== undefined) return
    this.timer = this.options.clock.every(this.options.intervalMs, () => { this.flush() }, { unref: true })
  }

  /** Stops the timer and writes what is left (a clean stop loses nothing). */
  stop (): void {
    this.timer?.cancel()
    this.timer = undefined
    this.flush()
  }

  /** Writes everything pending now; false when there was nothing to do or the write failed. */
  flush (): boolean {
    const started = this.options.clock.monotonic()
    const empty = this.dirty.size === 0 && this.samples.length === 0 && this.transitions.length === 0
    if (empty && (this.options.idleWriteMs === undefined || started - this.lastWriteAt < this.options.idleWriteMs)) return false
    const now = this.options.clock.wall()
    const batch: PendingBatch = { nodes: [...this.dirty], samples: this.samples, transitions: this.transitions }
    this.dirty = new Set()
    this.samples = []
    this.transitions = []
    try {
      this.options.write(batch, now)
    } catch (err) {
      this.requeue(batch)
      this.stats.failures++
      this.stats.lastError = err instanceof Error ? err.message : String(err)
      this.options.onError?.(err)
      return false
    }
    const done = this.options.clock.monotonic()
    this.lastWriteAt = started
    this.stats.flushes++
    this.stats.lastFlushAt = this.options.clock.wall()
    this.stats.lastFlushMs = done - started
    this.stats.lastError = undefined
    return true
  }

  /** Puts a failed batch back in front of what arrived since, dropping the oldest rows past the bound. */
  private requeue (batch: PendingBatch): void {
    for (const peerId of batch.nodes) this.dirty.add(peerId)
    this.samples = [...batch.samples, ...this.samples]
    this.transitions = [...batch.transitions, ...this.transitions]
    const max = this.options.maxPendingRows ?? MAX_PENDING_ROWS
    let excess = this.samples.length + this.transitions.length - max
    if (excess <= 0) return
    // Samples are a thinned chart; the event log matters more, so samples go first.
    const fromSamples = Math.min(excess, this.samples.length)
    this.samples.splice(0, fromSamples)
    excess -= fromSamples
    if (excess > 0) this.transitions.splice(0, excess)
    this.stats.dropped += fromSamples + Math.max(0, excess)
  }
}
