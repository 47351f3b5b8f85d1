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

/**
 * Checks are keyed `node:<peerId>` (the node's derived status, `output` its
 * reason) and `<peerId>:<component>` (each component it reports). The
 * fleet's status is the worst node status: any node failing fails the fleet
 * (HTTP 503, as the draft requires for `fail`); warnings answer 200.
 * Components inform; they already count through their node's status.
 */
export function fleetHealthDocument (input: FleetHealthInput): { statusCode: 200 | 503, body: HealthDocument } {
  const checks: Record<string, HealthCheckEntry[]> = {}
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 }
  for (const node of input.nodes) {
    const status = CHECK_STATUS_OF_NODE[node.status]
    counts[status]++
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
  }
  const status: CheckStatus = counts.fail > 0 ? 'fail' : counts.warn > 0 ? 'warn' : 'pass'
  const body: HealthDocument = {
    status,
    version: '1',
    releaseId: input.releaseId,
    serviceId: input.aggregatorPeerId,
    description: 'health of the node fleet seen by this heartbeat aggregator',
    checks,
    links: { about: '/api/v1/fleet' },
  }
  if (input.nodes.length === 0) {
    body.status = 'warn'
    body.output = 'no node has sent a heartbeat yet'
  } else if (status !== 'pass') {
    body.output = `${counts.fail} failing, ${counts.warn} warning, ${counts.pass} passing of ${input.nodes.length} nodes`
  }
  return { statusCode: body.status === 'fail' ? 503 : 200, body }
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
