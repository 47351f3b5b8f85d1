import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { encodeHeartbeat } from '../shared/codec.ts'
import type { AgentState, Heartbeat } from '../shared/heartbeat.ts'
import type { Logger } from '../shared/log.ts'
import { HEARTBEAT_PROTOCOL } from '../shared/protocol.ts'
import { withTimeout } from '../shared/abort.ts'
import { systemClock, type Clock } from '../shared/clock.ts'
import { formatDuration, roundToSeconds } from '../shared/duration.ts'
import { ErrorCodes, errorMessage, HeartbeatError } from '../shared/errors.ts'
import type { BackoffPolicy, RandomSource } from './backoff.ts'
import {
  BACKOFF_BASE, BACKOFF_INITIAL_MS, DEFAULT_UNREACHABLE_AFTER_MS, FINAL_BEAT_TIMEOUT_MS, HANG_UP_TIMEOUT_MS, LINK_PING_TIMEOUT_MS,
} from './constants.ts'
import { describeDialError, describeSendTimeout, describeStreamEnd, type StreamEnd } from './dial-errors.ts'
import { EscalatingFailureLog } from './failure-log.ts'
import { ReachabilityTracker } from './reachability.ts'
import { REFUSAL_READ_LIMITS, RefusalLog } from './refusal.ts'
import { keyOf, TargetSelector } from './target-selector.ts'
import type { WeightedTarget } from './targets.ts'

/** What a reload may change in a running service. */
export interface ServiceSettings {
  /** Where to send, in any order (the selector ranks them by weight). */
  targets: WeightedTarget[]
  beatPeriodMs: number
  reconnectPeriodMs: number
  errorLogPeriodMs: number
  /** A target without an open stream this long is logged at ERROR once (default DEFAULT_UNREACHABLE_AFTER_MS). */
  unreachableAfterMs?: number
}

export interface HeartbeatServiceOptions extends ServiceSettings {
  /** Name in logs: "primary", "alerts". */
  name: string
  libp2p: Libp2p
  dialTimeoutMs: number
  sendTimeoutMs: number
  /** Builds the next heartbeat (seq is this service's own counter). */
  makeBeat: (seq: number, state: AgentState, periodMs: number) => Heartbeat
  logger: Logger
  /** Monotonic time for the schedule, backoff and outages; wall time only for stamps (default: systemClock). */
  clock?: Clock
  /** Jitter source for the backoff (tests pin it). */
  random?: RandomSource
  /** How long libp2p's connection ping waits before it drops a silent connection (for the log's words). */
  pingTimeoutMs?: number
}

export interface TargetStatus {
  target: string
  weight: number
  /** Consecutive failed attempts (reset by a connection that lasted a reconnect period). */
  failures: number
  /** True once a stream to it opened, false since an attempt failed or its stream was lost; null before it was tried. */
  up: boolean | null
  /** How long it has been unreachable, ms (0 while up or untried). */
  unreachableForMs: number
}

export interface HeartbeatServiceStatus {
  name: string
  /** The target beats go to now; while disconnected, the one tried next. */
  target: string
  /** Every target, in preference order. */
  targets: TargetStatus[]
  connected: boolean
  beatsSent: number
  connectFailures: number
  /** Moves to a higher-weighted target while connected. */
  switches: number
  /** Wall time of the last beat written (display). */
  lastSentAt: number | undefined
  /** Wall time the current run of failures began (display). */
  failingSince: number | undefined
  /** The likely cause of the last failure, in words (cleared by a connection). */
  lastError: string | undefined
  /** False only after stop(): the service never gives up on its own. */
  running: boolean
}

/** One open heartbeat stream to one target. */
interface Link {
  target: WeightedTarget
  stream: Stream
  lp: LengthPrefixedStream<Stream>
  /** Aborts when the stream closes, from either side. */
  closed: AbortSignal
  /** libp2p's close event once it came: its `error` and `local` say how the stream ended. */
  ended: { error?: Error, local?: boolean } | undefined
  dispose: () => void
}

/** A signal that the loops sleep on and a reload (or a found upgrade) aborts, then renews. */
class Waker {
  private controller = new AbortController()
  get signal (): AbortSignal {
    return this.controller.signal
  }

  wake (): void {
    this.controller.abort()
    this.controller = new AbortController()
  }
}

