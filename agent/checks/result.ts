import { errorMessage, HeartbeatError } from '../../shared/errors.ts'
import { isHealthy, type ComponentHealth, type HealthStatus } from '../../shared/health.ts'
import { LIMITS } from '../../shared/protocol.ts'
import { COMPONENT_SEPARATOR } from '../constants.ts'
import { CheckFailure, type CheckLevel, type ProbeResult, type RunnableCheck } from './types.ts'

/** One finished run of a check. */
export type CheckOutcome =
  | { ok: true, result: ProbeResult, latencyMs: number, at: number }
  | { ok: false, error: unknown, latencyMs: number, at: number }

/** What a failure of a check at this level means for its component. */
export function failureStatus (level: CheckLevel): HealthStatus {
  return level === 'core' ? 'not_ready' : 'affected'
}

/** An auxiliary check can make the node affected at worst; a core one passes statuses through. */
export function applyLevel (status: HealthStatus, level: CheckLevel): HealthStatus {
  if (level === 'core' || isHealthy(status)) return status
  return 'affected'
}

function levelled (status: HealthStatus, level: CheckLevel, details: Record<string, unknown>): ComponentHealth {
  const applied = applyLevel(status, level)
  return { status: applied, details: applied === status ? details : { ...details, reportedStatus: status } }
}

/** The name an imported component gets: CHECK/COMPONENT, cut to the heartbeat's name limit. */
export function importedName (check: string, component: string): string {
  return `${check}${COMPONENT_SEPARATOR}${component}`.slice(0, LIMITS.componentName)
}

/**
 * The components one outcome of a check contributes to the beat: the check's
 * own (named like the check) and, for a `health` check, the target's
 * components; pure.
 */
export function outcomeComponents (check: Pick<RunnableCheck, 'name' | 'level' | 'slowMs'>, outcome: CheckOutcome): Record<string, ComponentHealth> {
  const timing: Record<string, unknown> = { latencyMs: Math.round(outcome.latencyMs), checkedAt: new Date(outcome.at).toISOString() }
  if (!outcome.ok) {
    const details: Record<string, unknown> = { error: errorMessage(outcome.error) }
    if (outcome.error instanceof HeartbeatError) details.code = outcome.error.code
    if (outcome.error instanceof CheckFailure) Object.assign(details, outcome.error.details)
    return { [check.name]: { status: failureStatus(check.level), details: { ...details, ...timing } } }
  }
  const { result } = outcome
  const details: Record<string, unknown> = { ...result.details, ...timing }
  if (outcome.latencyMs > check.slowMs) details.slow = true
  const components: Record<string, ComponentHealth> = { [check.name]: levelled(result.status, check.level, details) }
  for (const [name, component] of Object.entries(result.components ?? {})) {
    const applied = applyLevel(component.status, check.level)
    components[importedName(check.name, name)] = applied === component.status
      ? component
      : { status: applied, details: { ...asRecord(component.details), reportedStatus: component.status } }
  }
  return components
}

function asRecord (details: unknown): Record<string, unknown> {
  if (details === undefined) return {}
  if (typeof details === 'object' && details !== null && !Array.isArray(details)) return details as Record<string, unknown>
  return { value: details }
}
