import { backoffDelay, type BackoffPolicy, type RandomSource } from '../../shared/backoff.ts'
import type { Clock, Timer } from '../../shared/clock.ts'
import { errorMessage } from '../../shared/errors.ts'
import { EARLY_FLUSH_DELAY_MS, EARLY_FLUSH_SPACING_MS, MAX_PENDING_ROWS, STORE_RETRY_CAP_MS, STORE_RETRY_JITTER } from './constants.ts'

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
  /** Writes a batch in one transaction; rejects when nothing was written. */
  write: (batch: PendingBatch, now: number) => Promise<void>
  /** Its timer and intervals (monotonic), and the stamps of what it writes (wall clock). */
  clock: Clock
  /** With nothing pending, still call `write` (with an empty batch) when the last write is this old. */
  idleWriteMs?: number
  maxPendingRows?: number
  /** After a failure: wait this long (by consecutive failures) before the next attempt; from the interval to STORE_RETRY_CAP_MS by default. */
  retry?: BackoffPolicy
  /** Jitter of the retry delays (tests pin it). */
  random?: RandomSource
  onError?: (err: unknown) => void
}

export interface WriteBehindStats {
  flushes: number
  failures: number
  /** Failures since the last write that landed. */
  consecutiveFailures: number
  /** Rows given up on while the writer kept failing (the bound was hit). */
  dropped: number
  /** Wall clock of the last write that landed, for display. */
  lastFlushAt: number | undefined
  lastFlushMs: number | undefined
  lastError: string | undefined
}

/** How a store that refused a write (or an open) is tried again: from the flush interval, doubling to the cap (or the interval, if longer). */
export function storeRetryPolicy (flushIntervalMs: number): BackoffPolicy {
  return { initialMs: flushIntervalMs, base: 2, capMs: Math.max(flushIntervalMs, STORE_RETRY_CAP_MS), jitter: { kind: 'down', share: STORE_RETRY_JITTER } }
}

/**
 * Write-behind: ingest only touches memory (a set of changed nodes, lists of
 * samples and transitions); a timer hands everything to `write` once per
 * interval, one write at a time. However fast heartbeats arrive, the store
 * sees one transaction per interval, and a crash loses at most one interval.
 * When a write fails the batch goes back in line (bounded: past the bound
 * the oldest samples, then the oldest changes, are dropped and counted) and
 * is tried again after a backoff.
 */
export class WriteBehind {
  private dirty = new Set<string>()
  private samples: HeightSample[] = []
  private transitions: StatusTransition[] = []
  private readonly options: WriteBehindOptions
  private readonly retry: BackoffPolicy
  private timer: Timer | undefined
  private early: Timer | undefined
  private inFlight: Promise<boolean> | undefined
  /** Monotonic: the last write that landed, the start of the one running, the first failure of a failing streak. */
  private lastWriteMono: number
  private writingSinceMono: number | undefined
  private failingSinceMono: number | undefined
  /** Monotonic: no timed attempt before this (backoff after a failure). */
  private nextAttemptMono = 0
  /** Monotonic start of the last write attempt. */
  private lastStartMono = Number.NEGATIVE_INFINITY
  /** The wall stamp handed to the last write: the next is never before it (a wall clock stepped back keeps the run's marks in order). */
  private lastStamp = Number.NEGATIVE_INFINITY
  readonly stats: WriteBehindStats = { flushes: 0, failures: 0, consecutiveFailures: 0, dropped: 0, lastFlushAt: undefined, lastFlushMs: undefined, lastError: undefined }

