import { ErrorCodes } from '../../shared/errors.ts'
import { isHealthStatus, type ComponentHealth } from '../../shared/health.ts'
import { CheckFailure, type Probe } from './types.ts'

/**
 * A component's health as an embedding program knows it (Layotto's
 * Indicator): called on the check's schedule, never at beat time, so a slow
 * indicator cannot hold up a beat. Honour the signal when doing I/O.
 */
export type Indicator = (options: { signal: AbortSignal }) => ComponentHealth | Promise<ComponentHealth>

/** A probe from an indicator: its status passes through; a wrong answer is a failure. */
export function indicatorProbe (indicator: Indicator): Probe {
  return async (signal) => {
    const health: unknown = await indicator({ signal })
    if (typeof health !== 'object' || health === null || !isHealthStatus((health as { status?: unknown }).status)) {
      throw new CheckFailure(ErrorCodes.BAD_ANSWER, 'the indicator did not return {status, details?} with a known status')
    }
    const { status, details } = health as ComponentHealth
    if (details === undefined) return { status }
    if (typeof details === 'object' && details !== null && !Array.isArray(details)) return { status, details: details as Record<string, unknown> }
    return { status, details: { value: details } }
  }
}
