import { type Clock, instantOf, type Timer } from '../../shared/clock.ts'
import { errorMessage } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { fleetAlertSnapshot, type NodeView } from '../fleet/view.ts'
import { registerAlertRoutes } from '../http/alert-routes.ts'
import type { AlertsFeedSource } from '../http/events.ts'
import type { PublicMaintenance } from '../http/status-page.ts'
import type { Part } from '../parts.ts'
import { RECONNECT_GRACE_MS } from '../store/constants.ts'
import type { FleetStore } from '../store/index.ts'
import { Alerting } from './alerting.ts'
import type { AlertingConfig } from './config.ts'
import { ALERT_FOLLOW_MS } from './constants.ts'
import { type AlertLeadership, LeaseLeadership, soleLeadership } from './leader.ts'
import type { AlertSource } from './receivers/receiver.ts'
import { AlertStateStore, MaintenanceStore } from './state-store.ts'
import type { MaintenanceView } from './views.ts'

export interface AlertingPartOptions {
  config: AlertingConfig
  fleet: FleetState
  source: AlertSource
  /** The store (started before alerting): alert state and windows live there; its lease picks the leader of a shared one. */
  store: () => FleetStore | undefined
  clock: Clock
  logger: Logger
  /** Nodes not heard from since a restart start no new alert for this long (default RECONNECT_GRACE_MS). */
  restartGraceMs?: number
}

/**
 * Alerting as a part of the aggregator: evaluates on the fleet's status tick
 * while it leads (always, on a store of its own; while it holds the alerting
 * lease, on a shared one), saves the alert state and the operators' windows
 * in the store, follows the leader's state otherwise, drains its receivers on
 * stop, serves /api/v1/alerts and /api/v1/maintenance, and adds each node's
 * maintenance window (and the fleet's alerts and windows) to the node views.
 */
export function alertingPart (options: AlertingPartOptions): Part & { readonly alerting: Alerting, readonly feedSource: AlertsFeedSource, readonly leadership: AlertLeadership | undefined, readonly statusSource: PublicMaintenance } {
  const { fleet, clock, logger } = options
  const graceMs = options.restartGraceMs ?? RECONNECT_GRACE_MS
  const backend = () => options.store()?.open
  let leadership: AlertLeadership | undefined
  /** The state is loaded for the current leadership: evaluation may go on. */
  let ready = false
  let startedMono = clock.monotonic()
  const stateStore = new AlertStateStore({ backend, fence: () => leadership?.fence(), clock })
  const windows = new MaintenanceStore({ backend, clock })
  const alerting = new Alerting({
    config: options.config,
    snapshot: () => fleetAlertSnapshot(fleet, instantOf(clock)),
    revision: () => fleet.revision,
    announcedMaintenance: (peerId) => {
      const record = fleet.get(peerId)
      return record === undefined ? undefined : { announced: record.beat.maintenance, sentAt: record.beat.sentAt, receivedAtMono: record.lastSeenMono }
    },
    source: options.source,
    logger,
    clock,
    leading: () => ready && (leadership?.leading ?? false),
    persist: {
      save: async (state) => { await stateStore.save(state) },
      // On a shared store a notification waits for its state to be saved: the next leader must not announce it again.
      get durable () { return backend()?.cluster !== undefined },
    },
    settling: (peerId) => {
      const record = fleet.get(peerId)
      if (record === undefined) return false
      if (record.remote !== undefined) return record.remote.restored === true
      return record.restored === true && clock.monotonic() - startedMono < graceMs
    },
    onMaintenanceChange: (scope, window, now) => {
      windows.changed(scope, window, now)
      void windows.flush().catch(() => { /* kept pending; retried by the follow loop */ })
    },
    leader: () => {
      const holder = leadership?.holder()
      const since = leadership?.since()
      return { aggregator: holder ?? null, self: leadership?.leading ?? false, since: since === undefined ? null : new Date(since).toISOString() }
    },
  })
  let unsubscribe: (() => void) | undefined
  let unlead: (() => void) | undefined
  let follower: Timer | undefined
  let following: Promise<void> | undefined
  let loaded = false

  /** Carries on from the stored state: all of it for a new leader, what is missing when the store opened late. */
  const loadState = async (merge: boolean): Promise<void> => {
    try {
      const state = await stateStore.load()
      if (state === undefined) return
      alerting.engine.importState(state, { merge, now: instantOf(clock) })
      loaded = true
    } catch (err) {
      logger.error({ err: errorMessage(err) }, 'could not load the alert state from the store; starting from what this aggregator sees')
    }
  }

  const syncWindows = async (): Promise<void> => {
    await windows.flush().catch((err: unknown) => { logger.debug({ err: errorMessage(err) }, 'maintenance windows not saved yet; retrying') })
    const stored = await windows.read()
    const now = instantOf(clock)
    for (const { scope, window } of stored) alerting.applyStoredWindow(scope, window, now)
  }

  const follow = async (): Promise<void> => {
    if (following !== undefined) return
    following = (async () => {
      await syncWindows()
      if (leadership?.leading !== true) {
        const state = await stateStore.load()
        if (state !== undefined) alerting.follow(state, instantOf(clock))
      }
    })().catch((err: unknown) => { logger.debug({ err: errorMessage(err) }, 'could not read the alert state from the store') })
    try { await following } finally { following = undefined }
  }

  return {
    name: 'alerting',
    alerting,
    get leadership () { return leadership },
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
    async start () {
      startedMono = clock.monotonic()
      const store = options.store()
      const cluster = store?.open?.cluster
      leadership = cluster !== undefined && store !== undefined
        ? new LeaseLeadership({ backend: cluster, writer: store.writerId, clock, logger })
        : soleLeadership(() => store?.writerId.id ?? '', clock)
      await syncWindows().catch((err: unknown) => { logger.error({ err: errorMessage(err) }, 'could not read the maintenance windows from the store') })
      unlead = leadership.subscribe((leading) => {
        ready = false
        alerting.dropPending()
        if (!leading) return
        // A new leader carries on from what the last one saved: no firing alert is announced twice, no resolve is missed.
        void loadState(false).then(() => { ready = leadership?.leading === true })
      })
      if (cluster === undefined) {
        await loadState(false)
        ready = true
        // A store that could not be opened at start (a full disk): what it kept is merged in once it opens.
        store?.whenOpen(async () => { if (!loaded) await loadState(true) })
      }
      await leadership.start()
      follower = clock.every(ALERT_FOLLOW_MS, () => { void follow() }, { unref: true })
      unsubscribe = fleet.subscribe({ onTick: (now) => { alerting.onTick(now) } })
    },
    async stop () {
      unsubscribe?.()
      follower?.cancel()
      await following
      await alerting.settled()
      await windows.flush().catch((err: unknown) => { logger.warn({ err: errorMessage(err) }, 'could not save the last maintenance window changes') })
      unlead?.()
      await leadership?.stop()
      await alerting.stop()
    },
  }
}
