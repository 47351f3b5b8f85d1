import { errorMessage } from '../shared/errors.ts'
import type { Logger } from '../shared/log.ts'
import type { HttpRegistry } from './http/registry.ts'

/**
 * One part of the aggregator: the store, the ingest, alerting, the fleet
 * ticker, the views, the HTTP server, its own operations. Every part has the
 * same shape and the same two verbs; the aggregator lists them once, in
 * start order (aggregator.ts), and a PartRunner starts them in that order and
 * stops them in reverse. Adding a part is one entry in that list.
 */
export interface Part {
  /** For logs: "store", "ingest"... */
  readonly name: string
  /**
   * Adds what the part serves over HTTP (routes, node-view decorators, fleet
   * document fields) to the registry. Called once, before any part starts;
   * handlers may rely on the part having started by the time they run.
   */
  routes?: (http: HttpRegistry) => void
  /** May rely on every part before it in the list having started. */
  start: () => Promise<void> | void
  /** Called once, and only after `start` resolved; may rely on every part after it in the list having stopped. */
  stop: () => Promise<void> | void
}

/** Starts parts in order, stops them in reverse; a part that fails to start stops the ones already started. */
export class PartRunner {
  private readonly parts: readonly Part[]
  private readonly log: Logger
  private started: Part[] = []

  /** Collects every part's routes into `http` at once: the route table is whole before anything starts. */
  constructor (parts: readonly Part[], options: { http: HttpRegistry, logger: Logger }) {
    this.parts = parts
    this.log = options.logger
    for (const part of parts) part.routes?.(options.http)
  }

  async start (): Promise<void> {
    for (const part of this.parts) {
      try {
        await part.start()
      } catch (err) {
        await this.stop()
        throw err
      }
      this.started.push(part)
    }
  }

  /** Stops every started part, last first. A part that fails to stop is logged; the others still stop. */
  async stop (): Promise<void> {
    const started = this.started
    this.started = []
    for (const part of started.reverse()) {
      try {
        await part.stop()
      } catch (err) {
        this.log.error({ part: part.name, err: errorMessage(err) }, 'a part failed to stop')
      }
    }
  }
}
