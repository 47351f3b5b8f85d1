/**
 * The health vocabulary, after zkSync's health_check crate: a component has a
 * status and optional JSON details; an app is as healthy as its worst component.
 */
export const HEALTH_STATUSES = ['ready', 'affected', 'shutting_down', 'shut_down', 'not_ready', 'panicked'] as const
export type HealthStatus = typeof HEALTH_STATUSES[number]

/** Worst wins, in this order (index = severity). */
const SEVERITY: Record<HealthStatus, number> = {
  ready: 0,
  affected: 1,
  shutting_down: 2,
  shut_down: 3,
  not_ready: 4,
  panicked: 5,
}

export interface ComponentHealth {
  status: HealthStatus
  details?: unknown
}

export interface AppHealth {
  status: HealthStatus
  components: Record<string, ComponentHealth>
}

export function isHealthStatus (value: unknown): value is HealthStatus {
  return typeof value === 'string' && Object.hasOwn(SEVERITY, value)
}

/** Healthy means the thing can do its job: ready, or affected (degraded but working). */
export function isHealthy (status: HealthStatus): boolean {
  return status === 'ready' || status === 'affected'
}

export function worstStatus (statuses: Iterable<HealthStatus>, empty: HealthStatus = 'ready'): HealthStatus {
  let worst: HealthStatus | undefined
  for (const status of statuses) {
    if (worst === undefined || SEVERITY[status] > SEVERITY[worst]) worst = status
  }
  return worst ?? empty
}

/** App health from its components; an app with no components is ready. */
export function aggregateHealth (components: Record<string, ComponentHealth>): AppHealth {
  return {
    status: worstStatus(Object.values(components).map((c) => c.status)),
    components,
  }
}

/** HTTP status for a health answer: healthy -> 200, otherwise 503. */
export function httpStatusFor (status: HealthStatus): 200 | 503 {
  return isHealthy(status) ? 200 : 503
}
