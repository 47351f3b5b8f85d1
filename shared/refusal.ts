import { decodeFrameBody, encodeFrameBody, lengthPrefixed } from './codec.ts'
import { HEARTBEAT_VERSION } from './protocol.ts'

/**
 * The one frame an aggregator may write on a /fil/heartbeat/2.0.0 stream
 * (docs/protocol.md, "Refusal"): why it is about to close the stream, so the
 * agent can say so instead of "the stream closed". Sent at most once, just
 * before the aggregator closes; agents that do not read it lose nothing.
 */
export interface Refusal {
  /** Stable, for programs: `identity_in_use`. */
  code: RefusalCode
  /** For people: what is wrong and what to do. */
  message: string
}

export const REFUSAL_CODES = ['identity_in_use'] as const
export type RefusalCode = typeof REFUSAL_CODES[number]

/** A refusal frame's body is small; an agent reads no more than this from the aggregator. */
export const MAX_REFUSAL_FRAME_BYTES = 2048
/** Characters of a refusal's message kept (the rest is cut). */
export const MAX_REFUSAL_MESSAGE = 1000

/** The whole frame: unsigned-varint length + the CBOR map `{v: 2, refused: {code, message}}`. */
export function encodeRefusalFrame (refusal: Refusal): Uint8Array {
  return lengthPrefixed(encodeFrameBody({ v: HEARTBEAT_VERSION, refused: { code: refusal.code, message: refusal.message.slice(0, MAX_REFUSAL_MESSAGE) } }))
}

/**
 * A frame body from the aggregator as a refusal, or undefined when it is not
 * one (broken CBOR, another shape, an unknown code: a newer aggregator may
 * send more; the agent ignores what it does not know).
 */
export function readRefusalFrame (body: Uint8Array): Refusal | undefined {
  let value: unknown
  try {
    value = decodeFrameBody(body)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const refused = (value as { refused?: unknown }).refused
  if (typeof refused !== 'object' || refused === null) return undefined
  const { code, message } = refused as { code?: unknown, message?: unknown }
  if (typeof code !== 'string' || !(REFUSAL_CODES as readonly string[]).includes(code)) return undefined
  return { code: code as RefusalCode, message: typeof message === 'string' ? message.slice(0, MAX_REFUSAL_MESSAGE) : '' }
}
