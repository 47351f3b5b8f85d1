/**
 * go-filecoin's escalating failure logging, as a pure policy: the first
 * failure since the last success is a WARN at once, later failures are DEBUG,
 * and an ERROR is due once every `errorPeriodMs` while the failures go on.
 * A success resets it. The caller supplies the time, so tests walk sequences.
 */
export type FailureLogLevel = 'warn' | 'debug' | 'error'

export interface FailureLogDecision {
  level: FailureLogLevel
  /** How long the service has been failing, ms (0 on the first failure). */
  failingForMs: number
}

export class EscalatingFailureLog {
  private errorPeriodMs: number
  /** When the current run of failures began; undefined while healthy. */
  private failedAt: number | undefined
  /** When the last ERROR was logged (or the run began, before the first ERROR). */
  private erroredAt = 0

  constructor (errorPeriodMs: number) {
    this.errorPeriodMs = errorPeriodMs
  }

  onFailure (now: number): FailureLogDecision {
    if (this.failedAt === undefined) {
      this.failedAt = now
      this.erroredAt = now
      return { level: 'warn', failingForMs: 0 }
    }
    let level: FailureLogLevel = 'debug'
    if (now - this.erroredAt >= this.errorPeriodMs) {
      level = 'error'
      this.erroredAt = now
    }
    return { level, failingForMs: now - this.failedAt }
  }

  /** Live reconfiguration: a new ERROR period applies from the next failure on. */
  setErrorPeriod (errorPeriodMs: number): void {
    this.errorPeriodMs = errorPeriodMs
  }

  onSuccess (): void {
    this.failedAt = undefined
  }

  get failing (): boolean {
    return this.failedAt !== undefined
  }
}
