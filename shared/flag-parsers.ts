import { parsePositiveDuration } from './duration.ts'
import { ErrorCodes, UsageError } from './errors.ts'

/**
 * Numbers and bounded durations given on the command line (or in an
 * environment twin). A bad value is a UsageError naming the flag and what it
 * expected: exit 2, one line.
 */

export function positiveInt (text: string, flag: string): number {
  const n = Number(text)
  if (text.trim() === '' || !Number.isInteger(n) || n <= 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${flag} "${text}": expected a positive whole number`)
  return n
}

export function nonNegativeInt (text: string, flag: string): number {
  const n = Number(text)
  if (text.trim() === '' || !Number.isInteger(n) || n < 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${flag} "${text}": expected a whole number, 0 or more`)
  return n
}

export function positiveNumber (text: string, flag: string): number {
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${flag} "${text}": expected a number greater than 0`)
  return n
}

/**
 * An on/off flag that has a value (`--flag [bool]`, preset to true): its
 * environment twin then means what it says, HEARTBEAT_..._FLAG=false is off
 * (a bare boolean flag's twin is on whatever its value).
 */
export function booleanFlag (text: string, flag: string): boolean {
  const v = text.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(v)) return true
  if (['false', '0', 'no', 'off', ''].includes(v)) return false
  throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${flag} "${text}": expected true or false`)
}

/** Node's timers take at most ~24 days; a day is more than any sane timeout. */
export const MAX_TIMEOUT_MS = 24 * 3_600_000

/** A positive duration (Go syntax) that a timer can hold: at most 24h. */
export function boundedDuration (text: string, flag: string): number {
  const ms = parsePositiveDuration(text, flag)
  if (ms > MAX_TIMEOUT_MS) throw new UsageError(ErrorCodes.INVALID_DURATION, `invalid ${flag} "${text}": at most 24h`)
  return ms
}
