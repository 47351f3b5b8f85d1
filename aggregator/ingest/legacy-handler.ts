import { LEGACY_IDLE_STREAM_MS } from '../constants.ts'
import { LineSplitter, parseLegacyLine } from './legacy-heartbeat.ts'
import { StreamRejected } from './rejections.ts'
import type { WireCodec } from './stream-handler.ts'

/**
 * fil/heartbeat/1.0.0, for createStreamHandler: go-filecoin nodes write
 * newline-delimited JSON on one long-lived stream (docs/protocol.md). Each
 * line is parsed and folded like any heartbeat (protocol 'legacy'). A line
 * longer than `maxLineBytes` (the frame limit), not UTF-8, not JSON or of the
 * wrong shape resets that stream only.
 */
export function legacyCodec (maxLineBytes: number): WireCodec<string> {
  return {
    protocol: 'legacy',
    unit: 'heartbeat line',
    what: 'legacy heartbeat stream',
    open: ({ openedAt, clock }) => {
      const lines = new LineSplitter(maxLineBytes)
      const utf8 = new TextDecoder('utf-8', { fatal: true })
      let index = 0
      return {
        split: function * (chunk) {
          for (const raw of lines.push(chunk)) {
            let line: string
            try {
              line = utf8.decode(raw)
            } catch {
              throw new StreamRejected('legacy_bad_json', 'a legacy heartbeat line is not UTF-8')
            }
            // Go's decoder skips whitespace between values; json.Encoder never writes blank lines, but tolerate them.
            if (line.trim() !== '') yield line
          }
        },
        decode: (line) => parseLegacyLine(line, { index: index++, streamOpenedAt: openedAt, now: clock.wall() }),
      }
    },
    idleAfter: () => LEGACY_IDLE_STREAM_MS,
  }
}
