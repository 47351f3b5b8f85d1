import { raceAbort } from '../shared/abort.ts'
import { systemClock, type Clock } from '../shared/clock.ts'
import type { ComponentHealth } from '../shared/health.ts'
import { ErrorCodes, HeartbeatError, errorMessage } from '../shared/errors.ts'
import type { Logger } from '../shared/log.ts'
import { clockTimeout } from './clock-signal.ts'
import type { ChainReading, ChainSource } from './source.ts'

export const CHAIN_SOURCE_COMPONENT = 'chain_source'

export interface ChainSnapshot {
  /**
   * The last good reading, or undefined before the first one. While the
   * source fails it stays (head, height, network), without the components the
   * source reported: those would describe a node we can no longer see.
   */
  reading: ChainReading | undefined
  /** The `chain_source` component: ready after a good read, not_ready with the error after a failed one. */
  component: ComponentHealth
}

export interface ChainMonitorOptions {
  /** A read that takes longer has failed (the node "answers late"). */
  timeoutMs: number
  /** The deadline and the head's age run on its monotonic time; its wall time only stamps what is shown. */
  clock?: Clock
  /** Logs when the source starts failing and when it recovers (not every failed poll). */
  logger?: Logger
}

/**
 * Polls a chain source on its own schedule so a slow or dead node never holds
 * up a beat: beats carry the latest snapshot. The last good reading is kept
 * through failures, marked old in the component's details.
 */
export class ChainMonitor {
  private readonly source: ChainSource
  private readonly timeoutMs: number
  private readonly clock: Clock
  private readonly log: Logger | undefined
  private reading: ChainReading | undefined
  /** When the last good reading came: monotonic (its age) and wall (shown). */
  private readAt: number | undefined
  private readAtWall: number | undefined
  private fresh = false
  private failingSince: number | undefined
  private component: ComponentHealth = { status: 'not_ready', details: { error: 'no reading from the node yet' } }

  constructor (source: ChainSource, options: ChainMonitorOptions) {
    this.source = source
    this.timeoutMs = options.timeoutMs
    this.clock = options.clock ?? systemClock
    this.log = options.logger
  }

  snapshot (): ChainSnapshot {
    if (this.reading === undefined || this.fresh) return { reading: this.reading, component: this.component }
    const { components: _stale, ...kept } = this.reading
    return { reading: kept, component: this.component }
  }

  /** One poll of the source; never throws. */
  async poll (signal?: AbortSignal): Promise<void> {
    const started = this.clock.monotonic()
    const late = (): Error => new HeartbeatError(ErrorCodes.TIMEOUT, `the node did not answer within ${this.timeoutMs} ms`)
    const deadline = clockTimeout(this.clock, this.timeoutMs, late)
    const combined = signal === undefined ? deadline.signal : AbortSignal.any([signal, deadline.signal])
    try {
      // Sources should honour the signal; the race makes sure one that does not still cannot hang a poll.
      const reading = await raceAbort(this.source.read({ signal: combined }), combined, late)
      this.onReading(reading, started)
    } catch (err) {
      if (signal?.aborted === true) return // stopping: not the node's fault
      this.onFailure(err)
    } finally {
      deadline.clear()
    }
  }

  private onReading (reading: ChainReading, started: number): void {
    this.reading = reading
    this.readAt = this.clock.monotonic()
    this.readAtWall = this.clock.wall()
    this.fresh = true
    this.component = {
      status: 'ready',
      details: { source: this.source.kind, height: reading.height, latencyMs: Math.round(this.readAt - started), ...reading.details },
    }
    if (this.failingSince !== undefined) {
      this.log?.info({ source: this.source.kind, failedForMs: this.readAt - this.failingSince, height: reading.height }, 'chain source answers again')
      this.failingSince = undefined
    }
  }

  private onFailure (err: unknown): void {
    const now = this.clock.monotonic()
    this.fresh = false
    const details: Record<string, unknown> = { source: this.source.kind, error: errorMessage(err) }
    if (err instanceof HeartbeatError) details.code = err.code
    if (this.readAt !== undefined && this.readAtWall !== undefined && this.reading !== undefined) {
      // The head we still report was read this long ago: the fleet view shows it as such.
      details.lastReadAt = new Date(this.readAtWall).toISOString()
      details.headAgeMs = Math.round(now - this.readAt)
      details.lastHeight = this.reading.height
    }
    this.component = { status: 'not_ready', details }
    if (this.failingSince === undefined) {
      this.failingSince = now
      this.log?.warn({ source: this.source.kind, err: errorMessage(err) }, 'chain source failed: chain_source is not_ready, the last head is reported as old')
    } else {
      this.log?.debug({ source: this.source.kind, err: errorMessage(err), failingForMs: now - this.failingSince }, 'chain source still failing')
    }
  }
}
