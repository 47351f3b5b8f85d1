import type { Logger } from '../../shared/log.ts'
import type { Part } from '../parts.ts'
import { type AdminRoutesOptions, registerAdminRoutes } from './admin-routes.ts'
import { type FleetRoutesOptions, registerFleetRoutes } from './fleet-routes.ts'
import { FleetPage } from './page.ts'

export interface ViewsPartOptions extends FleetRoutesOptions {
  admin: AdminRoutesOptions
  logger: Logger
}

/**
 * The views of the fleet as a part: the fleet document, one node, the live
 * feed, the security admin routes and the page. Starting it builds and loads
 * the page, before the HTTP server listens.
 */
export function viewsPart (options: ViewsPartOptions): Part {
  const page = new FleetPage(options.logger)
  return {
    name: 'views',
    routes (http) {
      page.routes(http)
      registerFleetRoutes(http, options)
      registerAdminRoutes(http, options.admin)
    },
    async start () {
      await page.load()
    },
    stop () {},
  }
}
