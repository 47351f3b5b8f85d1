import type { Clock } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import { RateLimitedLog } from '../../shared/rate-limited-log.ts'
import { REFUSAL_LOG_LINES, REFUSAL_LOG_WINDOW_MS, REJECT_LOG_MEMORY } from '../constants.ts'
import { type IngestRejectReason, type IngestStats, OncePerPeer } from './stats.ts'

/** A heartbeat stream refused, on either protocol; `reason` is what it is counted under. */
export class StreamRejected extends HeartbeatError {
  readonly reason: IngestRejectReason
  constructor (reason: IngestRejectReason, message: string) {
    super(ErrorCodes.STREAM_REJECTED, message)
    this.name = 'StreamRejected'
    this.reason = reason
  }
}

export interface RejectionLogOptions {
  stats: IngestStats
  logger: Logger
  clock: Clock
  /** Said in the log line: "heartbeat stream", "legacy heartbeat stream". */
  what: string
}

/**
 * What happens to every refused stream: counted per reason, and logged once
 * per peer, at a bounded rate (peer ids are cheap: once per peer alone is not
 * a bound).
 */
export class RejectionLog {
  private readonly options: RejectionLogOptions
  private readonly loggedPeers = new OncePerPeer(REJECT_LOG_MEMORY)
  private readonly logRate = new RateLimitedLog({ limit: REFUSAL_LOG_LINES, windowMs: REFUSAL_LOG_WINDOW_MS })

  constructor (options: RejectionLogOptions) {
    this.options = options
  }

  reject (rejected: StreamRejected, peer: { peerId: string, remoteAddr: string, protocol: string }): void {
    const { stats, logger, clock, what } = this.options
    stats.reject(rejected.reason)
    if (!this.loggedPeers.first(peer.peerId)) return
    const admitted = this.logRate.admit(clock.monotonic())
    if (!admitted.log) return
    logger.warn({ peer: peer.peerId, remoteAddr: peer.remoteAddr, protocol: peer.protocol, reason: rejected.reason, err: rejected.message, suppressed: admitted.suppressed },
      `rejected a ${what} (further rejections of this peer are counted, not logged)`)
  }
}
