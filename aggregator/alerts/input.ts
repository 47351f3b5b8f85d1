import { isHealthStatus, type HealthStatus } from '../../shared/health.ts'
import { NODE_STATUSES, type NodeStatus } from '../fleet/types.ts'
import { MAX_CAUSE_CHARS } from './constants.ts'
import type { AlertInput, ComponentAlertInput, MaintenanceWindow, NetworkAlertInput, NodeAlertInput } from './types.ts'

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
    head: typeof raw.head === 'string' ? raw.head : '',
    components: components(raw.health),
    maintenance: sources.nodeMaintenance(peerId),
    ...identityConflict(raw.identityConflict),
  }
}

function identityConflict (raw: unknown): { identityConflict?: { agents: number, addresses: string[] } } {
  if (!isRecord(raw)) return {}
  const agents = count(raw.agents) ?? 2
  const addresses = Array.isArray(raw.addresses) ? raw.addresses.filter((a): a is string => typeof a === 'string') : []
  return { identityConflict: { agents, addresses } }
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
    const network: NetworkAlertInput = { network: raw.network, inDispute, inConsensus, nodes }
    if (typeof raw.heaviestHead === 'string' && raw.heaviestHead !== '') network.heaviestHead = raw.heaviestHead
    // Fields a later aggregator adds: present only when the summary says them.
    if (typeof raw.behindClock === 'boolean') network.behindClock = raw.behindClock
    if (count(raw.headAgeMs) !== undefined) network.headAgeMs = count(raw.headAgeMs)
    if (count(raw.epochsBehindClock) !== undefined) network.epochsBehindClock = count(raw.epochsBehindClock)
    if (count(raw.reporting) !== undefined) network.reporting = count(raw.reporting)
    out.push(network)
  }
  return out
}

function components (health: unknown): Record<string, ComponentAlertInput> {
  const out: Record<string, ComponentAlertInput> = {}
  if (!isRecord(health) || !isRecord(health.components)) return out
  for (const [name, c] of Object.entries(health.components)) {
    if (!isRecord(c) || !isHealthStatus(c.status)) continue
    const component: ComponentAlertInput = { status: c.status as HealthStatus }
    const error = errorText(c.details)
    if (error !== undefined) component.error = error
    out[name] = component
  }
  return out
}

/**
 * A component's own words for what went wrong: `details.error` (the health
 * vocabulary's convention), on one line and bounded, since it goes into
 * chat messages and e-mail subjects.
 */
export function errorText (details: unknown): string | undefined {
  if (!isRecord(details) || typeof details.error !== 'string') return undefined
  const text = details.error.replace(/\s+/g, ' ').trim()
  if (text === '') return undefined
  return text.length > MAX_CAUSE_CHARS ? `${text.slice(0, MAX_CAUSE_CHARS - 1)}…` : text
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
