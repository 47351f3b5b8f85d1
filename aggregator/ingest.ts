import type { Connection, Stream, StreamHandler } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { decodeFrameBody } from '../shared/codec.ts'
import { errorMessage } from '../shared/errors.ts'
import { type Heartbeat, validateHeartbeat } from '../shared/heartbeat.ts'
import type { Logger } from '../shared/log.ts'
import { FIRST_FRAME_TIMEOUT_MS, IDLE_STREAM_FLOOR_MS, IDLE_STREAM_PERIODS, REJECT_LOG_MEMORY } from './constants.ts'
import type { FleetEvent } from './fleet/types.ts'
import { type IngestRejectReason, IngestStats, OncePerPeer } from './ingest-stats.ts'

export interface IngestOptions {
  maxFrameBytes: number
  apply: (event: FleetEvent) => void
  stats: IngestStats
  logger: Logger
  /** Told how long each accepted frame took from read to fold (the ingest-time histogram). */
  observeIngestSeconds?: (seconds: number) => void
  /** Refuses a valid heartbeat this aggregator does not take (e.g. another network); the stream is reset. */
  admit?: AdmissionCheck
}

/** undefined to accept; otherwise why not (counted under `reason`). */
export type AdmissionCheck = (heartbeat: Heartbeat) => { reason: IngestRejectReason, message: string } | undefined

class StreamRejected extends Error {
  readonly reason: IngestRejectReason
  constructor (reason: IngestRejectReason, message: string) {
    super(message)
    this.name = 'StreamRejected'
    this.reason = reason
  }
}

/**
 * The /fil/heartbeat/2.0.0 handler: reads length-prefixed CBOR frames with a
 * size limit, validates each and folds it. A bad frame resets that stream
 * only; it is counted, and logged once per peer.
 */
export function createHeartbeatHandler (options: IngestOptions): StreamHandler {
  const { stats, logger } = options
  const loggedPeers = new OncePerPeer(REJECT_LOG_MEMORY)

  return async (stream: Stream, connection: Connection): Promise<void> => {
    stats.streamsOpened++
    const peerId = connection.remotePeer.toString()
    const remoteAddr = connection.remoteAddr.toString()
    const lp = lpStream(stream, { maxDataLength: options.maxFrameBytes })
    let idleTimeoutMs = FIRST_FRAME_TIMEOUT_MS
    try {
      while (true) {
        let body: Uint8Array
        try {
          body = (await lp.read({ signal: AbortSignal.timeout(idleTimeoutMs) })).subarray()
        } catch (err) {
          throw classifyReadError(err, idleTimeoutMs)
        }
        const readAt = performance.now()
        stats.received++
        let value: unknown
        try {
          value = decodeFrameBody(body)
        } catch (err) {
          throw new StreamRejected('invalid_cbor', errorMessage(err))
        }
        const result = validateHeartbeat(value)
        if (!result.ok) throw new StreamRejected(result.reason, result.message)
        const refused = options.admit?.(result.heartbeat)
        if (refused !== undefined) throw new StreamRejected(refused.reason, refused.message)
        stats.accepted++
        options.apply({ type: 'beat', peerId, heartbeat: result.heartbeat, protocol: 'v2', remoteAddr })
        options.observeIngestSeconds?.((performance.now() - readAt) / 1000)
        idleTimeoutMs = Math.max(IDLE_STREAM_FLOOR_MS, IDLE_STREAM_PERIODS * result.heartbeat.period)
      }
    } catch (err) {
      if (err instanceof EndOfStream) {
        await stream.close().catch(() => {})
        return
      }
      const rejected = err instanceof StreamRejected ? err : new StreamRejected('bad_frame', errorMessage(err))
      stats.reject(rejected.reason)
      if (loggedPeers.first(peerId)) {
        logger.warn({ peer: peerId, remoteAddr, reason: rejected.reason, err: rejected.message }, 'rejected a heartbeat stream (further rejections of this peer are counted, not logged)')
      }
      stream.abort(rejected)
    }
  }
}

class EndOfStream extends Error {}

function classifyReadError (err: unknown, timeoutMs: number): Error {
  const name = (err as Error).name
  if (name === 'UnexpectedEOFError' || name === 'StreamStateError' || name === 'StreamResetError' || name === 'StreamAbortedError') return new EndOfStream()
  if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') return new StreamRejected('frame_too_large', errorMessage(err))
  if (name === 'TimeoutError' || name === 'AbortError') return new StreamRejected('idle_stream', `no frame within ${timeoutMs} ms`)
  return new StreamRejected('bad_frame', errorMessage(err))
}
