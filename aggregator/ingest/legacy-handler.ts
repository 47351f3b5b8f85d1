import type { Connection, Stream, StreamHandler } from '@libp2p/interface'
import { byteStream } from '@libp2p/utils'
import { errorMessage } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import { RateLimitedLog } from '../../shared/rate-limited-log.ts'
import type { BeatAdmission } from './peer-admission.ts'
import {
  FIRST_FRAME_TIMEOUT_MS, LEGACY_IDLE_STREAM_MS, REFUSAL_LOG_LINES, REFUSAL_LOG_WINDOW_MS, REJECT_LOG_MEMORY,
} from '../constants.ts'
import type { FleetEvent } from '../fleet/types.ts'
import type { AdmissionCheck } from './v2-handler.ts'
import { IngestStats, OncePerPeer } from './stats.ts'
import { LegacyLineRejected, LineSplitter, parseLegacyLine } from './legacy-heartbeat.ts'

export interface LegacyIngestOptions {
  /** Longest line accepted (the frame limit); longer resets the stream. */
  maxLineBytes: number
  apply: (event: FleetEvent) => void
  stats: IngestStats
  logger: Logger
  admit?: AdmissionCheck
  now?: () => number
  /** A stream that sends no line within this is reset (default FIRST_FRAME_TIMEOUT_MS). */
  firstFrameTimeoutMs?: number
  /** Consulted per line before parsing (the per-peer beat budget, the node cap); accepts all when absent. */
  admitBeat?: (peerId: string) => BeatAdmission
}

/**
 * The fil/heartbeat/1.0.0 handler: go-filecoin nodes write newline-delimited
 * JSON on one long-lived stream. Each line is parsed and folded like any
 * heartbeat (protocol 'legacy'). A line that is too long, not JSON or of the
 * wrong shape resets that stream only; it is counted, and logged once per peer.
 */
export function createLegacyHeartbeatHandler (options: LegacyIngestOptions): StreamHandler {
  const { stats, logger } = options
  const now = options.now ?? Date.now
  const loggedPeers = new OncePerPeer(REJECT_LOG_MEMORY)
  // Peer ids are cheap: once per peer is not enough of a bound on its own.
  const logRate = new RateLimitedLog({ limit: REFUSAL_LOG_LINES, windowMs: REFUSAL_LOG_WINDOW_MS })
  const utf8 = new TextDecoder('utf-8', { fatal: true })

  return async (stream: Stream, connection: Connection): Promise<void> => {
    stats.streamsOpened++
    const peerId = connection.remotePeer.toString()
    const remoteAddr = connection.remoteAddr.toString()
    const streamOpenedAt = now()
    // A little over one line may be buffered between reads; the splitter enforces the line limit itself.
    const bytes = byteStream(stream, { maxBufferSize: 2 * options.maxLineBytes + 1024 })
    const lines = new LineSplitter(options.maxLineBytes)
    let index = 0
    let idleTimeoutMs = options.firstFrameTimeoutMs ?? FIRST_FRAME_TIMEOUT_MS
    try {
      while (true) {
        let chunk
        try {
          chunk = await bytes.read({ signal: AbortSignal.timeout(idleTimeoutMs) })
        } catch (err) {
          throw classifyReadError(err, idleTimeoutMs)
        }
        if (chunk === null) break
        for (const part of chunk) {
          for (const raw of lines.push(part)) {
            let line: string
            try {
              line = utf8.decode(raw)
            } catch {
              throw new LegacyLineRejected('legacy_bad_json', 'a legacy heartbeat line is not UTF-8')
            }
            // Go's decoder skips whitespace between values; json.Encoder never writes blank lines, but tolerate them.
            if (line.trim() === '') continue
            stats.received++
            const admission = options.admitBeat?.(peerId)
            if (admission !== undefined && admission.action !== 'accept') {
              if (admission.action === 'reset') throw new LegacyLineRejected(admission.reason, `line refused: ${admission.reason}`)
              stats.reject(admission.reason)
              continue
            }
            const heartbeat = parseLegacyLine(line, { index: index++, streamOpenedAt, now: now() })
            const refused = options.admit?.(heartbeat)
            if (refused !== undefined) throw new LegacyLineRejected(refused.reason, refused.message)
            stats.accepted++
            options.apply({ type: 'beat', peerId, heartbeat, protocol: 'legacy', remoteAddr })
            idleTimeoutMs = LEGACY_IDLE_STREAM_MS
          }
        }
      }
      // End of stream. Bytes after the last newline are an unfinished beat: dropped, nothing to fold.
      await stream.close().catch(() => {})
    } catch (err) {
      if (err instanceof EndOfStream) {
        await stream.close().catch(() => {})
        return
      }
      const rejected = err instanceof LegacyLineRejected ? err : new LegacyLineRejected('bad_frame', errorMessage(err))
      stats.reject(rejected.reason)
      if (loggedPeers.first(peerId)) {
        const admitted = logRate.admit(now())
        if (admitted.log) {
          logger.warn({ peer: peerId, remoteAddr, protocol: 'legacy', reason: rejected.reason, err: rejected.message, suppressed: admitted.suppressed }, 'rejected a legacy heartbeat stream (further rejections of this peer are counted, not logged)')
        }
      }
      stream.abort(rejected)
    }
  }
}

class EndOfStream extends Error {}

function classifyReadError (err: unknown, timeoutMs: number): Error {
  const name = (err as Error).name
  if (name === 'UnexpectedEOFError' || name === 'StreamStateError' || name === 'StreamResetError' || name === 'StreamAbortedError') return new EndOfStream()
  if (name === 'StreamBufferError') return new LegacyLineRejected('frame_too_large', errorMessage(err))
  if (name === 'TimeoutError' || name === 'AbortError') return new LegacyLineRejected('idle_stream', `no heartbeat line within ${timeoutMs} ms`)
  return new LegacyLineRejected('bad_frame', errorMessage(err))
}
