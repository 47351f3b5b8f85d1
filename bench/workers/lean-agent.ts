// A simulated agent for the load generator: its own Ed25519 identity, its own
// TCP connection, the real Noise handshake and the real Yamux muxer, and
// /fil/heartbeat/2.0.0 spoken as the real agent speaks it (multistream-select
// on one long-lived stream, one length-prefixed CBOR frame per beat, a
// realistic heartbeat with seq, period and health, a last "stopping" beat),
// but without a libp2p node per agent. Reconnects with the real agent's
// backoff (TargetSelector, full jitter capped by the reconnect period).
//
// It owns no timers: the worker (bench/workers/swarm.ts) drives beats, pings
// and dials from one scheduler for all its agents.
import type { Stream } from '@libp2p/interface'
import { backoffPolicy } from '../../agent/service.ts'
import { DEFAULT_DIAL_TIMEOUT_MS, FINAL_BEAT_TIMEOUT_MS, LINK_PING_TIMEOUT_MS } from '../../agent/constants.ts'
import { keyOf, TargetSelector } from '../../agent/target-selector.ts'
import type { WeightedTarget } from '../../agent/targets.ts'
import type { RandomSource } from '../../agent/backoff.ts'
import { encodeFrame } from '../../shared/codec.ts'
import type { AgentState, Heartbeat } from '../../shared/heartbeat.ts'
import { HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import { dialLean, type LeanConnection, type LeanIdentity } from '../../test/support/lean-connection.ts'

/** What the lean connection's muxer is: js-yamux, whose PING the link ping sends. */
interface PingingMuxer {
  ping: (options: { signal: AbortSignal }) => Promise<number>
}

export interface LeanAgentOptions {
  identity: LeanIdentity
  target: WeightedTarget
  beatPeriodMs: number
  reconnectPeriodMs: number
  makeBeat: (seq: number, state: AgentState, periodMs: number) => Heartbeat
  now: () => number
  random?: RandomSource
  dialTimeoutMs?: number
  /** Told when a connection ends (remote close, failed send or ping): the worker queues the agent to dial again. */
  onDown: (agent: LeanAgent) => void
}

export type LeanAgentStatus = 'idle' | 'dialing' | 'connected' | 'stopped'

/**
 * Why a connection attempt failed, in the words that matter under a storm:
 * refused (nothing listening yet), reset (the aggregator closed it during the
 * handshake: an admission refusal), timeout (the dial timeout passed: work
 * the aggregator may have done for nothing), other.
 */
export type DialFailure = 'refused' | 'reset' | 'timeout' | 'other'
export const DIAL_FAILURES: readonly DialFailure[] = ['refused', 'reset', 'timeout', 'other']

export function classifyDialFailure (err: unknown, timedOut: boolean): DialFailure {
  if (timedOut) return 'timeout'
  const text = `${(err as Error)?.name ?? ''} ${(err as NodeJS.ErrnoException)?.code ?? ''} ${(err as Error)?.message ?? String(err)}`
  if (/ECONNREFUSED/.test(text)) return 'refused'
  if (/ECONNRESET|EPIPE|end of input|ended|closed|reset/i.test(text)) return 'reset'
  return 'other'
}

interface Link {
  conn: LeanConnection
  stream: Stream
}

export class LeanAgent {
  readonly peerId: string
  status: LeanAgentStatus = 'idle'
  beatsSent = 0
  connectFailures = 0
  /** Failed attempts by cause (classifyDialFailure). */
  readonly failures: Record<DialFailure, number> = { refused: 0, reset: 0, timeout: 0, other: 0 }
  lastError: string | undefined
  /** Incremented per connection: a scheduler entry from an older connection is stale. */
  generation = 0
  private readonly options: LeanAgentOptions
  private readonly selector: TargetSelector
  private readonly host: string
  private readonly port: number
  private link: Link | undefined
  private seq = 0

  constructor (options: LeanAgentOptions) {
    this.options = options
    this.peerId = options.identity.peerId.toString()
    this.selector = new TargetSelector([options.target], {
      policy: backoffPolicy(options.reconnectPeriodMs),
      stableAfterMs: options.reconnectPeriodMs,
      random: options.random,
    })
    const parts = options.target.target.multiaddr.toString().split('/')
    this.host = parts[2]!
    this.port = Number(parts[4])
  }

  /** Whether a connection attempt may start at `now` (the backoff after failures allows it). */
  mayAttempt (now: number): boolean {
    return this.selector.next(now).at <= now
  }

  /**
   * One connection attempt: dial, upgrade, negotiate the heartbeat protocol,
   * send the first beat. On failure the backoff grows; when an established
   * connection later ends, `onDown` is told.
   */
  async connect (): Promise<boolean> {
    if (this.status !== 'idle') return false
    this.status = 'dialing'
    const key = keyOf(this.options.target)
    const signal = AbortSignal.timeout(this.options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS)
    let conn: LeanConnection | undefined
    try {
      conn = await dialLean(this.options.identity, { host: this.host, port: this.port, peerId: this.options.target.target.peerId }, signal)
      const stream = await conn.openStream(HEARTBEAT_PROTOCOL, signal)
      if ((this.status as LeanAgentStatus) === 'stopped') {
        conn.abort(new Error('stopped'))
        return false
      }
      this.link = { conn, stream }
      this.generation++
      this.status = 'connected'
      this.lastError = undefined
      this.selector.onConnected(key, this.options.now())
      const generation = this.generation
      const down = (): void => {
        if (this.generation === generation) this.drop('the aggregator closed the connection')
      }
      conn.closed.addEventListener('abort', down, { once: true })
      stream.addEventListener('close', down, { once: true })
      this.beat()
      return this.status === 'connected'
    } catch (err) {
      conn?.abort(err as Error)
      if ((this.status as LeanAgentStatus) === 'stopped') return false
      this.status = 'idle'
      this.connectFailures++
      this.failures[classifyDialFailure(err, signal.aborted)]++
      this.lastError = (err as Error).message
      this.selector.onAttemptFailed(key, this.options.now())
      return false
    }
  }

  /**
   * Sends one beat now. A write the transport has not taken since the last
   * beat is a failed send (the real agent gives a write 5 s): the connection
   * is dropped and the agent goes back to dialing.
   */
  beat (): void {
    const link = this.link
    if (link === undefined || this.status !== 'connected') return
    try {
      if (link.stream.writableNeedsDrain) throw new Error('the previous beat was never written')
      link.stream.send(encodeFrame(this.options.makeBeat(this.seq++, 'running', this.options.beatPeriodMs)))
      this.beatsSent++
    } catch (err) {
      this.drop(`failed to send a heartbeat: ${(err as Error).message}`)
    }
  }

  /**
   * What the real agent's link watcher does (agent/link-watch.ts): a yamux
   * PING, which the aggregator's muxer answers by itself; no answer within
   * LINK_PING_TIMEOUT_MS drops the connection.
   */
  async linkPing (): Promise<void> {
    const link = this.link
    if (link === undefined || this.status !== 'connected') return
    try {
      await (link.conn.muxer as unknown as PingingMuxer).ping({ signal: AbortSignal.timeout(LINK_PING_TIMEOUT_MS) })
    } catch (err) {
      if (this.link === link) this.drop(`link ping failed: ${(err as Error).message}`)
    }
  }

  /** The real agent's graceful stop: a last beat with state "stopping", close the stream, hang up. */
  async stop (): Promise<void> {
    const link = this.link
    const wasConnected = this.status === 'connected'
    this.status = 'stopped'
    this.link = undefined
    if (link === undefined || !wasConnected) return
    try {
      link.stream.send(encodeFrame(this.options.makeBeat(this.seq++, 'stopping', this.options.beatPeriodMs)))
      await link.stream.close({ signal: AbortSignal.timeout(FINAL_BEAT_TIMEOUT_MS) })
      await link.conn.close()
    } catch (err) {
      link.conn.abort(err as Error)
    }
  }

  /** The connection is over (failed send, remote close): count it and let the backoff decide when to retry. */
  private drop (reason: string): void {
    const link = this.link
    this.link = undefined
    this.lastError = reason
    if (this.status !== 'connected') return
    this.status = 'idle'
    this.selector.onDisconnected(this.options.now())
    link?.conn.abort(new Error(reason))
    this.options.onDown(this)
  }
}
