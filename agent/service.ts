import type { Libp2p, Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { encodeHeartbeat } from '../shared/codec.ts'
import type { AgentState, Heartbeat } from '../shared/heartbeat.ts'
import type { Logger } from '../shared/log.ts'
import { HEARTBEAT_PROTOCOL } from '../shared/protocol.ts'
import { sleep, withTimeout } from '../shared/abort.ts'
import { errorMessage } from '../shared/errors.ts'
import type { Target } from '../shared/target.ts'
import { FINAL_BEAT_TIMEOUT_MS } from './constants.ts'
import { describeDialError } from './dial-errors.ts'
import { EscalatingFailureLog } from './failure-log.ts'

export interface HeartbeatServiceOptions {
  /** Name in logs: "primary", "alerts". */
  name: string
  libp2p: Libp2p
  target: Target
  beatPeriodMs: number
  reconnectPeriodMs: number
  errorLogPeriodMs: number
  dialTimeoutMs: number
  sendTimeoutMs: number
  /** Builds the next heartbeat (seq is this service's own counter). */
  makeBeat: (seq: number, state: AgentState, periodMs: number) => Heartbeat
  logger: Logger
  now?: () => number
}

export interface HeartbeatServiceStatus {
  name: string
  target: string
  connected: boolean
  beatsSent: number
  connectFailures: number
  lastSentAt: number | undefined
  failingSince: number | undefined
}

/**
 * go-filecoin's HeartbeatService, done properly: a connect loop that tries at
 * start and then on the reconnect ticker, and a run loop that writes a beat
 * every beat period on one long-lived stream. A failed send drops the
 * connection and returns to the connect loop; beats are never queued.
 */
export class HeartbeatService {
  private readonly options: HeartbeatServiceOptions
  private readonly log: Logger
  private readonly now: () => number
  private readonly failureLog: EscalatingFailureLog
  private readonly stopController = new AbortController()
  private loopDone: Promise<void> | undefined
  private stream: Stream | undefined
  private seq = 0
  private beatsSent = 0
  private connectFailures = 0
  private lastSentAt: number | undefined
  private failingSince: number | undefined

  constructor (options: HeartbeatServiceOptions) {
    this.options = options
    this.now = options.now ?? Date.now
    this.log = options.logger.child({ service: options.name, target: options.target.text })
    this.failureLog = new EscalatingFailureLog(options.errorLogPeriodMs)
  }

  start (): void {
    this.loopDone ??= this.connectLoop()
  }

  /** Sends a last beat with state "stopping" when connected, then closes. */
  async stop (): Promise<void> {
    this.stopController.abort()
    await this.loopDone
  }

  status (): HeartbeatServiceStatus {
    return {
      name: this.options.name,
      target: this.options.target.text,
      connected: this.stream?.status === 'open',
      beatsSent: this.beatsSent,
      connectFailures: this.connectFailures,
      lastSentAt: this.lastSentAt,
      failingSince: this.failingSince,
    }
  }

  private get stopping (): boolean {
    return this.stopController.signal.aborted
  }

  private async connectLoop (): Promise<void> {
    const startedAt = this.now()
    const period = this.options.reconnectPeriodMs
    while (!this.stopping) {
      let lp: LengthPrefixedStream<Stream> | undefined
      try {
        lp = await this.connect()
      } catch (err) {
        if (this.stopping) break
        this.connectFailures++
        const decision = this.failureLog.onFailure(this.now())
        this.failingSince ??= this.now()
        const reason = describeDialError(err, this.options.target.text)
        this.log[decision.level]({ failingForMs: decision.failingForMs, err: errorMessage(err) },
          `heartbeat service failed to connect for ${formatSeconds(decision.failingForMs)}: ${reason}`)
      }
      if (lp !== undefined) {
        this.failureLog.onSuccess()
        this.failingSince = undefined
        await this.run(lp)
      }
      if (this.stopping) break
      // Fixed-phase ticker, like Go's time.Ticker: the next tick after now.
      const elapsed = this.now() - startedAt
      const wait = period - (elapsed % period)
      await sleep(wait, this.stopController.signal)
    }
  }

  private async connect (): Promise<LengthPrefixedStream<Stream>> {
    const { libp2p, target } = this.options
    this.log.debug('heartbeat service attempting to connect')
    const signal = withTimeout(this.options.dialTimeoutMs, this.stopController.signal)
    const stream = await libp2p.dialProtocol(target.multiaddr, HEARTBEAT_PROTOCOL, { signal })
    this.stream = stream
    this.log.info({ peer: target.peerId.toString() }, 'heartbeat stream open')
    return lpStream(stream)
  }

  /** Beats until a send fails, the stream closes, or the service stops. */
  private async run (lp: LengthPrefixedStream<Stream>): Promise<void> {
    const stream = this.stream as Stream
    const closed = new AbortController()
    const onClose = (): void => { closed.abort() }
    stream.addEventListener('close', onClose, { once: true })
    const wake = AbortSignal.any([closed.signal, this.stopController.signal])
    const startedAt = this.now()
    const period = this.options.beatPeriodMs
    try {
      while (!this.stopping && !closed.signal.aborted) {
        await this.send(lp, 'running', this.options.sendTimeoutMs)
        const elapsed = this.now() - startedAt
        await sleep(period - (elapsed % period), wake)
      }
      if (this.stopping && !closed.signal.aborted) {
        await this.send(lp, 'stopping', FINAL_BEAT_TIMEOUT_MS)
        await stream.close({ signal: AbortSignal.timeout(FINAL_BEAT_TIMEOUT_MS) })
        this.log.info('sent the last heartbeat and closed the stream')
      } else if (closed.signal.aborted) {
        this.log.warn('heartbeat stream closed by the aggregator; reconnecting')
      }
    } catch (err) {
      if (this.stopping) {
        stream.abort(err as Error)
        return
      }
      this.log.warn({ err: errorMessage(err) }, 'disconnecting from aggregator, failed to send heartbeat')
      stream.abort(err as Error)
      // As go-filecoin does: a failed send closes the whole connection, so the next dial starts clean.
      await this.options.libp2p.hangUp(this.options.target.peerId, { signal: AbortSignal.timeout(1000) }).catch(() => {})
    } finally {
      stream.removeEventListener('close', onClose)
      this.stream = undefined
    }
  }

  private async send (lp: LengthPrefixedStream<Stream>, state: AgentState, timeoutMs: number): Promise<void> {
    const beat = this.options.makeBeat(this.seq++, state, this.options.beatPeriodMs)
    await lp.write(encodeHeartbeat(beat), { signal: AbortSignal.timeout(timeoutMs) })
    this.beatsSent++
    this.lastSentAt = this.now()
    this.log.trace({ seq: beat.seq, height: beat.height }, 'heartbeat sent')
  }
}

function formatSeconds (ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`
}
