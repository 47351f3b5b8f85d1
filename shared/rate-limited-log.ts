/**
 * A bounded log rate for events a stranger can cause at will (refused
 * connections, bad frames): at most `limit` lines per window; the lines
 * skipped are counted and reported with the next line that passes, so the
 * log says how much it left out. Pure: the caller passes the clock.
 */
export interface RateLimitedLogOptions {
  /** Lines allowed per window. */
  limit: number
  windowMs: number
}

export interface LogAdmission {
  /** Write this line. */
  log: boolean
  /** Lines skipped since the last one written (only meaningful when `log`). */
  suppressed: number
}

export class RateLimitedLog {
  private readonly limit: number
  private readonly windowMs: number
  private windowStart = Number.NEGATIVE_INFINITY
  private inWindow = 0
  private skipped = 0

  constructor (options: RateLimitedLogOptions) {
    if (!(options.limit >= 1) || !(options.windowMs > 0)) throw new RangeError('RateLimitedLog needs limit >= 1 and windowMs > 0')
    this.limit = options.limit
    this.windowMs = options.windowMs
  }

  /** Asks to write one line at `now`. */
  admit (now: number): LogAdmission {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now
      this.inWindow = 0
    }
    if (this.inWindow >= this.limit) {
      this.skipped++
      return { log: false, suppressed: 0 }
    }
    this.inWindow++
    const suppressed = this.skipped
    this.skipped = 0
    return { log: true, suppressed }
  }

  /** Lines skipped and not yet reported. */
  get pending (): number {
    return this.skipped
  }
}