/**
 * go-filecoin's HeartbeatService, done properly, over several weighted
 * targets: a connect loop that asks the TargetSelector which target to try
 * and when (backoff with full jitter per target, rotation on failure), and a
 * run loop that writes a beat every beat period on one long-lived stream. A
 * failed send drops the connection and rotates; beats are never queued.
 * While on a lesser target, the reconnect ticker probes the better ones and
 * switches only once a probe's stream is open.
 *
 * Every interval (the beat schedule, the reconnect ticker, backoff, outages)
 * runs on the clock's monotonic time: a step of the wall clock, back or
 * forward, changes no beat (docs/delivery.md).
 */
export class HeartbeatService {
  private readonly options: HeartbeatServiceOptions
  private settings: ServiceSettings
  private readonly log: Logger
  private readonly clock: Clock
  private readonly failureLog: EscalatingFailureLog
  private readonly refusals: RefusalLog
  private readonly selector: TargetSelector
  private readonly reachability: ReachabilityTracker
  private readonly stopController = new AbortController()
  private readonly changes = new Waker()
  private loopDone: Promise<void> | undefined
  private link: Link | undefined
  private running = false
  private seq = 0
  private beatsSent = 0
  private connectFailures = 0
  private switches = 0
  private lastSentAt: number | undefined
  private failingSince: number | undefined
  private lastError: string | undefined

  constructor (options: HeartbeatServiceOptions) {
    this.options = options
    this.settings = pickSettings(options)
    this.clock = options.clock ?? systemClock
    this.log = options.logger.child({ service: options.name })
    this.failureLog = new EscalatingFailureLog(options.errorLogPeriodMs)
    this.refusals = new RefusalLog(this.log, () => this.clock.monotonic())
    this.selector = new TargetSelector(options.targets, {
      policy: backoffPolicy(options.reconnectPeriodMs),
      stableAfterMs: options.reconnectPeriodMs,
      random: options.random,
    })
    this.reachability = new ReachabilityTracker(this.clock, this.settings.unreachableAfterMs ?? DEFAULT_UNREACHABLE_AFTER_MS, {
      onUnreachable: (target, forMs, lastError) => {
        this.log.error({ target, unreachableForMs: Math.round(forMs), err: lastError }, `aggregator ${target} unreachable for ${formatDuration(roundToSeconds(forMs))}: ${lastError ?? 'no stream opened yet'}`)
      },
      onRecovered: (target, downForMs) => {
        this.log.info({ target, unreachableForMs: Math.round(downForMs) }, `aggregator ${target} reachable again after ${formatDuration(roundToSeconds(downForMs))}`)
      },
    })
  }

  private get now (): number {
    return this.clock.monotonic()
  }

  get name (): string {
    return this.options.name
  }

  start (): void {
    if (this.loopDone !== undefined) return
    this.running = true
    this.loopDone = this.connectLoop().finally(() => {
      this.running = false
      this.reachability.close()
    })
  }

  /** Sends a last beat with state "stopping" when connected, then closes. */
  async stop (): Promise<void> {
    this.stopController.abort()
    await this.loopDone
  }

  /**
   * Applies new targets and periods without a restart. The open stream is
   * kept when its target is still listed (it may then be left for a better
   * one on the next reconnect tick); a removed target is closed at once.
   */
  reconfigure (settings: ServiceSettings): void {
    const wanted = new Set(settings.targets.map(keyOf))
    for (const old of this.settings.targets) if (!wanted.has(keyOf(old))) this.reachability.forget(keyOf(old))
    const kept = this.selector.replaceTargets(settings.targets, backoffPolicy(settings.reconnectPeriodMs), settings.reconnectPeriodMs)
    this.settings = pickSettings(settings)
    this.failureLog.setErrorPeriod(settings.errorLogPeriodMs)
    this.reachability.setThreshold(settings.unreachableAfterMs ?? DEFAULT_UNREACHABLE_AFTER_MS)
    if (!kept && this.link !== undefined) this.log.info({ target: this.link.target.target.text }, 'target removed by the new configuration: leaving it')
    this.changes.wake()
  }

