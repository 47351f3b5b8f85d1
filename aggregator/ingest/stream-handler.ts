import type { Connection, Stream, StreamHandler } from '@libp2p/interface'
import { type Clock, systemClock, type Timer } from '../../shared/clock.ts'
import { ErrorCodes, errorMessage, HeartbeatError } from '../../shared/errors.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import type { Logger } from '../../shared/log.ts'
import type { Refusal } from '../../shared/refusal.ts'
import { FIRST_FRAME_TIMEOUT_MS, IDENTITY_REFUSAL_GRACE_MS } from '../constants.ts'
import type { FleetEvent, WireProtocol } from '../fleet/types.ts'
import type { BeatVerdict } from './beat-budget.ts'
import type { IdentityGuard } from './identity.ts'
import type { HeartbeatFilter } from './network-filter.ts'
import { RejectionLog, StreamRejected } from './rejections.ts'
import type { IngestStats } from './stats.ts'

/**
 * How one wire protocol turns a stream's bytes into heartbeats. Everything
 * around it (the idle timer, the beat budget, the network filter, counting,
 * folding, refusing) is the same for every protocol: createStreamHandler.
 */
export interface WireCodec<Item> {
  protocol: WireProtocol
  /** What one item is called in messages: "frame", "heartbeat line". */
  unit: string
  /** What a stream is called in the log: "heartbeat stream", "legacy heartbeat stream". */
  what: string
  /**
   * The state of one stream: `split` cuts arriving bytes into items (throwing
   * StreamRejected, or a FRAME_TOO_LARGE HeartbeatError, on bytes it cannot
   * cut), `decode` makes one item a heartbeat (throwing StreamRejected).
   */
  open: (stream: { openedAt: number, clock: Clock }) => {
    split: (chunk: Uint8Array) => Iterable<Item>
    decode: (item: Item) => Heartbeat
  }
  /** How long the stream may stay quiet after this heartbeat. */
  idleAfter: (heartbeat: Heartbeat) => number
  /** The frame that tells the agent why its stream is refused (docs/protocol.md); absent when the wire has none. */
  refusalFrame?: (refusal: Refusal) => Uint8Array
}

export interface StreamHandlerOptions {
  apply: (event: FleetEvent) => void
  stats: IngestStats
  logger: Logger
  clock?: Clock
  /** The beat budget, per frame before decoding; accepts all when absent. */
  spendBeat?: (peerId: string) => BeatVerdict
  /** The network filter, per heartbeat after decoding; takes all when absent. */
  filter?: HeartbeatFilter
  /** A stream that sends nothing within this is reset (default FIRST_FRAME_TIMEOUT_MS). */
  firstFrameTimeoutMs?: number
  /** Told how long each accepted item took from read to fold (the ingest-time histogram). */
  observeIngestSeconds?: (seconds: number) => void
  /** One identity, one node: refuses the newer of two agents on one peer id (identity.ts); every stream is taken when absent. */
  identity?: IdentityGuard
}

/**
 * A protocol handler: reads a stream's items as they arrive and folds each
 * valid heartbeat. A bad item resets that stream only; it is counted, and
 * logged once per peer.
 */
export function createStreamHandler<Item> (codec: WireCodec<Item>, options: StreamHandlerOptions): StreamHandler {
  const { stats } = options
  const clock = options.clock ?? systemClock
  const rejections = new RejectionLog({ stats, logger: options.logger, clock, what: codec.what })

  return async (stream: Stream, connection: Connection): Promise<void> => {
    stats.streamsOpened++
    const peerId = connection.remotePeer.toString()
    const remoteAddr = connection.remoteAddr.toString()
    const { split, decode } = codec.open({ openedAt: clock.wall(), clock })
    let idleTimeoutMs = options.firstFrameTimeoutMs ?? FIRST_FRAME_TIMEOUT_MS
    const items = readItems(stream, split, () => idleTimeoutMs, clock, codec.unit)
    // Once refused, the stream's frames are read and dropped until the agent closes it or the grace ends.
    let refused: Timer | undefined
    const seat = options.identity?.join(peerId, { id: connection.id, remoteAddr }, (refusal) => {
      refused ??= refuseStream(stream, codec, refusal, clock)
    })
    try {
      while (true) {
        let next: IteratorResult<Item>
        try {
          next = await items.next()
        } catch (err) {
          const rejected = classifyReadError(err)
          // The remote reset or the stream was aborted under us: over, nothing to count.
          if (rejected === undefined) break
          throw rejected
        }
        // The remote closed its side cleanly. (Legacy: bytes after the last newline are an unfinished beat, dropped.)
        if (next.done === true) break
        if (refused !== undefined) continue
        const readAt = clock.monotonic()
        stats.received++
        const verdict = options.spendBeat?.(peerId)
        if (verdict !== undefined && verdict.action !== 'accept') {
          if (verdict.action === 'reset') throw new StreamRejected(verdict.reason, `${codec.unit} refused: ${verdict.reason}`)
          stats.reject(verdict.reason)
          continue
        }
        const heartbeat = decode(next.value)
        const filtered = options.filter?.(heartbeat)
        if (filtered !== undefined) throw new StreamRejected(filtered.reason, filtered.message)
        if (seat !== undefined && !seat.admit(heartbeat)) continue
        stats.accepted++
        options.apply({ type: 'beat', peerId, heartbeat, protocol: codec.protocol, remoteAddr })
        options.observeIngestSeconds?.((clock.monotonic() - readAt) / 1000)
        idleTimeoutMs = codec.idleAfter(heartbeat)
      }
      await stream.close().catch(() => {})
    } catch (err) {
      const rejected = err instanceof StreamRejected ? err : new StreamRejected('bad_frame', errorMessage(err))
      rejections.reject(rejected, { peerId, remoteAddr, protocol: codec.protocol })
      stream.abort(rejected)
    } finally {
      seat?.leave()
      refused?.cancel()
      // Ends the reader (and its idle timer) however the loop ended: a rejected item leaves it suspended.
      await items.return(undefined).catch(() => {})
    }
  }
}

