/**
 * go-filecoin's heartbeat, as its HeartbeatService wrote it on
 * fil/heartbeat/1.0.0: Go's json.Encoder on one long-lived stream, so one JSON
 * object per line, fields in struct order, e.g.
 *
 *   {"Head":"{ bafy2...a bafy2...b }","Height":1234,"Nickname":"n1","MinerAddress":"t01000"}\n
 *
 * Pure parsing only; the stream handling is in legacy-handler.ts.
 */
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { HEARTBEAT_VERSION, LIMITS, MAX_UINT } from '../../shared/protocol.ts'
import { StreamRejected } from './rejections.ts'

/** Shown as the agent version of legacy nodes. */
export const LEGACY_AGENT_VERSION = 'go-filecoin (fil/heartbeat/1.0.0)'

/**
 * How go-filecoin wrote "no miner address": address.Undef marshals as its
 * string form, "<empty>" (older trees: "empty"), or as "".
 */
const EMPTY_ADDRESS_FORMS = new Set(['', '<empty>', 'empty'])

/** Where a legacy line sits in its stream: the stream's own counter and start time stand in for seq and agent run. */
export interface LegacyLineContext {
  /** 0 for the first line of the stream. */
  index: number
  /** When the stream opened (aggregator clock): one stream is one run of the sender. */
  streamOpenedAt: number
  /** Arrival time (aggregator clock). */
  now: number
}

/**
 * One line (without its newline) to a Heartbeat, or a StreamRejected.
 * The legacy wire has no period, health, send time or stop announcement:
 * period 0 (the aggregator learns the rhythm), no components, `sentAt` =
 * arrival (skew is not shown for legacy nodes).
 */
export function parseLegacyLine (line: string, context: LegacyLineContext): Heartbeat {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    throw new StreamRejected('legacy_bad_json', `not JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StreamRejected('legacy_bad_json', 'a legacy heartbeat must be a JSON object')
  }
  const obj = value as Record<string, unknown>
  return {
    v: HEARTBEAT_VERSION,
    head: text(obj, 'Head', LIMITS.head),
    height: height(obj.Height),
    nickname: text(obj, 'Nickname', LIMITS.nickname),
    minerAddress: minerAddress(obj.MinerAddress),
    network: genesis(obj.GenesisCID),
    seq: context.index,
    sentAt: context.now,
    period: 0,
    health: { status: 'ready', components: {} },
    agent: { version: LEGACY_AGENT_VERSION, startedAt: context.streamOpenedAt },
    state: 'running',
  }
}

function text (obj: Record<string, unknown>, field: string, max: number): string {
  const value = obj[field]
  if (typeof value !== 'string') throw new StreamRejected('bad_type', `${field} must be a string`)
  if (value.length > max) throw new StreamRejected('too_long', `${field} is longer than ${max} characters`)
  return value
}

/** Go writes uint64; beyond 2^53 JavaScript cannot hold it exactly, so it is refused rather than rounded. */
function height (value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_UINT) {
    throw new StreamRejected('bad_type', 'Height must be an unsigned integer')
  }
  return value
}

function minerAddress (value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value !== 'string') throw new StreamRejected('bad_type', 'MinerAddress must be a string')
  if (value.length > LIMITS.minerAddress) throw new StreamRejected('too_long', `MinerAddress is longer than ${LIMITS.minerAddress} characters`)
  return EMPTY_ADDRESS_FORMS.has(value) ? '' : value
}

/** GenesisCID as go-cid marshals a Cid ({"/": "bafy..."}, null when undefined), or a plain string. */
function genesis (value: unknown): string {
  if (value === null || value === undefined) return ''
  let cid: unknown = value
  if (typeof value === 'object' && !Array.isArray(value)) cid = (value as Record<string, unknown>)['/']
  if (typeof cid !== 'string') throw new StreamRejected('bad_type', 'GenesisCID must be a CID ({"/": "..."}) or a string')
  if (cid.length > LIMITS.network) throw new StreamRejected('too_long', `GenesisCID is longer than ${LIMITS.network} characters`)
  return cid
}

const NEWLINE = 0x0a

/**
 * Splits a byte stream into lines, refusing any line longer than
 * `maxLineBytes` before buffering more of it. O(bytes): each byte is looked
 * at once (the partial line is kept as a list of chunks, joined once).
 */
export class LineSplitter {
  private readonly maxLineBytes: number
  private pending: Uint8Array[] = []
  private pendingBytes = 0

  constructor (maxLineBytes: number) {
    this.maxLineBytes = maxLineBytes
  }

  /** Yields each complete line in `chunk`, without its newline. */
  * push (chunk: Uint8Array): Generator<Uint8Array> {
    let start = 0
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start)
      const end = newline === -1 ? chunk.length : newline
      const piece = chunk.subarray(start, end)
      if (this.pendingBytes + piece.length > this.maxLineBytes) {
        throw new StreamRejected('frame_too_large', `a legacy heartbeat line is longer than ${this.maxLineBytes} bytes`)
      }
      if (newline === -1) {
        // Keep a copy: the transport may reuse the chunk's memory.
        this.pending.push(piece.slice())
        this.pendingBytes += piece.length
        return
      }
      yield this.take(piece)
      start = newline + 1
    }
  }

  /** Bytes of an unfinished line (a stream that ends here ended mid-line). */
  get buffered (): number {
    return this.pendingBytes
  }

  private take (last: Uint8Array): Uint8Array {
    if (this.pending.length === 0) return last
    const line = new Uint8Array(this.pendingBytes + last.length)
    let offset = 0
    for (const part of this.pending) {
      line.set(part, offset)
      offset += part.length
    }
    line.set(last, offset)
    this.pending = []
    this.pendingBytes = 0
    return line
  }
}
