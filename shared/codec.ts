import { Decoder, Encoder } from 'cbor-x'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import * as varint from 'uint8-varint'
import { checkPlainCbor, type CborGuardReason } from './cbor-guard.ts'
import { ErrorCodes, HeartbeatError } from './errors.ts'
import type { Heartbeat } from './heartbeat.ts'

/**
 * Plain CBOR only: cbor-x's record and structure extensions are off, so any
 * CBOR implementation (Go, Rust, Python) can speak the protocol.
 */
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true })

/** One heartbeat as a CBOR map (the frame body, without the length prefix). */
export function encodeHeartbeat (heartbeat: Heartbeat): Uint8Array {
  return encoder.encode(heartbeat)
}

/** A whole frame: unsigned-varint length prefix + CBOR body (for writers that bypass lpStream). */
export function encodeFrame (heartbeat: Heartbeat): Uint8Array {
  return lengthPrefixed(encodeHeartbeat(heartbeat))
}

/** Any other frame's body (the aggregator's refusal, shared/refusal.ts): the same plain CBOR. */
export function encodeFrameBody (value: Record<string, unknown>): Uint8Array {
  return encoder.encode(value)
}

/** A frame body with its unsigned-varint length prefix. */
export function lengthPrefixed (body: Uint8Array): Uint8Array {
  const prefix = varint.encode(body.length)
  const frame = new Uint8Array(prefix.length + body.length)
  frame.set(prefix, 0)
  frame.set(body, prefix.length)
  return frame
}

/** Why a frame body could not be decoded: broken CBOR, a tag, or nesting past the limit. */
export type FrameDecodeReason = 'invalid_cbor' | 'cbor_tag' | 'too_deep'

export class InvalidFrameError extends HeartbeatError {
  readonly reason: FrameDecodeReason
  constructor (reason: FrameDecodeReason, message: string) {
    super(ErrorCodes.INVALID_FRAME, message)
    this.name = 'InvalidFrameError'
    this.reason = reason
  }
}

const GUARD_REASONS: Record<CborGuardReason, FrameDecodeReason> = { cbor_tag: 'cbor_tag', too_deep: 'too_deep', malformed: 'invalid_cbor' }

/**
 * Decodes a frame body to an unvalidated value. The body must be plain CBOR
 * (see cbor-guard.ts) before cbor-x sees it; anything else is a typed error.
 */
export function decodeFrameBody (body: Uint8Array): unknown {
  const guard = checkPlainCbor(body)
  if (!guard.ok) throw new InvalidFrameError(GUARD_REASONS[guard.reason], `frame is not plain CBOR: ${guard.message}`)
  try {
    return decoder.decode(body)
  } catch (err) {
    throw new InvalidFrameError('invalid_cbor', `frame is not valid CBOR: ${(err as Error).message}`)
  }
}

/** Bytes one socket read may add on top of a partial frame. */
export const FRAME_DECODER_READ_ALLOWANCE = 1024 * 1024

/**
 * Splits a byte stream into frame bodies, refusing any frame over `maxFrameBytes`
 * (the aggregator's ingest handler reads libp2p stream chunks through it; so does the plain-TCP baseline).
 */
export class FrameDecoder {
  private readonly decoder: LengthPrefixedDecoder
  constructor (maxFrameBytes: number) {
    // The buffer holds one partial frame plus whatever one read delivered (a socket read can carry many frames).
    this.decoder = new LengthPrefixedDecoder({ maxDataLength: maxFrameBytes, maxBufferSize: maxFrameBytes + FRAME_DECODER_READ_ALLOWANCE })
  }

  /** Yields each complete frame body in `chunk`; throws a typed error on an oversized or broken prefix. */
  * push (chunk: Uint8Array): Generator<Uint8Array> {
    try {
      for (const list of this.decoder.decode(chunk)) yield list.subarray()
    } catch (err) {
      throw new HeartbeatError(ErrorCodes.FRAME_TOO_LARGE, `bad frame: ${(err as Error).message}`)
    }
  }
}
