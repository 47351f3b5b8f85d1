import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { HttpRegistry } from './registry.ts'
import type { ViewerAuth } from './viewer-auth.ts'

export interface NodeAdminRoutesOptions {
  auth: ViewerAuth
  /**
   * Forgets a node everywhere the aggregator keeps it (fleet state, store,
   * alerts); returns what it was called (for the log), or undefined when no
   * part knew the peer id.
   */
  forget: (peerId: string) => Promise<{ nickname: string } | undefined>
  logger?: Logger
}

/**
 * DELETE /api/v1/nodes/:peerId (admin): a decommissioned node leaves the
 * view now instead of staying listed, stale, for --forget-after. Its history,
 * uptime and alerts go with it; if its agent still runs, its next heartbeat
 * makes it a new node. 404 for a peer id no part of the aggregator knows.
 * Guarded by ViewerAuth.adminGuard, not the bearer-only admin check: the
 * page's remove button sends the admin's session cookie (same origin only).
 */
export function registerNodeAdminRoutes (http: HttpRegistry, options: NodeAdminRoutesOptions): void {
  const { auth, forget, logger } = options
  http.route<{ Params: { peerId: string } }>({
    method: 'DELETE',
    path: '/api/v1/nodes/:peerId',
    summary: 'forget a node, its history and its alerts (admin token, or the page signed in with it)',
    admin: true,
    guard: auth.adminGuard(),
    handler: async (request) => {
      const { peerId } = request.params
      const removed = await forget(peerId)
      if (removed === undefined) throw new HeartbeatError(ErrorCodes.NODE_NOT_FOUND, `no node with peer id ${peerId}`)
      logger?.info({ peer: peerId, nickname: removed.nickname, remote: request.ip }, 'node removed by an operator')
      return { removed: true, peerId }
    },
  })
}
