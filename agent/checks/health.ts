import { z } from 'zod'
import { ErrorCodes } from '../../shared/errors.ts'
import { isHealthStatus, type ComponentHealth, type HealthStatus } from '../../shared/health.ts'
import { describeIssues } from '../../shared/validation.ts'
import { MAX_IMPORTED_COMPONENTS, MAX_RPC_ANSWER_BYTES, COMPONENT_SEPARATOR } from '../constants.ts'
import { describeFetchError, readLimited } from '../http-body.ts'
import { describeEndpoint } from '../sources/jsonrpc.ts'
import { CheckFailure, type Probe, type ProbeResult } from './types.ts'

/**
 * Spring Boot actuator (and Layotto) statuses in our vocabulary. OUT_OF_SERVICE
 * is a deliberate removal (shut_down); UNKNOWN says nothing wrong was seen
 * but nothing right either (affected); INIT is still starting (not_ready).
 */
const SPRING_STATUSES: Record<string, HealthStatus> = {
  UP: 'ready',
  DOWN: 'not_ready',
  OUT_OF_SERVICE: 'shut_down',
  UNKNOWN: 'affected',
  INIT: 'not_ready',
}

/** A zkSync status as is ("ready"), or a Spring one ("UP"); undefined for anything else. */
export function mapRemoteStatus (text: string): HealthStatus | undefined {
  if (isHealthStatus(text)) return text
  return SPRING_STATUSES[text.toUpperCase()]
}

interface RawComponent { status: string, details?: unknown, components?: Record<string, RawComponent> }

const rawStatus = z.string().min(1).max(64).refine((s) => mapRemoteStatus(s) !== undefined,
  'not a known status (zkSync: ready, affected, not_ready...; Spring: UP, DOWN, OUT_OF_SERVICE, UNKNOWN)')
const rawComponent: z.ZodType<RawComponent> = z.lazy(() => z.object({
  status: rawStatus,
  details: z.unknown().optional(),
  components: z.record(z.string().min(1), rawComponent).optional(),
}))

/** zkSync's `{status, components: {name: {status, details}}}` or Spring's `{status: "UP", components: {...}}`. */
export const healthDocumentSchema = z.object({
  status: rawStatus,
  components: z.record(z.string().min(1), rawComponent).optional(),
})

export interface ImportedHealth {
  status: HealthStatus
  /** Flattened: Spring's nested groups become group/member. */
  components: Record<string, ComponentHealth>
  /** Components left out beyond the import limit. */
  omitted: number
}

/** Maps a /health document to our vocabulary, flattening nested components; pure. */
export function importHealthDocument (body: unknown, maxComponents = MAX_IMPORTED_COMPONENTS): ImportedHealth {
  const parsed = healthDocumentSchema.safeParse(body)
  if (!parsed.success) {
    throw new CheckFailure(ErrorCodes.BAD_ANSWER, `not a zkSync or Spring health document: ${describeIssues(parsed.error)}`)
  }
  const components: Record<string, ComponentHealth> = {}
  let count = 0
  let omitted = 0
  const walk = (entries: Record<string, RawComponent>, prefix: string): void => {
    for (const [name, raw] of Object.entries(entries)) {
      const path = prefix + name
      if (raw.components !== undefined && Object.keys(raw.components).length > 0) {
        walk(raw.components, path + COMPONENT_SEPARATOR)
        continue
      }
      if (count >= maxComponents) { omitted++; continue }
      count++
      components[path] = { status: mapRemoteStatus(raw.status) as HealthStatus, ...(raw.details !== undefined ? { details: raw.details } : {}) }
    }
  }
  walk(parsed.data.components ?? {}, '')
  return { status: mapRemoteStatus(parsed.data.status) as HealthStatus, components, omitted }
}

/**
 * GETs a health endpoint and imports its components, keeping their statuses
 * and details. Unhealthy services answer 503 with the same document, so the
 * HTTP status is shown but the document decides.
 */
export function healthProbe (url: URL): Probe {
  const endpoint = describeEndpoint(url)
  return async (signal): Promise<ProbeResult> => {
    let res: Response
    let text: string
    try {
      res = await fetch(url, { signal, headers: { accept: 'application/json' } })
      text = await readLimited(res, MAX_RPC_ANSWER_BYTES)
    } catch (err) {
      if (err instanceof CheckFailure) throw err
      if (signal.aborted) throw new CheckFailure(ErrorCodes.TIMEOUT, `no answer from ${endpoint} in time`)
      if (err instanceof Error && 'code' in err && err.code === ErrorCodes.BAD_ANSWER) throw new CheckFailure(ErrorCodes.BAD_ANSWER, `${err.message} from ${endpoint}`)
      throw new CheckFailure(ErrorCodes.SOURCE_FAILED, `cannot reach ${endpoint}: ${describeFetchError(err)}`)
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw new CheckFailure(ErrorCodes.BAD_ANSWER, `${endpoint} answered HTTP ${res.status} with something that is not JSON`, { httpStatus: res.status })
    }
    let imported: ImportedHealth
    try {
      imported = importHealthDocument(body)
    } catch (err) {
      if (err instanceof CheckFailure) throw new CheckFailure(err.code, `${endpoint} answered HTTP ${res.status}, ${err.message}`, { httpStatus: res.status })
      throw err
    }
    const details: Record<string, unknown> = { httpStatus: res.status, components: Object.keys(imported.components).length }
    if (imported.omitted > 0) details.omitted = imported.omitted
    return { status: imported.status, details, components: imported.components }
  }
}
