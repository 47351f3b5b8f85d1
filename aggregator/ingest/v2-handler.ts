import type { Connection, Stream, StreamHandler } from '@libp2p/interface'
import { decodeFrameBody, FrameDecoder, InvalidFrameError } from '../../shared/codec.ts'
import { ErrorCodes, errorMessage, HeartbeatError } from '../../shared/errors.ts'
import { type Heartbeat, validateHeartbeat } from '../../shared/heartbeat.ts'
import type { Logger } from '../../shared/log.ts'
import { RateLimitedLog } from '../../shared/rate-limited-log.ts'
import {
  FIRST_FRAME_TIMEOUT_MS, IDLE_STREAM_CEILING_MS, IDLE_STREAM_FLOOR_MS, IDLE_STREAM_PERIODS, REFUSAL_LOG_LINES,
  REFUSAL_LOG_WINDOW_MS, REJECT_LOG_MEMORY,
} from '../constants.ts'
import type { BeatAdmission } from './peer-admission.ts'
import type { FleetEvent } from '../fleet/types.ts'
import { type IngestRejectReason, IngestStats, OncePerPeer } from './stats.ts'

export interface IngestOptions {
  maxFrameBytes: number
  apply: (event: FleetEvent) => void
  stats: IngestStats
  logger: Logger
  /** Told how long each accepted frame took from read to fold (the ingest-time histogram). */
  observeIngestSeconds?: (seconds: number) => void
  /** Refuses a valid heartbeat this aggregator does not take (e.g. another network); the stream is reset. */
  admit?: AdmissionCheck
  /** A stream that sends no frame within this is reset (default FIRST_FRAME_TIMEOUT_MS). */
  firstFrameTimeoutMs?: number
  /** Consulted per frame before decoding (rate limits, node cap); accepts all when absent. */
  admitBeat?: (peerId: string) => BeatAdmission
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
 * The frame bodies of one heartbeat stream, as they arrive. Reads the stream's
 * chunks and splits them with a FrameDecoder (one pass per chunk, however many
 * frames it carries; lpStream's list-based reads cost several times more per
 * frame). One timer, refreshed per frame, resets a stream that goes quiet:
 * libp2p's own per-stream inactivity timeout does nothing.
 */
async function * frameBodies (stream: Stream, maxFrameBytes: number, idleTimeoutMs: () => number): AsyncGenerator<Uint8Array> {
  const decoder = new FrameDecoder(maxFrameBytes)
  let timedOutAfter: number | undefined
  let delay = idleTimeoutMs()
  const onIdle = (): void => {
    timedOutAfter = delay
    stream.abort(new StreamRejected('idle_stream', `no frame within ${delay} ms`))
  }
  let timer = setTimeout(onIdle, delay)
  try {
    for await (const chunk of stream) {
      // Streams deliver Uint8Arrays, or lists of them when data was queued.
      for (const body of decoder.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())) {
        yield body
        // Re-arm for the next frame; a timer's delay is fixed, so a new delay needs a new timer.
        const next = idleTimeoutMs()
        if (next === delay) {
          timer.refresh()
        } else {
          clearTimeout(timer)
          delay = next
          timer = setTimeout(onIdle, delay)
        }
      }
    }
  } catch (err) {
    if (timedOutAfter !== undefined) throw new StreamRejected('idle_stream', `no frame within ${timedOutAfter} ms`)
    throw err
  } finally {
    clearTimeout(timer)
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
  // Peer ids are cheap: once per peer is not enough of a bound on its own.
  const logRate = new RateLimitedLog({ limit: REFUSAL_LOG_LINES, windowMs: REFUSAL_LOG_WINDOW_MS })

  return async (stream: Stream, connection: Connection): Promise<void> => {
    stats.streamsOpened++
    const peerId = connection.remotePeer.toString()
    const remoteAddr = connection.remoteAddr.toString()
    let idleTimeoutMs = options.firstFrameTimeoutMs ?? FIRST_FRAME_TIMEOUT_MS
    const bodies = frameBodies(stream, options.maxFrameBytes, () => idleTimeoutMs)
    try {
      while (true) {
        let next: IteratorResult<Uint8Array>
        try {
          next = await bodies.next()
        } catch (err) {
          throw classifyReadError(err)
        }
        // The remote closed its side cleanly.
        if (next.done === true) throw new EndOfStream()
        const body = next.value
        const readAt = performance.now()
        stats.received++
        const admission = options.admitBeat?.(peerId)
        if (admission !== undefined && admission.action !== 'accept') {
          if (admission.action === 'reset') throw new StreamRejected(admission.reason, `frame refused: ${admission.reason}`)
          stats.reject(admission.reason)
          continue
        }
        const result = readHeartbeatFrame(body)
        if (!result.ok) throw new StreamRejected(result.reason, result.message)
        const refused = options.admit?.(result.heartbeat)
        if (refused !== undefined) throw new StreamRejected(refused.reason, refused.message)
        stats.accepted++
        options.apply({ type: 'beat', peerId, heartbeat: result.heartbeat, protocol: 'v2', remoteAddr })
        options.observeIngestSeconds?.((performance.now() - readAt) / 1000)
        // The period is the peer's word: bounded both ways (timers overflow past 2^31 ms).
        idleTimeoutMs = Math.min(IDLE_STREAM_CEILING_MS, Math.max(IDLE_STREAM_FLOOR_MS, IDLE_STREAM_PERIODS * result.heartbeat.period))
      }
    } catch (err) {
      if (err instanceof EndOfStream) {
        await stream.close().catch(() => {})
        return
      }
      const rejected = err instanceof StreamRejected ? err : new StreamRejected('bad_frame', errorMessage(err))
      stats.reject(rejected.reason)
      if (loggedPeers.first(peerId)) {
        const admitted = logRate.admit(Date.now())
        if (admitted.log) {
          logger.warn({ peer: peerId, remoteAddr, reason: rejected.reason, err: rejected.message, suppressed: admitted.suppressed }, 'rejected a heartbeat stream (further rejections of this peer are counted, not logged)')
        }
      }
      stream.abort(rejected)
    } finally {
      // Ends the reader (and its idle timer) however the loop ended: a rejected frame leaves it suspended.
      await bodies.return(undefined).catch(() => {})
    }
  }
}

export type FrameVerdict =
  | { ok: true, heartbeat: Heartbeat }
  | { ok: false, reason: IngestRejectReason, message: string }

/**
 * One frame body to a heartbeat, or the reason it is refused. Decoding errors
 * are verdicts; anything else thrown here is a bug (the handler still
 * catches it, and the property tests look for it).
 */
export function readHeartbeatFrame (body: Uint8Array): FrameVerdict {
  let value: unknown
  try {
    value = decodeFrameBody(body)
  } catch (err) {
    return { ok: false, reason: err instanceof InvalidFrameError ? err.reason : 'invalid_cbor', message: errorMessage(err) }
  }
  return validateHeartbeat(value)
}

class EndOfStream extends Error {}

function classifyReadError (err: unknown): Error {
  // Thrown by frameBodies: an idle stream.
  if (err instanceof StreamRejected) return err
  // Thrown by the FrameDecoder: a length prefix over the limit or broken.
  if (err instanceof HeartbeatError && err.code === ErrorCodes.FRAME_TOO_LARGE) return new StreamRejected('frame_too_large', errorMessage(err))
  // The remote reset or the stream was aborted under us: the stream is over, nothing to count.
  const name = (err as Error).name
  if (name === 'StreamStateError' || name === 'StreamResetError' || name === 'StreamAbortedError') return new EndOfStream()
  return new StreamRejected('bad_frame', errorMessage(err))
}