  status (): HeartbeatServiceStatus {
    const shown = this.link?.target ?? this.selector.next(this.now).target
    const reach = new Map(this.reachability.snapshot().map((r) => [r.target, r]))
    return {
      name: this.options.name,
      target: shown.target.text,
      targets: this.selector.ranked().map((t) => {
        const r = reach.get(t.target.text)
        return { target: t.target.text, weight: t.weight, failures: this.selector.failures(keyOf(t)), up: r?.up ?? null, unreachableForMs: r?.unreachableForMs ?? 0 }
      }),
      connected: this.link !== undefined && !this.link.closed.aborted,
      beatsSent: this.beatsSent,
      connectFailures: this.connectFailures,
      switches: this.switches,
      lastSentAt: this.lastSentAt,
      failingSince: this.failingSince,
      lastError: this.lastError,
      running: this.running,
    }
  }

  private get stopping (): boolean {
    return this.stopController.signal.aborted
  }

  private async connectLoop (): Promise<void> {
    while (!this.stopping) {
      const now = this.now
      const choice = this.selector.next(now)
      if (choice.at > now) {
        // Backing off; a reload may change the targets meanwhile, so wake for it and choose again.
        await this.clock.sleep(choice.at - now, AbortSignal.any([this.stopController.signal, this.changes.signal]))
        continue
      }
      let link: Link
      try {
        link = await this.open(choice.target, this.stopController.signal)
      } catch (err) {
        if (this.stopping) break
        this.onConnectFailure(choice.target, err)
        continue
      }
      this.failureLog.onSuccess()
      this.failingSince = undefined
      this.lastError = undefined
      this.selector.onConnected(keyOf(choice.target), this.now)
      this.reachability.up(keyOf(choice.target), choice.target.target.text)
      this.log.info({ target: choice.target.target.text, weight: choice.target.weight, rank: choice.rank }, 'heartbeat stream open')
      await this.run(link)
    }
  }

  private onConnectFailure (target: WeightedTarget, err: unknown): void {
    this.connectFailures++
    const now = this.now
    const retryInMs = this.selector.onAttemptFailed(keyOf(target), now)
    const decision = this.failureLog.onFailure(now)
    this.failingSince ??= this.clock.wall()
    const reason = describeDialError(err, target.target.text)
    this.lastError = reason
    this.reachability.down(keyOf(target), target.target.text, reason)
    const next = this.selector.next(now)
    this.log[decision.level]({
      target: target.target.text, failingForMs: decision.failingForMs, retryInMs, next: next.target.target.text, err: errorMessage(err),
    }, `heartbeat service failed to connect for ${formatSeconds(decision.failingForMs)}: ${reason}`)
  }

  private async open (target: WeightedTarget, signal: AbortSignal): Promise<Link> {
    this.log.debug({ target: target.target.text }, 'heartbeat service attempting to connect')
    const dialSignal = withTimeout(this.options.dialTimeoutMs, signal)
    // dialProtocol resolves once the aggregator has agreed to the protocol, which is what confirms a target.
    const stream = await this.options.libp2p.dialProtocol(target.target.multiaddr, HEARTBEAT_PROTOCOL, { signal: dialSignal })
    const closed = new AbortController()
    const link: Link = {
      target,
      stream,
      lp: lpStream(stream, REFUSAL_READ_LIMITS),
      closed: closed.signal,
      ended: undefined,
      dispose: () => { stream.removeEventListener('close', onClose) },
    }
    function onClose (event: Event): void {
      const { error, local } = event as Event & { error?: Error, local?: boolean }
      link.ended = { ...(error !== undefined ? { error } : {}), ...(local !== undefined ? { local } : {}) }
      closed.abort()
    }
    stream.addEventListener('close', onClose, { once: true })
    if (stream.status !== 'open') closed.abort()
    // The aggregator may say why it closes the stream (docs/protocol.md, "Refusal").
    this.refusals.watch({ ...link, aggregator: target.target.peerId.toString() })
    return link
  }

