import { type Clock, instantOf } from '../../shared/clock.ts'
import type { Logger } from '../../shared/log.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { fleetViews, type NodeView } from '../fleet/view.ts'
import { registerAlertRoutes } from '../http/alert-routes.ts'
import type { AlertsFeedSource } from '../http/events.ts'
import type { PublicMaintenance } from '../http/status-page.ts'
import type { Part } from '../parts.ts'
import { Alerting } from './alerting.ts'
import type { AlertingConfig } from './config.ts'
import type { AlertSource } from './receivers/receiver.ts'
import type { MaintenanceView } from './views.ts'

export interface AlertingPartOptions {
  config: AlertingConfig
  fleet: FleetState
  source: AlertSource
  clock: Clock
  logger: Logger
}

/**
 * Alerting as a part of the aggregator: evaluates on the fleet's status tick
 * while running, drains its receivers on stop, serves /api/v1/alerts and
 * /api/v1/maintenance, and adds each node's maintenance window (and the
 * fleet's alerts and windows) to the node views.
 */
export function alertingPart (options: AlertingPartOptions): Part & { readonly alerting: Alerting, readonly feedSource: AlertsFeedSource, readonly statusSource: PublicMaintenance } {
  const { fleet, clock } = options
  const alerting = new Alerting({
    config: options.config,
    snapshot: () => fleetViews(fleet, instantOf(clock)),
    revision: () => fleet.revision,
    announcedMaintenance: (peerId) => {
      const record = fleet.get(peerId)
      return record === undefined ? undefined : { announced: record.beat.maintenance, sentAt: record.beat.sentAt, receivedAtMono: record.lastSeenMono }
    },
    source: options.source,
    logger: options.logger,
    clock,
  })
  let unsubscribe: (() => void) | undefined
  return {
    name: 'alerting',
    alerting,
    /** The live feed's `alerts` events. */
    feedSource: { subscribe: (listener) => alerting.subscribe(listener), document: () => alerting.feedDocument(instantOf(clock)) },
    /** The public status page's maintenance: whether, and until when; never why. Windows end on the monotonic clock: the page's wall time is not needed. */
    statusSource: {
      inMaintenance: (peerId) => alerting.maintenanceOf(peerId, instantOf(clock)) !== undefined,
      fleet: () => {
        const window = alerting.maintenance.fleet(instantOf(clock))
        return window === undefined ? undefined : { until: window.until }
      },
      subscribe: (listener) => alerting.subscribe(() => { listener() }),
    },
    routes (http) {
      registerAlertRoutes(http, { alerting, clock, logger: options.logger })
      http.decorateNodes((view, _scope, now) => {
        const decorated: NodeView & { maintenance: MaintenanceView | null } = { ...view, maintenance: alerting.nodeMaintenanceView(view.peerId, now) }
        return decorated
      })
      http.fleetField('alerts', () => alerting.fleetAlerts())
      http.fleetField('maintenance', (nodes, now) => alerting.maintenanceDocument(now, nodes.map((n) => n.peerId)))
    },
    start () {
      unsubscribe = fleet.subscribe({ onTick: (now) => { alerting.onTick(now) } })
    },
    async stop () {
      unsubscribe?.()
      await alerting.stop()
    },
  }
}
