import { ErrorCodes, UsageError } from './errors.ts'

/** Milliseconds per Go duration unit. */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

const COMPONENT = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y

/**
 * Parses a duration the way Go's time.ParseDuration does ("3s", "1m30s",
 * "250ms", "1.5h", "0") and returns milliseconds. Negative durations are
 * refused: nothing in this product means "minus three seconds".
 */
export function parseDuration (text: string, what = 'duration'): number {
  const input = text.trim()
  if (input === '0') return 0
  if (input === '') throw new UsageError(ErrorCodes.INVALID_DURATION, `invalid ${what} "": expected a Go duration such as 3s, 1m30s or 250ms`)
  let total = 0
  COMPONENT.lastIndex = 0
  let position = 0
  while (position < input.length) {
    COMPONENT.lastIndex = position
    const match = COMPONENT.exec(input)
    if (match === null) {
      throw new UsageError(ErrorCodes.INVALID_DURATION,
        `invalid ${what} "${text}": expected a Go duration such as 3s, 1m30s or 250ms (units ns, us, ms, s, m, h)`)
    }
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number)
    position = COMPONENT.lastIndex
  }
  if (!Number.isFinite(total)) throw new UsageError(ErrorCodes.INVALID_DURATION, `invalid ${what} "${text}": too large`)
  return total
}

/** Like parseDuration, but also requires a positive value. */
export function parsePositiveDuration (text: string, what = 'duration'): number {
  const ms = parseDuration(text, what)
  if (ms <= 0) throw new UsageError(ErrorCodes.INVALID_DURATION, `invalid ${what} "${text}": must be greater than zero`)
  return ms
}

/** Milliseconds to the nearest whole second: what a log line or a message says of a span measured to the millisecond. */
export function roundToSeconds (ms: number): number {
  return Math.round(ms / 1000) * 1000
}

/** Formats milliseconds as Go prints durations: 1h2m3s, 1m30s, 250ms, 0s. */
export function formatDuration (ms: number): string {
  if (ms === 0) return '0s'
  const sign = ms < 0 ? '-' : ''
  let rest = Math.abs(ms)
  if (rest < 1000) return `${sign}${trimNumber(rest)}ms`
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = rest / 1000
  let out = sign
  if (hours > 0) out += `${hours}h`
  if (hours > 0 || minutes > 0) out += `${minutes}m`
  out += `${trimNumber(seconds)}s`
  return out
}

function trimNumber (n: number): string {
  return String(Math.round(n * 1000) / 1000)
}
