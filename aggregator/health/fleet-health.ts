/**
 * The fleet's health for tools that speak the IETF health check format
 * (draft-inadarei-api-health-check, media type application/health+json).
 * Pure: node views in, document out.
 */
import { isHealthy, type HealthStatus } from '../../shared/health.ts'
import type { NodeStatus } from '../fleet/types.ts'
import type { NodeView } from '../fleet/view.ts'

export const HEALTH_JSON = 'application/health+json'

export type CheckStatus = 'pass' | 'warn' | 'fail'

/** How each node status reads in the draft's words. */
export const CHECK_STATUS_OF_NODE: Record<NodeStatus, CheckStatus> = {
  healthy: 'pass',
  degraded: 'warn',
  // Silence suspected, not yet confirmed by a disconnect.
  stale: 'warn',
  // Announced on purpose: an operator stopped it.
  stopped: 'warn',
  unhealthy: 'fail',
  down: 'fail',
}

/** A component's own status: ready passes, affected warns, the rest fails. */
export function checkStatusOfComponent (status: HealthStatus): CheckStatus {
  if (status === 'ready') return 'pass'
  return isHealthy(status) ? 'warn' : 'fail'
}

export interface HealthCheckEntry {
  componentId: string
  componentType: string
  status: CheckStatus
  time: string
  output?: string
  links?: Record<string, string>
}

export interface HealthDocument {
  status: CheckStatus
  version: string
  releaseId: string
  serviceId: string
  description: string
  output?: string
  notes?: string[]
  checks: Record<string, HealthCheckEntry[]>
  links: Record<string, string>
}

/** What the document needs of a node view. */
export type FleetHealthNode = Pick<NodeView, 'peerId' | 'status' | 'reason' | 'lastSeen' | 'health'>

export interface FleetHealthInput {
  nodes: readonly FleetHealthNode[]
  aggregatorPeerId: string
  releaseId: string
}

/** Longest `output` text taken from a component's details. */
const MAX_OUTPUT_CHARS = 300

/** The document's `links`. */
export const FLEET_HEALTH_LINKS: Readonly<Record<string, string>> = { about: '/api/v1/fleet' }

/**
 * One node's checks: `node:<peerId>` (the node's derived status, `output` its
 * reason) and `<peerId>:<component>` (each component it reports).
 */
export function nodeChecks (node: FleetHealthNode): Record<string, HealthCheckEntry[]> {
  const checks: Record<string, HealthCheckEntry[]> = {}
  const status = CHECK_STATUS_OF_NODE[node.status]
  const entry: HealthCheckEntry = {
    componentId: node.peerId,
    componentType: 'system',
    status,
    time: node.lastSeen,
    links: { about: `/api/v1/nodes/${encodeURIComponent(node.peerId)}` },
  }
  if (status !== 'pass') entry.output = node.reason !== '' ? node.reason : node.status
  checks[`node:${node.peerId}`] = [entry]
  for (const [name, component] of Object.entries(node.health.components)) {
    const componentStatus = checkStatusOfComponent(component.status)
    const componentEntry: HealthCheckEntry = { componentId: node.peerId, componentType: 'component', status: componentStatus, time: node.lastSeen }
    if (componentStatus !== 'pass') componentEntry.output = componentOutput(component.status, component.details)
    checks[`${node.peerId}:${name}`] = [componentEntry]
  }
  return checks
}

/**
 * Everything of the document but its checks and links, from how many nodes
 * pass, warn and fail. The fleet's status is the worst node status: any node
 * failing fails the fleet (HTTP 503, as the draft requires for `fail`);
 * warnings answer 200. Components inform; they already count through their
 * node's status.
 */
export function fleetHealthHead (counts: Readonly<Record<CheckStatus, number>>, input: Omit<FleetHealthInput, 'nodes'>): { statusCode: 200 | 503, head: Omit<HealthDocument, 'checks' | 'links'> } {
  const total = counts.pass + counts.warn + counts.fail
  let status: CheckStatus = counts.fail > 0 ? 'fail' : counts.warn > 0 ? 'warn' : 'pass'
  let output: string | undefined
  if (total === 0) {
    status = 'warn'
    output = 'no node has sent a heartbeat yet'
  } else if (status !== 'pass') {
    output = `${counts.fail} failing, ${counts.warn} warning, ${counts.pass} passing of ${total} nodes`
  }
  const head: Omit<HealthDocument, 'checks' | 'links'> = {
    status,
    version: '1',
    releaseId: input.releaseId,
    serviceId: input.aggregatorPeerId,
    description: 'health of the node fleet seen by this heartbeat aggregator',
  }
  if (output !== undefined) head.output = output
  return { statusCode: status === 'fail' ? 503 : 200, head }
}

/** The whole document (the cached route assembles the same from each node's checks, see http/fleet-documents.ts). */
export function fleetHealthDocument (input: FleetHealthInput): { statusCode: 200 | 503, body: HealthDocument } {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 }
  const checks: Record<string, HealthCheckEntry[]> = {}
  for (const node of input.nodes) {
    counts[CHECK_STATUS_OF_NODE[node.status]]++
    Object.assign(checks, nodeChecks(node))
  }
  const { statusCode, head } = fleetHealthHead(counts, input)
  return { statusCode, body: { ...head, checks, links: { ...FLEET_HEALTH_LINKS } } }
}

function componentOutput (status: HealthStatus, details: unknown): string {
  let text: string = status
  if (typeof details === 'object' && details !== null) {
    const error = (details as { error?: unknown }).error
    text = typeof error === 'string' && error !== '' ? `${status}: ${error}` : `${status}: ${JSON.stringify(details)}`
  } else if (details !== undefined) {
    text = `${status}: ${JSON.stringify(details)}`
  }
  return text.length > MAX_OUTPUT_CHARS ? `${text.slice(0, MAX_OUTPUT_CHARS - 1)}…` : text
}