/**
 * Refuses a stream that is open and read: writes the codec's refusal frame
 * (if its wire has one) and closes the writing side, so the agent reads why;
 * resets the stream after the grace unless the agent closed it first. The
 * returned timer is cancelled when the stream ends.
 */
function refuseStream<Item> (stream: Stream, codec: WireCodec<Item>, refusal: Refusal, clock: Clock): Timer {
  const rejected = new StreamRejected('identity_in_use', refusal.message)
  const frame = codec.refusalFrame?.(refusal)
  if (frame !== undefined) {
    try {
      stream.send(frame)
      stream.close().catch(() => {})
    } catch { /* the stream is already closing: the reset below is all that is left */ }
  }
  return clock.timeout(frame === undefined ? 0 : IDENTITY_REFUSAL_GRACE_MS, () => { stream.abort(rejected) })
}

/**
 * The items of one stream, as they arrive: each chunk is cut in one pass,
 * however many items it carries (lpStream's list-based reads cost several
 * times more per frame). One idle timer per stream resets a stream that goes
 * quiet (libp2p's own per-stream inactivity timeout does nothing).
 */
async function * readItems<Item> (stream: Stream, split: (chunk: Uint8Array) => Iterable<Item>, idleTimeoutMs: () => number, clock: Clock, unit: string): AsyncGenerator<Item> {
  let timedOutAfter: number | undefined
  const idle = new IdleTimer(clock, idleTimeoutMs, (ms) => {
    timedOutAfter = ms
    stream.abort(new StreamRejected('idle_stream', `no ${unit} within ${ms} ms`))
  })
  try {
    for await (const chunk of stream) {
      // Streams deliver Uint8Arrays, or lists of them when data was queued.
      for (const item of split(chunk instanceof Uint8Array ? chunk : chunk.subarray())) {
        yield item
        idle.touch()
      }
    }
  } catch (err) {
    if (timedOutAfter !== undefined) throw new StreamRejected('idle_stream', `no ${unit} within ${timedOutAfter} ms`)
    throw err
  } finally {
    idle.cancel()
  }
}

/**
 * Fires `onIdle` once nothing was touched for `delay()` ms. A touch costs one
 * clock read: the timer is not re-armed per item; when it fires early (items
 * came meanwhile) it sleeps again for what is left. A changed delay re-arms it.
 */
class IdleTimer {
  private readonly clock: Clock
  private readonly delay: () => number
  private readonly onIdle: (ms: number) => void
  private last: number
  private armedFor: number
  private timer: Timer | undefined

  constructor (clock: Clock, delay: () => number, onIdle: (ms: number) => void) {
    this.clock = clock
    this.delay = delay
    this.onIdle = onIdle
    this.last = clock.monotonic()
    this.armedFor = delay()
    this.arm(this.armedFor)
  }

  touch (): void {
    this.last = this.clock.monotonic()
    const delay = this.delay()
    if (delay === this.armedFor) return
    this.armedFor = delay
    this.arm(delay)
  }

  cancel (): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  private arm (ms: number): void {
    this.timer?.cancel()
    this.timer = this.clock.timeout(ms, () => { this.check() })
  }

  private check (): void {
    const quiet = this.clock.monotonic() - this.last
    if (quiet >= this.armedFor) {
      this.timer = undefined
      this.onIdle(this.armedFor)
      return
    }
    this.arm(this.armedFor - quiet)
  }
}

/** Errors that mean the stream is simply over (the remote reset it, or it was aborted under us). */
const END_OF_STREAM = new Set(['UnexpectedEOFError', 'StreamStateError', 'StreamResetError', 'StreamAbortedError'])

/** Why reading failed, as a rejection; undefined when the stream is just over. */
function classifyReadError (err: unknown): StreamRejected | undefined {
  // Thrown by readItems (an idle stream) or a splitter (a line too long, not UTF-8).
  if (err instanceof StreamRejected) return err
  // Thrown by the FrameDecoder: a length prefix over the limit or broken.
  if (err instanceof HeartbeatError && err.code === ErrorCodes.FRAME_TOO_LARGE) return new StreamRejected('frame_too_large', errorMessage(err))
  if (END_OF_STREAM.has((err as Error).name)) return undefined
  return new StreamRejected('bad_frame', errorMessage(err))
}
