import { isHealthStatus, type HealthStatus } from '../../shared/health.ts'
import { NODE_STATUSES, type NodeStatus } from '../fleet/types.ts'
import type { AlertInput, MaintenanceWindow, NetworkAlertInput, NodeAlertInput } from './types.ts'

/** The fleet as the JSON API shows it: node views and the summary. */
export interface FleetSnapshot {
  nodes: readonly unknown[]
  summary?: unknown
}

export interface InputSources {
  /** Maintenance in force for one node (admin or agent), if any. */
  nodeMaintenance: (peerId: string) => MaintenanceWindow | undefined
  fleetMaintenance: MaintenanceWindow | undefined
}

/**
 * The adapter between the fleet's views and the rules. It reads fields by
 * name and type rather than by the view's TypeScript type, so the rules keep
 * working while the views grow (per-node `lag`, `summary.networks`): a field
 * that is absent or of the wrong type is unknown, and rules that need it do
 * not fire. A node without a known status is left out.
 */
export function alertInputFromSnapshot (snapshot: FleetSnapshot, sources: InputSources): AlertInput {
  const nodes: NodeAlertInput[] = []
  for (const raw of snapshot.nodes) {
    const node = nodeInput(raw, sources)
    if (node !== undefined) nodes.push(node)
  }
  return { nodes, networks: networksInput(snapshot.summary), fleetMaintenance: sources.fleetMaintenance }
}

const KNOWN_STATUSES: ReadonlySet<string> = new Set(NODE_STATUSES)

function nodeInput (raw: unknown, sources: InputSources): NodeAlertInput | undefined {
  if (!isRecord(raw)) return undefined
  const peerId = raw.peerId
  const status = raw.status
  if (typeof peerId !== 'string' || typeof status !== 'string' || !KNOWN_STATUSES.has(status)) return undefined
  return {
    peerId,
    nickname: typeof raw.nickname === 'string' ? raw.nickname : '',
    status: status as NodeStatus,
    reason: typeof raw.reason === 'string' ? raw.reason : '',
    network: typeof raw.network === 'string' ? raw.network : '',
    lag: count(raw.lag),
    lastHeadChange: instant(raw.lastHeadChange),
    headUnchangedForMs: count(raw.headUnchangedForMs),
    components: components(raw.health),
    maintenance: sources.nodeMaintenance(peerId),
  }
}

function networksInput (summary: unknown): NetworkAlertInput[] | undefined {
  if (!isRecord(summary) || !Array.isArray(summary.networks)) return undefined
  const out: NetworkAlertInput[] = []
  for (const raw of summary.networks as unknown[]) {
    if (!isRecord(raw) || typeof raw.network !== 'string') continue
    const nodes = count(raw.nodes)
    const inConsensus = count(raw.inConsensus)
    // inDispute may be a count or the list of disputing nodes.
    const inDispute = Array.isArray(raw.inDispute) ? raw.inDispute.length : count(raw.inDispute)
    const clock: Partial<NetworkAlertInput> = {}
    // Fields a later aggregator adds: present only when the summary says them.
    if (typeof raw.behindClock === 'boolean') clock.behindClock = raw.behindClock
    if (count(raw.headAgeMs) !== undefined) clock.headAgeMs = count(raw.headAgeMs)
    if (count(raw.epochsBehindClock) !== undefined) clock.epochsBehindClock = count(raw.epochsBehindClock)
    if (count(raw.reporting) !== undefined) clock.reporting = count(raw.reporting)
    out.push({ network: raw.network, inDispute, inConsensus, nodes, ...clock })
  }
  return out
}

function components (health: unknown): Record<string, { status: HealthStatus }> {
  const out: Record<string, { status: HealthStatus }> = {}
  if (!isRecord(health) || !isRecord(health.components)) return out
  for (const [name, c] of Object.entries(health.components)) {
    if (isRecord(c) && isHealthStatus(c.status)) out[name] = { status: c.status }
  }
  return out
}

/** A non-negative finite number, else unknown. */
function count (value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}

/** Milliseconds since the epoch, from a number or an ISO 8601 string; else unknown. */
function instant (value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string') {
    const ms = Date.parse(value)
    return Number.isNaN(ms) ? undefined : ms
  }
  return undefined
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
