import { type ErrorCode, HeartbeatError } from '../../shared/errors.ts'
import type { ComponentHealth, HealthStatus } from '../../shared/health.ts'

export const CHECK_KINDS = ['http', 'tcp', 'jsonrpc', 'health', 'command'] as const
export type CheckKind = typeof CHECK_KINDS[number]

/**
 * How much a failed check matters (the Dynamo seed's levelled checks): a
 * `core` failure makes the node not_ready, an `auxiliary` one only affected.
 */
export const CHECK_LEVELS = ['core', 'auxiliary'] as const
export type CheckLevel = typeof CHECK_LEVELS[number]

/** A check as the user describes it (a --check flag or the config file), validated. */
export interface CheckSpec {
  name: string
  kind: CheckKind
  /** http/health/jsonrpc: a URL; tcp: HOST:PORT; command: a shell command line. */
  target: string
  /** jsonrpc: the method to call and its params. */
  method?: string
  params?: unknown[]
  timeoutMs: number
  slowMs: number
  intervalMs: number
  level: CheckLevel
}

/** What one successful run of a probe saw. */
export interface ProbeResult {
  /** The status as the target reported it, before the check's level is applied. */
  status: HealthStatus
  details?: Record<string, unknown>
  /** Components the target reported about itself (a `health` check's import), unprefixed. */
  components?: Record<string, ComponentHealth>
}

/** Runs one check; throws (ideally a CheckFailure) when the target fails it. Honours the signal. */
export type Probe = (signal: AbortSignal) => Promise<ProbeResult>

/** A check ready to run: its schedule, its level and its probe. */
export interface RunnableCheck {
  name: string
  /** For logs: "http http://127.0.0.1:1234/health". */
  description: string
  level: CheckLevel
  timeoutMs: number
  slowMs: number
  intervalMs: number
  probe: Probe
}

/** A failed check with what is known about the failure (HTTP status, exit code...). */
export class CheckFailure extends HeartbeatError {
  readonly details: Record<string, unknown>
  constructor (code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message)
    this.name = 'CheckFailure'
    this.details = details
  }
}
