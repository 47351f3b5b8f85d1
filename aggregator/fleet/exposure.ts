import type { AppHealth, ComponentHealth } from '../../shared/health.ts'
import { identityConflictReason } from './identity.ts'
import type { NodeView } from './view.ts'

/**
 * How much of a node strangers may see (Spring's `show-details`). Component
 * details (error texts, RPC endpoints, versions) and a node's remote address
 * say more about an operator's network than a public page should, so they
 * are shown to authorized callers only unless configured otherwise. Statuses
 * and reasons are always shown: they are the point of the view.
 */
export const DETAILS_MODES = ['never', 'when-authorized', 'always'] as const
export type DetailsMode = typeof DETAILS_MODES[number]
export const DEFAULT_DETAILS_MODE: DetailsMode = 'when-authorized'

export function isDetailsMode (value: string): value is DetailsMode {
  return (DETAILS_MODES as readonly string[]).includes(value)
}

/** Whether a caller sees details under `mode`. */
export function showsDetails (mode: DetailsMode, authorized: boolean): boolean {
  return mode === 'always' || (mode === 'when-authorized' && authorized)
}

/** A node as the API serves it; `remoteAddr` only when details are shown. */
export type ExposedNodeView = NodeView & { remoteAddr?: string }

/** Health with every component's details removed (statuses kept). */
export function withoutDetails (health: AppHealth): AppHealth {
  const components: Record<string, ComponentHealth> = {}
  for (const [name, component] of Object.entries(health.components)) components[name] = { status: component.status }
  return { status: health.status, components }
}

/**
 * The one place where a node view is cut to what the caller may see; every
 * API (fleet, node, live feed, page) passes its views through here.
 */
export function exposeNode (view: NodeView, details: boolean, remoteAddr?: string): ExposedNodeView {
  const { remoteAddr: viewAddr, ...rest } = view as ExposedNodeView
  if (details) {
    const addr = viewAddr ?? remoteAddr
    return addr !== undefined ? { ...rest, remoteAddr: addr } : rest
  }
  return { ...rest, health: withoutDetails(view.health), ...withoutConflictAddresses(view) }
}

/** An identity conflict's addresses are remote addresses: cut from the field and from the reason that quotes them. */
function withoutConflictAddresses (view: NodeView): Partial<NodeView> {
  const conflict = view.identityConflict
  if (conflict === null || conflict.addresses === undefined) return {}
  const { addresses, ...kept } = conflict
  const quoted = identityConflictReason(view.peerId, { agents: conflict.agents, addresses })
  return { identityConflict: kept, reason: view.reason === quoted ? identityConflictReason(view.peerId, { agents: conflict.agents, addresses: [] }, false) : view.reason }
}
