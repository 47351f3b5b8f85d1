import { worstStatus, type AppHealth, type ComponentHealth, type HealthStatus } from '../shared/health.ts'
import { LIMITS } from '../shared/protocol.ts'

const SEVERITY_ORDER: HealthStatus[] = ['panicked', 'not_ready', 'shut_down', 'shutting_down', 'affected', 'ready']

/** Short fields worth keeping when a component's details are too large to send. */
const KEPT_FIELDS = ['error', 'code', 'reportedStatus', 'httpStatus', 'exitCode'] as const
const KEPT_FIELD_CHARS = 300

function fitDetails (details: unknown): unknown {
  let json: string | undefined
  try {
    json = JSON.stringify(details)
  } catch {
    return { unserializable: true }
  }
  if (json === undefined) return undefined
  if (json.length <= LIMITS.detailsBytes) return details
  const kept: Record<string, unknown> = { truncated: true, detailsBytes: json.length }
  if (typeof details === 'object' && details !== null) {
    for (const field of KEPT_FIELDS) {
      const value = (details as Record<string, unknown>)[field]
      if (typeof value === 'number' || typeof value === 'boolean') kept[field] = value
      else if (typeof value === 'string') kept[field] = value.slice(0, KEPT_FIELD_CHARS)
    }
  }
  return kept
}

/**
 * App health that always fits the heartbeat's limits (the aggregator rejects a
 * whole beat that does not): details cut to size, names cut to length, and at
 * most LIMITS.componentCount components, the `keepFirst` ones and the worst
 * ones kept. The app status is computed over every component, dropped ones
 * included, so cutting never hides a failure; pure.
 */
export function fitHealth (components: Record<string, ComponentHealth>, keepFirst: readonly string[] = []): AppHealth {
  const status = worstStatus(Object.values(components).map((c) => c.status))
  const names = Object.keys(components).sort((a, b) => {
    const pa = keepFirst.indexOf(a)
    const pb = keepFirst.indexOf(b)
    if (pa !== pb) return (pa === -1 ? Infinity : pa) - (pb === -1 ? Infinity : pb)
    const sa = SEVERITY_ORDER.indexOf((components[a] as ComponentHealth).status)
    const sb = SEVERITY_ORDER.indexOf((components[b] as ComponentHealth).status)
    return sa !== sb ? sa - sb : a.localeCompare(b)
  })
  const fitted: Record<string, ComponentHealth> = {}
  for (const name of names) {
    if (Object.keys(fitted).length >= LIMITS.componentCount) break
    const key = name.slice(0, LIMITS.componentName)
    if (key === '' || Object.hasOwn(fitted, key)) continue
    const component = components[name] as ComponentHealth
    const details = component.details === undefined ? undefined : fitDetails(component.details)
    fitted[key] = details === undefined ? { status: component.status } : { status: component.status, details }
  }
  return { status, components: fitted }
}
