import { type AppHealth, type ComponentHealth, isHealthStatus } from './health.ts'
import { HEARTBEAT_VERSION, LIMITS, MAX_UINT } from './protocol.ts'

export type AgentState = 'running' | 'stopping'

/** One heartbeat as it travels on /fil/heartbeat/2.0.0 (docs/protocol.md). */
export interface Heartbeat {
  v: typeof HEARTBEAT_VERSION
  head: string
  height: number
  nickname: string
  /** The node's miner address; empty when it has none. */
  minerAddress: string
  /** Genesis CID or chain id; empty when unknown. */
  network: string
  /** +1 per beat, from 0 at agent start. */
  seq: number
  /** Agent clock, ms since the epoch. Informational only: the aggregator judges time by its own clock. */
  sentAt: number
  /** The agent's beat period in ms. */
  period: number
  health: AppHealth
  agent: { version: string, startedAt: number }
  state: AgentState
  /**
   * Optional: the node is in maintenance (the operator said so to its agent):
   * alerts about it are held back. `until` is on the agent's clock (the
   * aggregator maps it through `sentAt`). Absent when not in maintenance;
   * aggregators that predate it ignore it.
   */
  maintenance?: AnnouncedMaintenance
  /**
   * Optional: the head's own timestamp, ms since the epoch, when the source
   * knows it (Lotus: the tipset's block Timestamp; Ethereum: the block's
   * timestamp). It says how old the chain the node follows is, whatever its
   * peers say. Absent when unknown; aggregators that predate it ignore it.
   */
  headTime?: number
  /**
   * Optional: where head and height come from (`demo`, `lotus`, `eth`,
   * `command`, `embedded`), so a simulated chain can be told from a real
   * node. Aggregators keep a short value they do not know as it is.
   */
  source?: string
}

export interface AnnouncedMaintenance {
  until?: number
  reason?: string
}

/** Why a heartbeat was refused; counted per reason by the aggregator. */
export type RejectReason =
  | 'not_a_map'
  | 'bad_version'
  | 'bad_type'
  | 'too_long'
  | 'too_many_components'
  | 'details_too_large'

export type ValidationResult =
  | { ok: true, heartbeat: Heartbeat }
  | { ok: false, reason: RejectReason, message: string }

class Invalid extends Error {
  readonly reason: RejectReason
  constructor (reason: RejectReason, message: string) {
    super(message)
    this.reason = reason
  }
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function str (obj: Record<string, unknown>, field: string, max: number): string {
  const value = obj[field]
  if (typeof value !== 'string') throw new Invalid('bad_type', `${field} must be a string`)
  if (value.length > max) throw new Invalid('too_long', `${field} is longer than ${max} characters`)
  return value
}

function uint (obj: Record<string, unknown>, field: string): number {
  const value = obj[field]
  if (typeof value === 'bigint') {
    if (value < 0n || value > BigInt(MAX_UINT)) throw new Invalid('bad_type', `${field} is out of range`)
    return Number(value)
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_UINT) {
    throw new Invalid('bad_type', `${field} must be an unsigned integer`)
  }
  return value
}

function validateMaintenance (value: unknown): AnnouncedMaintenance | undefined {
  if (value === undefined || value === null) return undefined
  if (!isPlainObject(value)) throw new Invalid('bad_type', 'maintenance must be a map')
  const out: AnnouncedMaintenance = {}
  if (value.until !== undefined) out.until = uint(value, 'until')
  if (value.reason !== undefined) out.reason = str(value, 'reason', LIMITS.maintenanceReason)
  return out
}

function validateHealth (value: unknown): AppHealth {
  if (!isPlainObject(value)) throw new Invalid('bad_type', 'health must be a map')
  if (!isHealthStatus(value.status)) throw new Invalid('bad_type', 'health.status is not a known status')
  const rawComponents = value.components ?? {}
  if (!isPlainObject(rawComponents)) throw new Invalid('bad_type', 'health.components must be a map')
  const names = Object.keys(rawComponents)
  if (names.length > LIMITS.componentCount) throw new Invalid('too_many_components', `more than ${LIMITS.componentCount} components`)
  const components: Record<string, ComponentHealth> = Object.create(null)
  for (const name of names) {
    if (name.length === 0 || name.length > LIMITS.componentName) throw new Invalid('too_long', `component name must be 1 to ${LIMITS.componentName} characters`)
    const component = rawComponents[name]
    if (!isPlainObject(component)) throw new Invalid('bad_type', `component ${name} must be a map`)
    if (!isHealthStatus(component.status)) throw new Invalid('bad_type', `component ${name} has an unknown status`)
    const entry: ComponentHealth = { status: component.status }
    if (component.details !== undefined) {
      let json: string | undefined
      try {
        json = JSON.stringify(component.details, (_key, v: unknown) => typeof v === 'bigint' ? v.toString() : v)
      } catch {
        throw new Invalid('bad_type', `component ${name} details are not JSON-like`)
      }
      if (json === undefined) throw new Invalid('bad_type', `component ${name} details are not JSON-like`)
      if (json.length > LIMITS.detailsBytes) throw new Invalid('details_too_large', `component ${name} details exceed ${LIMITS.detailsBytes} bytes`)
      // Keep the JSON round-trip: it strips CBOR-only types (tags, byte strings) from what we later serve.
      entry.details = JSON.parse(json)
    }
    components[name] = entry
  }
  return { status: value.status, components: { ...components } }
}

/**
 * Checks a decoded frame against the heartbeat contract. Unknown fields are
 * ignored; wrong types and oversized values are rejected with a reason.
 * Only the known fields are copied, so nothing the peer invents leaks onward.
 */
export function validateHeartbeat (value: unknown): ValidationResult {
  try {
    if (!isPlainObject(value)) throw new Invalid('not_a_map', 'frame is not a CBOR map')
    if (value.v !== HEARTBEAT_VERSION) throw new Invalid('bad_version', `unsupported heartbeat version ${String(value.v)}`)
    const state = value.state ?? 'running'
    if (state !== 'running' && state !== 'stopping') throw new Invalid('bad_type', 'state must be "running" or "stopping"')
    const agent = value.agent
    if (!isPlainObject(agent)) throw new Invalid('bad_type', 'agent must be a map')
    const heartbeat: Heartbeat = {
      v: HEARTBEAT_VERSION,
      head: str(value, 'head', LIMITS.head),
      height: uint(value, 'height'),
      nickname: str(value, 'nickname', LIMITS.nickname),
      minerAddress: str(value, 'minerAddress', LIMITS.minerAddress),
      network: str(value, 'network', LIMITS.network),
      seq: uint(value, 'seq'),
      sentAt: uint(value, 'sentAt'),
      period: uint(value, 'period'),
      health: validateHealth(value.health),
      agent: { version: str(agent, 'version', LIMITS.agentVersion), startedAt: uint(agent, 'startedAt') },
      state,
    }
    const maintenance = validateMaintenance(value.maintenance)
    if (maintenance !== undefined) heartbeat.maintenance = maintenance
    // Optional fields: absent (or null) is fine, a wrong type is refused like any other field's.
    if (value.headTime !== undefined && value.headTime !== null) heartbeat.headTime = uint(value, 'headTime')
    if (value.source !== undefined && value.source !== null) heartbeat.source = str(value, 'source', LIMITS.source)
    return { ok: true, heartbeat }
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: err.reason, message: err.message }
    throw err
  }
}
