import { raceAbort } from '../shared/abort.ts'
import type { ComponentHealth } from '../shared/health.ts'
import { ErrorCodes, HeartbeatError, errorMessage } from '../shared/errors.ts'
import type { Logger } from '../shared/log.ts'
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
  now?: () => number
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
  private readonly now: () => number
  private readonly log: Logger | undefined
  private reading: ChainReading | undefined
  private readAt: number | undefined
  private fresh = false
  private failingSince: number | undefined
  private component: ComponentHealth = { status: 'not_ready', details: { error: 'no reading from the node yet' } }

  constructor (source: ChainSource, options: ChainMonitorOptions) {
    this.source = source
    this.timeoutMs = options.timeoutMs
    this.now = options.now ?? Date.now
    this.log = options.logger
  }

  snapshot (): ChainSnapshot {
    if (this.reading === undefined || this.fresh) return { reading: this.reading, component: this.component }
    const { components: _stale, ...kept } = this.reading
    return { reading: kept, component: this.component }
  }

  /** One poll of the source; never throws. */
  async poll (signal?: AbortSignal): Promise<void> {
    const started = this.now()
    const timeout = AbortSignal.timeout(this.timeoutMs)
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
    try {
      const late = (): Error => new HeartbeatError(ErrorCodes.TIMEOUT, `the node did not answer within ${this.timeoutMs} ms`)
      // Sources should honour the signal; the race makes sure one that does not still cannot hang a poll.
      const reading = await raceAbort(this.source.read({ signal: combined }), combined, late)
      this.onReading(reading, started)
    } catch (err) {
      if (signal?.aborted === true) return // stopping: not the node's fault
      this.onFailure(err)
    }
  }

  private onReading (reading: ChainReading, started: number): void {
    this.reading = reading
    this.readAt = this.now()
    this.fresh = true
    this.component = {
      status: 'ready',
      details: { source: this.source.kind, height: reading.height, latencyMs: this.readAt - started, ...reading.details },
    }
    if (this.failingSince !== undefined) {
      this.log?.info({ source: this.source.kind, failedForMs: this.readAt - this.failingSince, height: reading.height }, 'chain source answers again')
      this.failingSince = undefined
    }
  }

  private onFailure (err: unknown): void {
    const now = this.now()
    this.fresh = false
    const details: Record<string, unknown> = { source: this.source.kind, error: errorMessage(err) }
    if (err instanceof HeartbeatError) details.code = err.code
    if (this.readAt !== undefined && this.reading !== undefined) {
      // The head we still report is this old: the fleet view shows it as such.
      details.lastReadAt = new Date(this.readAt).toISOString()
      details.headAgeMs = now - this.readAt
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