  /** Beats until a send fails, the stream closes, the target is removed, or the service stops. */
  private async run (first: Link): Promise<void> {
    let link = first
    this.link = link
    const runController = new AbortController()
    const upgradeFound = new Waker()
    let pending: Link | undefined
    const upgrader = this.upgradeLoop(runController.signal, (found) => {
      pending = found
      upgradeFound.wake()
    })
    let period = this.settings.beatPeriodMs
    let nextBeatAt = this.now
    try {
      while (true) {
        if (this.stopping || link.closed.aborted || !this.isCurrent(link)) break
        if (pending !== undefined) {
          link = await this.switchTo(link, pending)
          this.link = link
          pending = undefined
          nextBeatAt = this.now
          continue
        }
        if (this.settings.beatPeriodMs !== period) {
          // A reload changed the period: the next beat is one new period after the last slot.
          nextBeatAt += this.settings.beatPeriodMs - period
          period = this.settings.beatPeriodMs
        }
        const now = this.now
        if (now >= nextBeatAt) {
          await this.send(link, 'running', this.options.sendTimeoutMs)
          // Fixed phase, like Go's time.Ticker: the next slot after now; a late beat never causes a burst.
          nextBeatAt += period * (Math.floor((this.now - nextBeatAt) / period) + 1)
          continue
        }
        await this.clock.sleep(nextBeatAt - now, AbortSignal.any([link.closed, this.stopController.signal, this.changes.signal, upgradeFound.signal]))
      }
      await this.leave(link)
    } catch (err) {
      link.dispose()
      link.stream.abort(err as Error)
      if (this.stopping) return
      const text = link.target.target.text
      // What ended it: the stream (a close or reset that came first), the write's deadline, or the write itself.
      const end: StreamEnd = link.ended !== undefined
        ? describeStreamEnd(link.ended, text, this.pingTimeoutMs)
        : err instanceof SendTimeoutError
          ? describeSendTimeout(text, err.timeoutMs)
          : { message: `failed to send a heartbeat to ${text}: ${errorMessage(err)}; reconnecting`, lastError: `failed to send a heartbeat to ${text}: ${errorMessage(err)}`, byRemote: false }
      this.lost(link, end, errorMessage(err))
      // As go-filecoin does: a failed send closes the whole connection, so the next dial starts clean.
      await this.options.libp2p.hangUp(link.target.target.peerId, { signal: AbortSignal.timeout(HANG_UP_TIMEOUT_MS) }).catch(() => {})
    } finally {
      this.link = undefined
      runController.abort()
      await upgrader
      const orphan = pending as Link | undefined
      if (orphan !== undefined) await this.closeQuietly(orphan)
    }
  }

  /** The run loop ended without a send error: say goodbye, report a drop, or leave a removed target. */
  private async leave (link: Link): Promise<void> {
    const text = link.target.target.text
    if (this.stopping && !link.closed.aborted) {
      try {
        await this.send(link, 'stopping', FINAL_BEAT_TIMEOUT_MS)
        await link.stream.close({ signal: AbortSignal.timeout(FINAL_BEAT_TIMEOUT_MS) })
        this.log.info({ target: text }, 'sent the last heartbeat and closed the stream')
      } catch (err) {
        link.stream.abort(err as Error)
      }
      link.dispose()
      return
    }
    if (link.closed.aborted) {
      link.dispose()
      if (this.stopping) return
      this.lost(link, describeStreamEnd(link.ended, text, this.pingTimeoutMs), link.ended?.error?.message)
      return
    }
    // Removed by a reload: not a failure.
    this.selector.onLeft(keyOf(link.target), this.now)
    await this.closeQuietly(link)
  }

  /** A stream that was open is gone: say why (what we know of it), and count the target as unreachable from now. */
  private lost (link: Link, end: StreamEnd, err: string | undefined): void {
    const text = link.target.target.text
    this.selector.onDisconnected(this.now)
    this.lastError = end.lastError
    this.reachability.down(keyOf(link.target), text, end.lastError)
    this.log.warn({ target: text, byRemote: end.byRemote, ...(err !== undefined ? { err } : {}) }, end.message)
  }

  private get pingTimeoutMs (): number {
    return this.options.pingTimeoutMs ?? LINK_PING_TIMEOUT_MS
  }

  private isCurrent (link: Link): boolean {
    const current = this.selector.current()
    return current !== undefined && keyOf(current) === keyOf(link.target)
  }

