import type { Clock } from '../../shared/clock.ts'
import { RATE_LIMITER_MAX_PEERS } from '../constants.ts'
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './limits.ts'
import type { PeerAdmission } from './peer-admission.ts'
import { BeatRateLimiter } from './rate-limit.ts'
import type { IngestRejectReason } from './stats.ts'

/** What the ingest does with one frame, decided before it is decoded. */
export type BeatVerdict =
  | { action: 'accept' }
  /** Drop this frame, keep the stream. */
  | { action: 'drop', reason: IngestRejectReason }
  /** Reset the stream (and, for a flooder, the ingest hangs up on the peer). */
  | { action: 'reset', reason: IngestRejectReason }

/** What the budget needs to know of the fleet: whether the peer is a node already, and how many there are. */
export interface FleetCount {
  known: boolean
  size: number
}

export interface BeatBudgetOptions {
  limits?: Partial<IngestLimits>
  /** Where a flooder goes (the penalty box the connection gater consults). */
  admission: PeerAdmission
  clock: Clock
}

/**
 * The beat budget: per frame, before decoding, whether a peer may spend one
 * more beat. A new peer beyond the node cap is refused; each peer has a token
 * bucket (rate and burst) and excess beats are dropped; a peer that keeps
 * sending past its budget is a flooder: reset, penalized, hung up on.
 */
export class BeatBudget {
  readonly rates: BeatRateLimiter
  private readonly maxNodes: number
  private readonly admission: PeerAdmission
  private readonly clock: Clock

  constructor (options: BeatBudgetOptions) {
    const limits = { ...DEFAULT_INGEST_LIMITS, ...options.limits }
    this.maxNodes = limits.maxNodes
    this.admission = options.admission
    this.clock = options.clock
    this.rates = new BeatRateLimiter({
      ratePerSecond: limits.beatRatePerSecond,
      burst: limits.beatBurst,
      floodDrops: limits.floodDrops,
      floodWindowMs: limits.floodWindowMs,
      maxTrackedPeers: RATE_LIMITER_MAX_PEERS,
    })
  }

  /** Spends one beat of `peerId`'s budget, or says why not. */
  spend (peerId: string, fleet: FleetCount): BeatVerdict {
    if (!fleet.known && fleet.size >= this.maxNodes) return { action: 'reset', reason: 'fleet_full' }
    // Monotonic: a wall clock stepped back must not starve every peer's bucket.
    const decision = this.rates.check(peerId, this.clock.monotonic())
    if (decision === 'accept') return { action: 'accept' }
    if (decision === 'drop') return { action: 'drop', reason: 'rate_limited' }
    this.admission.penalize(peerId)
    return { action: 'reset', reason: 'flooding' }
  }

  /** Peers whose budget is tracked (bounded). */
  get size (): number {
    return this.rates.size
  }
}
