import { ErrorCodes, UsageError } from '../shared/errors.ts'
import { parseTarget, type Target } from '../shared/target.ts'
import { DEFAULT_TARGET_WEIGHT, MAX_TARGET_WEIGHT, MIN_TARGET_WEIGHT } from './constants.ts'

/** An aggregator target and how much the agent prefers it (0-100, higher first). */
export interface WeightedTarget {
  target: Target
  weight: number
}

/**
 * Parses `[WEIGHT=]MULTIADDR`, e.g. `100=/ip4/10.0.0.5/tcp/4100/p2p/12D3KooW...`.
 * A multiaddr always starts with "/", so a leading `digits=` cannot be part of
 * one: the syntax is unambiguous, and a target without a weight weighs
 * DEFAULT_TARGET_WEIGHT.
 */
export function parseWeightedTarget (text: string, what = '--target'): WeightedTarget {
  const trimmed = text.trim()
  const equals = trimmed.indexOf('=')
  const slash = trimmed.indexOf('/')
  if (equals === -1 || (slash !== -1 && slash < equals)) {
    return { target: parseTarget(trimmed), weight: DEFAULT_TARGET_WEIGHT }
  }
  const weightText = trimmed.slice(0, equals).trim()
  const weight = parseWeight(weightText, `${what} "${text}"`)
  return { target: parseTarget(trimmed.slice(equals + 1).trim()), weight }
}

/** A weight: a whole number from 0 to 100. */
export function parseWeight (value: unknown, what: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < MIN_TARGET_WEIGHT || n > MAX_TARGET_WEIGHT) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT,
      `invalid weight in ${what}: expected a whole number from ${MIN_TARGET_WEIGHT} to ${MAX_TARGET_WEIGHT} before "=" (e.g. 50=/ip4/10.0.0.5/tcp/4100/p2p/12D3KooW...)`)
  }
  return n
}

/** The same aggregator twice would only double its connections: refuse it. */
export function assertDistinctTargets (targets: WeightedTarget[], what = '--target'): void {
  const seen = new Set<string>()
  for (const { target } of targets) {
    if (seen.has(target.text)) {
      throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `${what}: ${target.text} is given twice`)
    }
    seen.add(target.text)
  }
}

/** For logs: `100=/ip4/.../p2p/...`. */
export function formatWeightedTarget (t: WeightedTarget): string {
  return `${t.weight}=${t.target.text}`
}
