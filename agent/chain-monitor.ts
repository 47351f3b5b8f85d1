import type { ComponentHealth } from '../shared/health.ts'
import { errorMessage } from '../shared/errors.ts'
import type { ChainReading, ChainSource } from './source.ts'

export const CHAIN_SOURCE_COMPONENT = 'chain_source'

export interface ChainSnapshot {
  /** The last good reading, or undefined before the first one. */
  reading: ChainReading | undefined
  /** The `chain_source` component: ready after a good read, not_ready with the error after a failed one. */
  component: ComponentHealth
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
  private reading: ChainReading | undefined
  private readAt: number | undefined
  private component: ComponentHealth = { status: 'not_ready', details: { error: 'no reading from the node yet' } }

  constructor (source: ChainSource, options: { timeoutMs: number, now?: () => number }) {
    this.source = source
    this.timeoutMs = options.timeoutMs
    this.now = options.now ?? Date.now
  }

  snapshot (): ChainSnapshot {
    return { reading: this.reading, component: this.component }
  }

  /** One poll of the source; never throws. */
  async poll (signal?: AbortSignal): Promise<void> {
    const started = this.now()
    const timeout = AbortSignal.timeout(this.timeoutMs)
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
    try {
      const reading = await raceAbort(this.source.read({ signal: combined }), combined, this.timeoutMs)
      this.reading = reading
      this.readAt = this.now()
      this.component = { status: 'ready', details: { source: this.source.kind, height: reading.height, latencyMs: this.readAt - started } }
    } catch (err) {
      const details: Record<string, unknown> = { source: this.source.kind, error: errorMessage(err) }
      if (this.readAt !== undefined) {
        details.lastReadAt = new Date(this.readAt).toISOString()
        details.headAgeMs = this.now() - this.readAt
      }
      this.component = { status: 'not_ready', details }
    }
  }
}

/** Sources should honour the signal; this makes sure a source that ignores it still cannot hang a poll. */
async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  if (signal.aborted) throw new Error(`source did not answer within ${timeoutMs} ms`)
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new Error(`source did not answer within ${timeoutMs} ms`)) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}
