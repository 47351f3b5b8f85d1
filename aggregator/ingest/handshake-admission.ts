/**
 * Handshake admission: how many inbound handshakes (TCP accepted, Noise and
 * Yamux still to come) may be under way at once, decided at TCP accept, before
 * any crypto. The pure core; peer-admission.ts applies it in the connection
 * gater.
 *
 * An agent gives up on a handshake after its dial timeout (5 s) and retries
 * after its backoff. A handshake admitted behind more work than the event
 * loop can finish in that time is paid for in part (the responder's key
 * exchange and signature come first) and then abandoned: wasted work, at the
 * moment work is scarcest, a restarted aggregator taking its whole fleet back
 * (docs/BENCHMARKS.md §6). So a new handshake is admitted only while those
 * already under way can be finished within `waitBudgetMs`, judged by how fast
 * handshakes have been completing (Little's law: the wait is what is in flight
 * over the completion rate). A refused one costs an accept and a close; the
 * agent backs off (full jitter) and is admitted when the queue is shorter.
 *
 * The limit adapts to the machine: a quiet host with a free core completes a
 * few hundred handshakes a second and admits hundreds at once; a busy one
 * fewer. It never goes below `minInFlight` (a cold start with nothing
 * completed yet, a handful of agents) nor above `maxInFlight` (the configured
 * cap, --max-pending-connections).
 */
export interface HandshakeAdmissionOptions {
  /** An admitted handshake should be done within this, ms (half the agents' dial timeout). */
  waitBudgetMs: number
  /** Always admitted: this many at once, whatever the rate. */
  minInFlight: number
  /** Never more at once than this. */
  maxInFlight: number
  /** Completions are counted over this sliding window, ms. */
  rateWindowMs: number
}

/** What admission did so far (the admin endpoint's `handshakes`). */
export interface HandshakeCounts {
  /** Admitted at TCP accept. */
  admitted: number
  /** Upgraded: encrypted, muxed, ready for streams. */
  completed: number
  /** Admitted, then closed before completing: the agent gave up, or the handshake failed. */
  abandoned: number
  /** Refused at TCP accept because the handshakes under way already fill the budget. */
  refused: number
}

/** Buckets of the sliding window of completions. */
const RATE_BUCKETS = 8

export class HandshakeAdmission {
  private readonly options: HandshakeAdmissionOptions
  private inFlight = 0
  private readonly counts: HandshakeCounts = { admitted: 0, completed: 0, abandoned: 0, refused: 0 }
  /** Completions per bucket of the window, and the bucket each slot last counted. */
  private readonly buckets = new Array<number>(RATE_BUCKETS).fill(0)
  private readonly bucketIds = new Array<number>(RATE_BUCKETS).fill(-1)

  constructor (options: HandshakeAdmissionOptions) {
    if (!(options.minInFlight >= 1) || !(options.maxInFlight >= options.minInFlight)) {
      throw new RangeError('handshake admission needs 1 <= minInFlight <= maxInFlight')
    }
    this.options = options
  }

  /** Handshakes admitted now: at least minInFlight, at most maxInFlight, else what completes within the budget. */
  limit (now: number): number {
    const byRate = Math.floor(this.completionsPerSecond(now) * this.options.waitBudgetMs / 1000)
    return Math.min(this.options.maxInFlight, Math.max(this.options.minInFlight, byRate))
  }

  /** At TCP accept: true (and counted as under way) when the handshake may start. */
  tryBegin (now: number): boolean {
    if (this.inFlight >= this.limit(now)) {
      this.counts.refused++
      return false
    }
    this.inFlight++
    this.counts.admitted++
    return true
  }

  /** An admitted handshake completed (upgraded). */
  complete (now: number): void {
    if (!this.release()) return
    this.counts.completed++
    const width = this.options.rateWindowMs / RATE_BUCKETS
    const id = Math.floor(now / width)
    const slot = id % RATE_BUCKETS
    if (this.bucketIds[slot] !== id) {
      this.bucketIds[slot] = id
      this.buckets[slot] = 0
    }
    this.buckets[slot]!++
  }

  /** An admitted handshake ended without completing. */
  abandon (): void {
    if (this.release()) this.counts.abandoned++
  }

  get underWay (): number {
    return this.inFlight
  }

  snapshot (now: number): HandshakeCounts & { underWay: number, limit: number, completedPerSecond: number } {
    return { ...this.counts, underWay: this.inFlight, limit: this.limit(now), completedPerSecond: Math.round(this.completionsPerSecond(now)) }
  }

  /** Completions per second over the window (buckets older than the window count for nothing). */
  private completionsPerSecond (now: number): number {
    const width = this.options.rateWindowMs / RATE_BUCKETS
    const current = Math.floor(now / width)
    let sum = 0
    for (let i = 0; i < RATE_BUCKETS; i++) {
      const id = this.bucketIds[i]!
      if (id > current - RATE_BUCKETS && id <= current) sum += this.buckets[i]!
    }
    return sum / (this.options.rateWindowMs / 1000)
  }

  /** False when nothing was under way (an end without a beginning counts for nothing). */
  private release (): boolean {
    if (this.inFlight === 0) return false
    this.inFlight--
    return true
  }
}