  constructor (options: WriteBehindOptions) {
    this.options = options
    this.retry = options.retry ?? storeRetryPolicy(options.intervalMs)
    this.lastWriteMono = options.clock.monotonic()
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

  /**
   * Asks for a write before the interval ends (a node's connection moved:
   * other aggregators of a shared store should know at once). Coalesced: at
   * most one early write is waiting, and none starts within
   * EARLY_FLUSH_SPACING_MS of the last one.
   */
  soon (): void {
    if (this.early !== undefined || this.timer === undefined) return
    const { clock } = this.options
    const delay = Math.max(EARLY_FLUSH_DELAY_MS, this.lastStartMono + EARLY_FLUSH_SPACING_MS - clock.monotonic())
    this.early = clock.timeout(delay, () => {
      this.early = undefined
      this.tick()
    }, { unref: true })
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

  /** Monotonic times of the running write's start and of the failing streak's first failure, if any. */
  get waiting (): { writingSince: number | undefined, failingSince: number | undefined, lastWrite: number } {
    return { writingSince: this.writingSinceMono, failingSince: this.failingSinceMono, lastWrite: this.lastWriteMono }
  }

  start (): void {
    if (this.timer !== undefined) return
    this.timer = this.options.clock.every(this.options.intervalMs, () => { this.tick() }, { unref: true })
  }

  /** Stops the timer and writes what is left (a clean stop loses nothing that can be written). */
  async stop (): Promise<void> {
    this.timer?.cancel()
    this.timer = undefined
    this.early?.cancel()
    this.early = undefined
    await this.flush()
  }

  /** Resolves once no write is running. */
  async idle (): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight
  }

  /** Writes everything pending now, after any write already running; false when there was nothing to do or the write failed. */
  async flush (): Promise<boolean> {
    // With nothing running the write starts at once (synchronously), so idle() right after a timer tick waits for it.
    while (this.inFlight !== undefined) await this.inFlight
    const run = this.writeOnce()
    this.inFlight = run
    try {
      return await run
    } finally {
      if (this.inFlight === run) this.inFlight = undefined
    }
  }

  private tick (): void {
    if (this.inFlight !== undefined || this.options.clock.monotonic() < this.nextAttemptMono) return
    void this.flush()
  }

  private async writeOnce (): Promise<boolean> {
    const { clock } = this.options
    const startMono = clock.monotonic()
    const empty = this.dirty.size === 0 && this.samples.length === 0 && this.transitions.length === 0
    if (empty && (this.options.idleWriteMs === undefined || startMono - this.lastWriteMono < this.options.idleWriteMs)) return false
    this.lastStartMono = startMono
    const now = this.lastStamp = Math.max(clock.wall(), this.lastStamp)
    const batch: PendingBatch = { nodes: [...this.dirty], samples: this.samples, transitions: this.transitions }
    this.dirty = new Set()
    this.samples = []
    this.transitions = []
    this.writingSinceMono = startMono
    try {
      await this.options.write(batch, now)
    } catch (err) {
      this.requeue(batch)
      this.stats.failures++
      this.stats.consecutiveFailures++
      this.stats.lastError = errorMessage(err)
      this.failingSinceMono ??= startMono
      this.nextAttemptMono = clock.monotonic() + backoffDelay(this.retry, this.stats.consecutiveFailures, this.options.random ?? Math.random)
      this.options.onError?.(err)
      return false
    } finally {
      this.writingSinceMono = undefined
    }
    this.lastWriteMono = startMono
    this.failingSinceMono = undefined
    this.nextAttemptMono = 0
    this.stats.flushes++
    this.stats.consecutiveFailures = 0
    this.stats.lastFlushAt = clock.wall()
    this.stats.lastFlushMs = clock.monotonic() - startMono
    this.stats.lastError = undefined
    return true
  }

  /** Puts a failed batch back in front of what arrived since, dropping the oldest rows past the bound. */
  private requeue (batch: PendingBatch): void {
    for (const peerId of batch.nodes) this.dirty.add(peerId)
    this.samples = batch.samples.concat(this.samples)
    this.transitions = batch.transitions.concat(this.transitions)
    this.bound()
  }

  /** Keeps pending rows within the bound (checked on each failure; a write, timed or failing, comes at least every STORE_RETRY_CAP_MS): samples are a thinned chart, the event log matters more, so samples go first. */
  private bound (): void {
    const max = this.options.maxPendingRows ?? MAX_PENDING_ROWS
    let excess = this.samples.length + this.transitions.length - max
    if (excess <= 0) return
    const fromSamples = Math.min(excess, this.samples.length)
    this.samples.splice(0, fromSamples)
    excess -= fromSamples
    if (excess > 0) this.transitions.splice(0, excess)
    this.stats.dropped += fromSamples + Math.max(0, excess)
  }
}
