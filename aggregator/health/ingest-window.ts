import type { ComponentHealth } from '../../shared/health.ts'
import { formatDuration, roundToSeconds } from '../../shared/duration.ts'

/** Running totals of the ingest (monotonic, as IngestStats counts them). */
export interface IngestTotals {
  /** Frames folded into the fleet. */
  accepted: number
  /** Streams refused (a bad, oversized or missing frame ends its stream). */
  rejected: number
}

export interface IngestWindowOptions {
  windowMs: number
  affectedRatio: number
  minAttempts: number
  minSampleSpacingMs: number
}

interface Sample extends IngestTotals {
  at: number
}

/**
 * The ingest component: `affected` while the aggregator rejects a large share
 * of what it gets over a sliding window, `ready` otherwise. A few bad frames
 * never count (minimum attempts), and old trouble ages out of the window.
 *
 * Pure: the caller passes the clock and the totals. The window keeps the
 * newest sample at least `windowMs` old as its baseline, so the deltas cover
 * the window (to the sampling precision).
 */
export class IngestRejectWindow {
  private readonly options: IngestWindowOptions
  private readonly samples: Sample[] = []

  constructor (options: IngestWindowOptions) {
    this.options = options
  }

  sample (now: number, totals: IngestTotals): void {
    const last = this.samples.at(-1)
    if (last === undefined || now - last.at >= this.options.minSampleSpacingMs) {
      this.samples.push({ at: now, accepted: totals.accepted, rejected: totals.rejected })
    }
    const horizon = now - this.options.windowMs
    while (this.samples.length >= 2 && (this.samples[1] as Sample).at <= horizon) this.samples.shift()
  }

  evaluate (now: number, totals: IngestTotals): ComponentHealth {
    this.sample(now, totals)
    const base = this.samples[0] as Sample
    const accepted = totals.accepted - base.accepted
    const rejected = totals.rejected - base.rejected
    const attempts = accepted + rejected
    const rejectRatio = attempts === 0 ? 0 : rejected / attempts
    const details: Record<string, unknown> = {
      // The span actually covered: the window, or more when samples were sparse.
      window: formatDuration(roundToSeconds(Math.max(0, now - base.at))),
      accepted,
      rejected,
      rejectRatio: Math.round(rejectRatio * 1000) / 1000,
      totalAccepted: totals.accepted,
      totalRejected: totals.rejected,
    }
    if (attempts >= this.options.minAttempts && rejectRatio >= this.options.affectedRatio) {
      details.error = `rejected ${rejected} of ${attempts} frames and streams in the last ${String(details.window)} (threshold ${this.options.affectedRatio * 100}%)`
      return { status: 'affected', details }
    }
    return { status: 'ready', details }
  }

  /** How many samples are kept (bounded by the window over the spacing). */
  get size (): number {
    return this.samples.length
  }
}
