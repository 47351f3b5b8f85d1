import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import { ErrorCodes, HeartbeatError } from '../shared/errors.ts'
import type { Logger } from '../shared/log.ts'
import { RateLimitedLog } from '../shared/rate-limited-log.ts'
import { MAX_REFUSAL_FRAME_BYTES, readRefusalFrame, type Refusal } from '../shared/refusal.ts'
import { REFUSAL_LOG_PERIOD_MS } from './constants.ts'

/** How a heartbeat stream is read: frames no larger than a refusal, buffered no further (the agent only writes). */
export const REFUSAL_READ_LIMITS = { maxDataLength: MAX_REFUSAL_FRAME_BYTES, maxBufferSize: 2 * MAX_REFUSAL_FRAME_BYTES }

/**
 * What the aggregator writes on a heartbeat stream: nothing, or one refusal
 * just before it closes (docs/protocol.md, "Refusal"). Resolves with the
 * refusal, or undefined when the stream ends (or `signal` aborts) without one;
 * never throws. Frames that are not a refusal are skipped.
 */
export async function readRefusal (lp: LengthPrefixedStream<Stream>, signal: AbortSignal): Promise<Refusal | undefined> {
  try {
    while (!signal.aborted) {
      const refusal = readRefusalFrame((await lp.read({ signal })).subarray())
      if (refusal !== undefined) return refusal
    }
  } catch { /* the stream ended, was reset, or sent more than a refusal: no refusal to tell */ }
  return undefined
}

/** ERROR lines for refusals, at most one per REFUSAL_LOG_PERIOD_MS per service (a refused agent retries at its reconnect period). */
export class RefusalLog {
  private readonly rate = new RateLimitedLog({ limit: 1, windowMs: REFUSAL_LOG_PERIOD_MS })
  private readonly log: Logger
  private readonly now: () => number

  constructor (log: Logger, now: () => number) {
    this.log = log
    this.now = now
  }

  /**
   * Watches one stream: when the aggregator refuses it, logs why (bounded)
   * and closes the stream, which ends the run loop; the service then backs
   * off and retries as after any drop. Returns at once.
   */
  watch (link: { lp: LengthPrefixedStream<Stream>, stream: Stream, closed: AbortSignal, aggregator: string }): void {
    void readRefusal(link.lp, link.closed).then((refusal) => {
      if (refusal === undefined) return
      const why = `aggregator ${link.aggregator} refused this agent: ${refusal.message}`
      const admitted = this.rate.admit(this.now())
      if (admitted.log) this.log.error({ aggregator: link.aggregator, code: refusal.code, suppressed: admitted.suppressed }, why)
      link.stream.abort(new HeartbeatError(ErrorCodes.IDENTITY_IN_USE, why))
    })
  }
}
