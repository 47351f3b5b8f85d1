// The agent's liveness probe of its connection to an aggregator. The heartbeat
// stream is one-way: beats are written into the socket's buffers and nothing
// answers them, so an aggregator that went silent without closing (a network
// partition, a stopped or hung host) would never show. Yamux's own PING frame
// does answer: a 12-byte frame the remote muxer returns by itself, with no
// stream to open and no protocol to negotiate, so the aggregator's cost per
// probe is one small frame in and one out (docs/delivery.md, docs/BENCHMARKS.md).
// js-yamux can send those pings itself (its keep-alive) but ignores a missing
// answer; this watcher waits for each answer for a bounded time and, when it
// does not come, aborts the connection, as libp2p's connection monitor would.
// Timers run on the injected clock, so tests drive them without sleeping.
import type { Clock, Timer } from '../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../shared/errors.ts'

/** What the watcher needs of a connection: yamux's PING and a way to end it. */
export interface PingableLink {
  /** Sends a PING and resolves on its answer; rejects with the signal's reason once it aborts. */
  ping: (options: { signal: AbortSignal }) => Promise<unknown>
  /** Ends the connection with this error (each stream on it ends with it too). */
  abort: (err: Error) => void
  /** 'open' while the connection is; anything else stops the watcher. */
  readonly status: string
}

export interface LinkWatchOptions {
  clock: Clock
  /** Time from one answered ping to the next ping. */
  intervalMs: number
  /** How long a ping may go unanswered before the connection is ended. */
  timeoutMs: number
}

/**
 * A ping went unanswered for `timeoutMs`. Named TimeoutError (as libp2p's own
 * timeouts are) so the stream's end is described as silence, not a close
 * (agent/dial-errors.ts).
 */
export class LinkPingTimeoutError extends HeartbeatError {
  readonly timeoutMs: number
  constructor (timeoutMs: number) {
    super(ErrorCodes.TIMEOUT, `no answer to the connection ping for ${timeoutMs} ms`)
    this.name = 'TimeoutError'
    this.timeoutMs = timeoutMs
  }
}

/**
 * Pings `link` every `intervalMs` (counted from the last answer, so pings
 * never overlap) and aborts it with a LinkPingTimeoutError when an answer
 * takes longer than `timeoutMs`. Stops by itself once the link is no longer
 * open or a ping fails for another reason (the connection already ended);
 * `cancel` stops it at once.
 */
export function watchLink (link: PingableLink, options: LinkWatchOptions): Timer {
  const { clock, intervalMs, timeoutMs } = options
  let next: Timer | undefined
  let cancelled = false

  const schedule = (): void => {
    if (cancelled || link.status !== 'open') return
    next = clock.timeout(intervalMs, () => { void probe() }, { unref: true })
  }

  const probe = async (): Promise<void> => {
    if (cancelled || link.status !== 'open') return
    const deadline = new AbortController()
    const timeout = new LinkPingTimeoutError(timeoutMs)
    const timer = clock.timeout(timeoutMs, () => { deadline.abort(timeout) }, { unref: true })
    try {
      await link.ping({ signal: deadline.signal })
    } catch (err) {
      if (err === timeout && !cancelled && link.status === 'open') link.abort(timeout)
      return
    } finally {
      timer.cancel()
    }
    schedule()
  }

  schedule()
  return {
    cancel: () => {
      cancelled = true
      next?.cancel()
    },
  }
}
