/**
 * The answers of the probe endpoints, in each ecosystem's own shape. Pure:
 * check results in, status code and body out; the HTTP routes only send them.
 */
import { httpStatusFor, isHealthy, type AppHealth, type ComponentHealth } from './health.ts'
import type { CheckResult } from './health-registry.ts'

export interface ProbeAnswer<T> {
  statusCode: number
  body: T
}

/** zkSync's `GET /health`: the app health as is, 200 when healthy, 503 otherwise. */
export function zkSyncAnswer (health: AppHealth): ProbeAnswer<AppHealth> {
  return { statusCode: httpStatusFor(health.status), body: health }
}

/** Layotto's and Spring Boot's actuator statuses. */
export type ActuatorStatus = 'UP' | 'DOWN'

export interface ActuatorComponent {
  status: ActuatorStatus
  details?: unknown
}

export interface ActuatorHealth {
  status: ActuatorStatus
  components: Record<string, ActuatorComponent>
}

export function actuatorStatus (health: ComponentHealth): ActuatorStatus {
  return isHealthy(health.status) ? 'UP' : 'DOWN'
}

/**
 * `/actuator/health/{liveness,readiness}` as Layotto and Spring Boot answer:
 * `{status: UP|DOWN, components}`, 200 when UP, 503 when DOWN. The details
 * keep our own status word (`ready`, `affected`, ...) so nothing is lost.
 */
export function actuatorAnswer (health: AppHealth): ProbeAnswer<ActuatorHealth> {
  const components: Record<string, ActuatorComponent> = {}
  for (const [name, component] of Object.entries(health.components)) {
    components[name] = { status: actuatorStatus(component), details: { ...detailsObject(component.details), status: component.status } }
  }
  const status = actuatorStatus(health)
  return { statusCode: status === 'UP' ? 200 : 503, body: { status, components } }
}

function detailsObject (details: unknown): Record<string, unknown> {
  if (details === undefined) return {}
  if (typeof details === 'object' && details !== null && !Array.isArray(details)) return details as Record<string, unknown>
  return { value: details }
}

/** The query a Kubernetes health endpoint understands: `?verbose`, `?exclude=name` (repeatable). */
export interface KubernetesQuery {
  verbose: boolean
  exclude: string[]
}

/** Reads `?verbose` (present at all means verbose, as in Kubernetes) and `?exclude=`. */
export function parseKubernetesQuery (query: Record<string, unknown> | undefined): KubernetesQuery {
  const q = query ?? {}
  const raw = q.exclude
  const exclude = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String).filter((s) => s !== '')
  return { verbose: Object.hasOwn(q, 'verbose'), exclude }
}

/**
 * `/livez` and `/readyz` exactly as Kubernetes' own servers answer
 * (k8s.io/apiserver healthz): `ok` when every check passes; with `?verbose`
 * one line per check (`[+]name ok`) and `<endpoint> check passed`. On failure
 * the answer is always verbose, 500, and the reason is withheld (the endpoint
 * is public; `/health` and `/actuator/health` carry the details).
 */
export function kubernetesAnswer (endpoint: string, results: readonly CheckResult[], query: KubernetesQuery): ProbeAnswer<string> {
  const excluded = new Set(query.exclude)
  let lines = ''
  let failed = false
  for (const { name, health } of results) {
    if (excluded.has(name)) {
      excluded.delete(name)
      lines += `[+]${name} excluded: ok\n`
      continue
    }
    if (isHealthy(health.status)) {
      lines += `[+]${name} ok\n`
    } else {
      failed = true
      lines += `[-]${name} failed: reason withheld\n`
    }
  }
  if (excluded.size > 0) {
    const names = [...excluded].sort().map((n) => JSON.stringify(n)).join(',')
    lines += `warn: some health checks cannot be excluded: no matches for ${names}\n`
  }
  if (failed) return { statusCode: 500, body: `${lines}${endpoint} check failed\n` }
  if (!query.verbose) return { statusCode: 200, body: 'ok' }
  return { statusCode: 200, body: `${lines}${endpoint} check passed\n` }
}

/** `/livez/<check>`: `ok`, or 500 `internal server error: <reason>` as Kubernetes answers one check. */
export function kubernetesSingleAnswer (result: CheckResult): ProbeAnswer<string> {
  if (isHealthy(result.health.status)) return { statusCode: 200, body: 'ok' }
  return { statusCode: 500, body: `internal server error: ${failureReason(result.health)}\n` }
}

/** A short reason for a failing component: its status and, when it says one, its error. */
export function failureReason (health: ComponentHealth): string {
  const details = health.details
  if (typeof details === 'object' && details !== null) {
    const { error, reason } = details as { error?: unknown, reason?: unknown }
    const text = typeof error === 'string' ? error : typeof reason === 'string' ? reason : undefined
    if (text !== undefined && text !== '') return `${health.status}: ${text}`
  }
  return health.status
}
