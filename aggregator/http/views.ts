import type { Logger } from '../../shared/log.ts'
import type { Part } from '../parts.ts'
import { type AdminRoutesOptions, registerAdminRoutes } from './admin-routes.ts'
import { type FleetRoutesOptions, registerFleetRoutes } from './fleet-routes.ts'
import { type NodeAdminRoutesOptions, registerNodeAdminRoutes } from './node-admin-routes.ts'
import { FleetPage } from './page.ts'
import { registerSessionRoutes, type SessionRoutesOptions } from './session-routes.ts'
import { PublicStatusCache, registerStatusPageRoutes, type StatusPageOptions } from './status-page.ts'
import type { ViewerAuth } from './viewer-auth.ts'

export interface ViewsPartOptions extends FleetRoutesOptions {
  admin: AdminRoutesOptions
  /** Page sign-in and its sessions; the part ends every session on stop. */
  viewers: ViewerAuth
  session: Omit<SessionRoutesOptions, 'auth' | 'logger'>
  /** DELETE /api/v1/nodes/:peerId. */
  forget: NodeAdminRoutesOptions['forget']
  /** The public status page and badges (--status-page); off when absent. */
  statusPage?: Omit<StatusPageOptions, 'fleet' | 'clock'>
  logger: Logger
}

/**
 * The views of the fleet as a part: the fleet document and its health
 * document, one node, the live feed, the security admin routes, page
 * sign-in, node removal, the public status page and the page. Starting it
 * builds and loads the page (and makes the status page's cache), before the
 * HTTP server listens; stopping it, after the server closed, ends the
 * sessions, drops that cache and stops the node-view cache listening.
 */
export function viewsPart (options: ViewsPartOptions): Part {
  const page = new FleetPage(options.logger)
  const { viewers, logger, statusPage } = options
  let statusCache: PublicStatusCache | undefined
  let fleetRoutes: { close: () => void } | undefined
  const publicStatus = (): PublicStatusCache => {
    if (statusCache === undefined) throw new Error('the status page is not started')
    return statusCache
  }
  return {
    name: 'views',
    routes (http) {
      page.routes(http)
      fleetRoutes = registerFleetRoutes(http, { ...options, feed: { ...options.feed, bindStream: (request, res) => { viewers.bindStream(request, res) } } })
      registerAdminRoutes(http, options.admin)
      registerSessionRoutes(http, { ...options.session, auth: viewers, logger })
      registerNodeAdminRoutes(http, { auth: viewers, forget: options.forget, logger })
      if (statusPage !== undefined) registerStatusPageRoutes(http, publicStatus)
    },
    async start () {
      await page.load()
      if (statusPage !== undefined) statusCache = new PublicStatusCache({ ...statusPage, fleet: options.fleet, clock: options.clock })
    },
    stop () {
      fleetRoutes?.close()
      statusCache?.close()
      statusCache = undefined
      viewers.stop()
    },
  }
}