  /**
   * The reconnect ticker while connected: when a better target exists, try
   * them best first; hand the first stream that opens to the run loop. The
   * working stream is untouched until then.
   */
  private async upgradeLoop (signal: AbortSignal, found: (link: Link) => void): Promise<void> {
    let period = this.settings.reconnectPeriodMs
    let nextTickAt = this.now + period
    while (!signal.aborted) {
      if (this.settings.reconnectPeriodMs !== period) {
        nextTickAt += this.settings.reconnectPeriodMs - period
        period = this.settings.reconnectPeriodMs
      }
      const now = this.now
      if (now < nextTickAt) {
        await this.clock.sleep(nextTickAt - now, AbortSignal.any([signal, this.changes.signal]))
        continue
      }
      nextTickAt += period * (Math.floor((now - nextTickAt) / period) + 1)
      for (const candidate of this.selector.upgradeCandidates()) {
        if (signal.aborted) return
        try {
          const link = await this.open(candidate, signal)
          if (signal.aborted) {
            await this.closeQuietly(link)
            return
          }
          this.reachability.up(keyOf(candidate), candidate.target.text)
          found(link)
          break
        } catch (err) {
          if (signal.aborted) return
          this.selector.onAttemptFailed(keyOf(candidate), this.now)
          const reason = describeDialError(err, candidate.target.text)
          this.reachability.down(keyOf(candidate), candidate.target.text, reason)
          this.log.debug({ target: candidate.target.text, err: errorMessage(err) }, `better target still unreachable: ${reason}`)
        }
      }
    }
  }

  /** Moves the beats to `next`, whose stream is already open, and only then closes `old`. */
  private async switchTo (old: Link, next: Link): Promise<Link> {
    const now = this.now
    this.selector.onLeft(keyOf(old.target), now)
    this.selector.onConnected(keyOf(next.target), now)
    this.switches++
    this.log.info({ from: old.target.target.text, to: next.target.target.text, weight: next.target.weight }, 'switched to a higher-weighted target')
    await this.closeQuietly(old)
    return next
  }

  /** Closes a stream we no longer need; hangs up its connection when nothing else uses it. */
  private async closeQuietly (link: Link): Promise<void> {
    link.dispose()
    try {
      await link.stream.close({ signal: AbortSignal.timeout(FINAL_BEAT_TIMEOUT_MS) })
    } catch (err) {
      link.stream.abort(err as Error)
    }
    await this.hangUpIfIdle(link.target.target.peerId, link.stream)
  }

  /** So the old aggregator sees the agent go (instead of a silent open connection). */
  private async hangUpIfIdle (peer: PeerId, ours: Stream): Promise<void> {
    const connections = this.options.libp2p.getConnections(peer)
    const busy = connections.some((c) => c.streams.some((s) => s !== ours && s.status === 'open'))
    if (connections.length > 0 && !busy) {
      await this.options.libp2p.hangUp(peer, { signal: AbortSignal.timeout(HANG_UP_TIMEOUT_MS) }).catch(() => {})
    }
  }

  private async send (link: Link, state: AgentState, timeoutMs: number): Promise<void> {
    const beat = this.options.makeBeat(this.seq++, state, this.settings.beatPeriodMs)
    // A real-time deadline (I/O, like the dial's): the write waits on the network, not on the agent's schedule.
    const deadline = AbortSignal.timeout(timeoutMs)
    try {
      await link.lp.write(encodeHeartbeat(beat), { signal: deadline })
    } catch (err) {
      if (deadline.aborted && !link.closed.aborted) throw new SendTimeoutError(link.target.target.text, timeoutMs, { cause: err })
      throw err
    }
    this.beatsSent++
    this.lastSentAt = this.clock.wall()
    this.log.trace({ seq: beat.seq, height: beat.height, target: link.target.target.text }, 'heartbeat sent')
  }
}

/** The seed's policy: 250 ms initial, base 2, capped by the reconnect period. */
export function backoffPolicy (reconnectPeriodMs: number): BackoffPolicy {
  return { initialMs: BACKOFF_INITIAL_MS, base: BACKOFF_BASE, capMs: reconnectPeriodMs }
}

function pickSettings (s: ServiceSettings): ServiceSettings {
  return {
    targets: s.targets,
    beatPeriodMs: s.beatPeriodMs,
    reconnectPeriodMs: s.reconnectPeriodMs,
    errorLogPeriodMs: s.errorLogPeriodMs,
    ...(s.unreachableAfterMs !== undefined ? { unreachableAfterMs: s.unreachableAfterMs } : {}),
  }
}

/** A heartbeat write that did not complete in time: the aggregator is not reading. */
class SendTimeoutError extends HeartbeatError {
  readonly timeoutMs: number
  constructor (target: string, timeoutMs: number, options?: ErrorOptions) {
    super(ErrorCodes.TIMEOUT, `a heartbeat to ${target} could not be written within ${timeoutMs} ms`, options)
    this.name = 'SendTimeoutError'
    this.timeoutMs = timeoutMs
  }
}


function formatSeconds (ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`
}
