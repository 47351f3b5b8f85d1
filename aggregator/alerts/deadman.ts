import type { Clock, Timer } from '../../shared/clock.ts'
import type { Logger } from '../../shared/log.ts'
import { RateLimitedLog } from '../../shared/rate-limited-log.ts'
import type { Part } from '../parts.ts'
import { DEADMAN_ERROR_LOG_MS, DEADMAN_HEALTH_POLL_MS, DEADMAN_TIMEOUT_MS } from './constants.ts'
import { sendHttp } from './receivers/http-post.ts'
import { redactUrl } from './receivers/url.ts'

/**
 * Watching the watcher: a dead man's switch (Healthchecks and the services
 * that copy its API) is pinged while the aggregator runs and is healthy, and
 * told `<url>/fail` while it is not, so somebody hears when the aggregator
 * dies, hangs or stops being able to do its job: nothing an alert from the
 * aggregator itself can say.
 *
 * "Healthy" is what GET /health answers 200 for: every health component of
 * the aggregator itself (lifecycle, libp2p, http, ingest) ready or
 * affected. So the aggregator pings /fail while it starts, while a listener
 * is down, and while it drains at shutdown (readiness is down then too: a
 * planned restart shows at the switch as a short failure, which is true:
 * nobody watches the fleet meanwhile). The fleet's own health is not part of
 * it: that is what alerts are for.
 *
 * Pings are POSTs with a one-line body saying why (Healthchecks keeps it
 * with the ping). One at a time, each with a deadline; a failed ping is
 * logged at a bounded rate and counted, and never holds anything else up.
 */

/** What the switch is told: all is well, or the aggregator is up but not healthy. */
export type DeadmanSignal = 'success' | 'fail'

export interface DeadmanHealth {
  healthy: boolean
  /** One line: "healthy" or the components that are not ("lifecycle shutting_down: draining..."). */
  summary: string
}

export interface DeadmanStats {
  pings: Record<DeadmanSignal, { ok: number, error: number }>
  /** Wall clock (ms) of the last ping that got through. */
  lastOkAt: number | undefined
  lastSignal: DeadmanSignal | undefined
  lastError: string | undefined
}

export interface DeadmanOptions {
  /** The ping URL (https://hc-ping.com/<uuid>); `<url>/fail` says unhealthy. */
  url: string
  /** A ping at least this often (--deadman-interval). */
  intervalMs: number
  health: () => DeadmanHealth
  clock: Clock
  logger: Logger
  timeoutMs?: number
  /** How often health is looked at between pings, so a change is told at once. */
  pollMs?: number
}

/** Where a signal goes: the URL itself for success, `<url>/fail` for a failure (the query, if any, kept). */
export function deadmanUrl (url: string, signal: DeadmanSignal): string {
  if (signal === 'success') return url
  const u = new URL(url)
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/fail`
  return u.toString()
}

/** The dead man's switch as a part of the aggregator (started last: the first ping says the aggregator is up and ready). */
export class DeadmanSwitch implements Part {
  readonly name = 'deadman'
  private readonly options: DeadmanOptions
  private readonly log: Logger
  private readonly errors: RateLimitedLog
  private readonly stopping = new AbortController()
  private poller: Timer | undefined
  private inFlight: Promise<void> | undefined
  private lastSentAt = Number.NEGATIVE_INFINITY
  private lastSent: DeadmanSignal | undefined
  private failing = false
  private readonly counters: DeadmanStats['pings'] = { success: { ok: 0, error: 0 }, fail: { ok: 0, error: 0 } }
  private lastOkAt: number | undefined
  private lastError: string | undefined

  constructor (options: DeadmanOptions) {
    this.options = options
    this.log = options.logger.child({ component: 'deadman', url: redactUrl(options.url) })
    this.errors = new RateLimitedLog({ limit: 1, windowMs: DEADMAN_ERROR_LOG_MS })
  }

  start (): void {
    const { clock } = this.options
    const poll = Math.min(this.options.pollMs ?? DEADMAN_HEALTH_POLL_MS, this.options.intervalMs)
    this.log.info({ intervalMs: this.options.intervalMs }, 'pinging the dead man\'s switch')
    this.check()
    this.poller = clock.every(poll, () => { this.check() }, { unref: true })
  }

  /** Pings when the interval has passed, or at once when health changed since the last ping. */
  check (): void {
    if (this.stopping.signal.aborted || this.inFlight !== undefined) return
    const health = this.options.health()
    const signal: DeadmanSignal = health.healthy ? 'success' : 'fail'
    const due = this.options.clock.monotonic() - this.lastSentAt >= this.options.intervalMs
    if (!due && signal === this.lastSent) return
    this.inFlight = this.ping(signal, health.summary).finally(() => { this.inFlight = undefined })
  }

  stats (): DeadmanStats {
    return { pings: { success: { ...this.counters.success }, fail: { ...this.counters.fail } }, lastOkAt: this.lastOkAt, lastSignal: this.lastSent, lastError: this.lastError }
  }

  /** Resolves when no ping is in flight (tests). */
  async idle (): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight
  }

  async stop (): Promise<void> {
    this.poller?.cancel()
    this.stopping.abort()
    await this.inFlight
  }

  private async ping (signal: DeadmanSignal, summary: string): Promise<void> {
    const { clock } = this.options
    const previous = this.lastSent
    this.lastSentAt = clock.monotonic()
    this.lastSent = signal
    const answer = await sendHttp(
      { url: deadmanUrl(this.options.url, signal), body: `${signal === 'success' ? 'healthy' : 'unhealthy'}: ${summary}` },
      { signal: this.stopping.signal, timeoutMs: this.options.timeoutMs ?? DEADMAN_TIMEOUT_MS, clock },
    )
    const error = 'error' in answer ? answer.error : answer.status >= 200 && answer.status < 300 ? undefined : `HTTP ${answer.status}${answer.text.trim() !== '' ? `: ${answer.text.trim().slice(0, 200)}` : ''}`
    if (error === undefined) {
      this.counters[signal].ok++
      this.lastOkAt = clock.wall()
      if (this.failing) this.log.info({ signal }, 'the dead man\'s switch is reachable again')
      this.failing = false
      if (signal === 'fail' && previous !== 'fail') this.log.warn({ summary }, 'told the dead man\'s switch that the aggregator is unhealthy')
      return
    }
    if (this.stopping.signal.aborted) return
    this.counters[signal].error++
    this.lastError = error
    this.failing = true
    // Bounded: a switch that is down for a day is one line per window, with the count of those left out.
    const admission = this.errors.admit(clock.monotonic())
    if (admission.log) this.log.warn({ signal, err: error, suppressed: admission.suppressed }, 'cannot reach the dead man\'s switch')
  }
}
