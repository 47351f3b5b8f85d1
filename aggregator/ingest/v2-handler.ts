import type { StreamHandler } from '@libp2p/interface'
import { decodeFrameBody, FrameDecoder, InvalidFrameError } from '../../shared/codec.ts'
import { errorMessage } from '../../shared/errors.ts'
import { type Heartbeat, validateHeartbeat } from '../../shared/heartbeat.ts'
import { encodeRefusalFrame } from '../../shared/refusal.ts'
import { IDLE_STREAM_CEILING_MS, IDLE_STREAM_FLOOR_MS, IDLE_STREAM_PERIODS } from '../constants.ts'
import { StreamRejected } from './rejections.ts'
import type { IngestRejectReason } from './stats.ts'
import { createStreamHandler, type StreamHandlerOptions, type WireCodec } from './stream-handler.ts'

/**
 * /fil/heartbeat/2.0.0, for createStreamHandler: length-prefixed CBOR frames
 * of at most `maxFrameBytes`, each decoded and validated (docs/protocol.md).
 */
export function v2Codec (maxFrameBytes: number): WireCodec<Uint8Array> {
  return {
    protocol: 'v2',
    unit: 'frame',
    what: 'heartbeat stream',
    open: () => {
      const decoder = new FrameDecoder(maxFrameBytes)
      return {
        split: (chunk) => decoder.push(chunk),
        decode: (body) => {
          const verdict = readHeartbeatFrame(body)
          if (!verdict.ok) throw new StreamRejected(verdict.reason, verdict.message)
          return verdict.heartbeat
        },
      }
    },
    // The period is the peer's word: bounded both ways (timers overflow past 2^31 ms).
    idleAfter: (heartbeat) => Math.min(IDLE_STREAM_CEILING_MS, Math.max(IDLE_STREAM_FLOOR_MS, IDLE_STREAM_PERIODS * heartbeat.period)),
    refusalFrame: encodeRefusalFrame,
  }
}

/**
 * The /fil/heartbeat/2.0.0 handler: reads length-prefixed CBOR frames with a
 * size limit, validates each and folds it. A bad frame resets that stream
 * only; it is counted, and logged once per peer.
 */
export function createHeartbeatHandler (options: StreamHandlerOptions & { maxFrameBytes: number }): StreamHandler {
  return createStreamHandler(v2Codec(options.maxFrameBytes), options)
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
