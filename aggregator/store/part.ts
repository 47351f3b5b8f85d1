import type { Clock } from '../../shared/clock.ts'
import type { Logger } from '../../shared/log.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { registerHistoryRoutes, withUptime } from '../http/history-routes.ts'
import type { Part } from '../parts.ts'
import { FleetStore, storeFile, type StoreSettings } from './index.ts'

export interface StorePartOptions {
  dataDir: string
  settings?: Partial<StoreSettings>
  fleet: FleetState
  clock: Clock
  logger: Logger
}

/**
 * The store as a part of the aggregator. It starts first: the known nodes are
 * back (as not heard from) before any agent can dial in. It serves the
 * history routes and adds each node's uptime to the node views.
 */
export function storePart (options: StorePartOptions): Part & { readonly store: FleetStore | undefined } {
  const { fleet, logger } = options
  let store: FleetStore | undefined
  const open = (): FleetStore => {
    if (store === undefined) throw new Error('the store is not open')
    return store
  }
  return {
    name: 'store',
    get store () { return store },
    routes (http) {
      registerHistoryRoutes(http, { store: open, fleet, clock: options.clock })
      http.decorateNodes(withUptime(() => store))
    },
    async start () {
      store = await FleetStore.open({ ...options.settings, file: storeFile(options.dataDir), clock: options.clock, logger })
      const { restored } = store.attach(fleet)
      logger.info({ file: store.file, restored }, `store opened; ${restored} known node${restored === 1 ? '' : 's'} restored`)
    },
    stop () {
      store?.close()
    },
  }
}
