import { raceAbort } from '../../shared/abort.ts'
import { systemClock, type Clock } from '../../shared/clock.ts'
import { ErrorCodes, errorMessage } from '../../shared/errors.ts'
import type { ComponentHealth, HealthStatus } from '../../shared/health.ts'
import type { Logger } from '../../shared/log.ts'
import { clockTimeout } from '../clock-signal.ts'
import { type CheckOutcome, failureStatus, outcomeComponents } from './result.ts'
import { CheckFailure, type RunnableCheck } from './types.ts'

export interface CheckRunnerOptions {
  logger?: Logger
  /** Schedules, deadlines and latencies on its monotonic time; `checkedAt` stamps on its wall time. */
  clock?: Clock
}

interface CheckState {
  check: RunnableCheck
  components: Record<string, ComponentHealth>
  status: HealthStatus | undefined
  slow: boolean
}

/**
 * Runs every check concurrently, each on its own interval, and keeps the
 * latest result of each. Beats read `components()` and never wait for a
 * check: a hanging target only ever delays its own check, by at most its
 * timeout. Logs when a check changes status or turns slow, not every run.
 */
export class CheckRunner {
  private readonly states: CheckState[]
  private readonly log: Logger | undefined
  private readonly clock: Clock
  private readonly stopController = new AbortController()
  private loops: Array<Promise<void>> = []

  constructor (checks: RunnableCheck[], options: CheckRunnerOptions = {}) {
    this.log = options.logger
    this.clock = options.clock ?? systemClock
    this.states = checks.map((check) => ({
      check,
      components: { [check.name]: { status: failureStatus(check.level), details: { error: 'not checked yet' } } },
      status: undefined,
      slow: false,
    }))
  }

  get size (): number {
    return this.states.length
  }

  /**
   * Starts every check's loop; resolves once each has its first result (each
   * run is bounded by its timeout), so the first beat already carries them.
   */
  async start (): Promise<void> {
    if (this.loops.length > 0) return
    const firstRounds = this.states.map(async (state) => {
      let first!: () => void
      const done = new Promise<void>((resolve) => { first = resolve })
      this.loops.push(this.loop(state, first))
      await done
    })
    await Promise.all(firstRounds)
  }

  async stop (): Promise<void> {
    this.stopController.abort()
    await Promise.all(this.loops)
  }

  /** The latest components of every check, ready to go into a beat. */
  components (): Record<string, ComponentHealth> {
    const out: Record<string, ComponentHealth> = {}
    for (const state of this.states) Object.assign(out, state.components)
    return out
  }

  /** Runs one check once and records the outcome; never throws. */
  private async runOnce (state: CheckState): Promise<void> {
    const { check } = state
    const started = this.clock.monotonic()
    const late = (): Error => new CheckFailure(ErrorCodes.TIMEOUT, `no answer within ${check.timeoutMs} ms`)
    const deadline = clockTimeout(this.clock, check.timeoutMs, late)
    const signal = AbortSignal.any([this.stopController.signal, deadline.signal])
    let outcome: CheckOutcome
    try {
      const result = await raceAbort(check.probe(signal), signal, late)
      outcome = { ok: true, result, latencyMs: this.clock.monotonic() - started, at: this.clock.wall() }
    } catch (err) {
      if (this.stopController.signal.aborted) return
      // Whatever the probe said when its deadline cut it short, the deadline is the reason.
      const error = signal.aborted ? late() : err
      outcome = { ok: false, error, latencyMs: this.clock.monotonic() - started, at: this.clock.wall() }
    } finally {
      deadline.clear()
    }
    state.components = outcomeComponents(check, outcome)
    this.report(state, outcome)
  }

  private async loop (state: CheckState, first: () => void): Promise<void> {
    const stop = this.stopController.signal
    while (!stop.aborted) {
      const started = this.clock.monotonic()
      await this.runOnce(state)
      first()
      const wait = state.check.intervalMs - (this.clock.monotonic() - started)
      await this.clock.sleep(Math.max(0, wait), stop)
    }
    first()
  }

  private report (state: CheckState, outcome: CheckOutcome): void {
    const { check } = state
    const status = (state.components[check.name] as ComponentHealth).status
    const fields = { check: check.name, target: check.description, checkLevel: check.level, latencyMs: Math.round(outcome.latencyMs) }
    if (status !== state.status) {
      const error = outcome.ok ? undefined : errorMessage(outcome.error)
      if (status === 'ready') {
        this.log?.[state.status === undefined ? 'debug' : 'info']({ ...fields, status }, `check ${check.name} is ready`)
      } else {
        this.log?.warn({ ...fields, status, ...(error !== undefined ? { err: error } : {}) }, `check ${check.name} is ${status}`)
      }
      state.status = status
    }
    const slow = outcome.ok && outcome.latencyMs > check.slowMs
    if (slow && !state.slow) this.log?.warn({ ...fields, slowMs: check.slowMs }, `check ${check.name} is slow: ${Math.round(outcome.latencyMs)} ms`)
    if (!slow && state.slow && outcome.ok) this.log?.info(fields, `check ${check.name} is fast again`)
    if (outcome.ok) state.slow = slow
  }
}
