import type { RandomSource } from '../../shared/backoff.ts'
import type { Clock } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError, UsageError, errorMessage } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { NodeView } from '../fleet/view.ts'
import { registerHistoryRoutes, withUptime } from '../http/history-routes.ts'
import type { Part } from '../parts.ts'
import type { MemberInfo, Writer } from './backend.ts'
import type { AggregatorView } from './cluster.ts'
import { FleetStore, type StoreSettings } from './index.ts'
import { storeOpener, type StoreTarget } from './open.ts'

export interface StorePartOptions {
  target: StoreTarget
  settings?: Partial<StoreSettings>
  fleet: FleetState
  /** This aggregator (its name: its peer id from the key in the data dir, or --instance) and this run. */
  writer: () => Promise<Writer>
  /** What the aggregators list and the lease row say of this aggregator (known once ingest and HTTP listen). */
  member: () => Omit<MemberInfo, 'id' | 'runId'>
  /** The alerting lease's holder. */
  leader: () => string | undefined
  clock: Clock
  random?: RandomSource
  logger: Logger
}

/**
 * The store as a part of the aggregator. It starts first: the known nodes are
 * back (this aggregator's as not heard from; with a shared store, the
 * others' as their holders judge them) before any agent can dial in. It
 * serves the history routes, adds each node's uptime and holder
 * (`aggregator`) to the node views, and the aggregators to the fleet document.
 */
export function storePart (options: StorePartOptions): Part & { readonly store: FleetStore | undefined } {
  const { fleet, logger, target } = options
  let store: FleetStore | undefined
  const open = (): FleetStore => {
    if (store === undefined) throw new HeartbeatError(ErrorCodes.STORE_UNAVAILABLE, 'the store is not open')
    return store
  }
  return {
    name: 'store',
    get store () { return store },
    routes (http) {
      registerHistoryRoutes(http, { store: open, fleet, clock: options.clock })
      http.decorateNodes(withUptime(() => store))
      http.prepareNode(async (peerId) => { await store?.prepareNodeUptime(peerId) })
      http.decorateNodes((view) => {
        const held: NodeView & { aggregator: string | null } = { ...view, aggregator: store?.holderOf(view.peerId) ?? null }
        return held
      })
      const aggregators = (): AggregatorView[] => {
        if (store === undefined) return []
        const m = options.member()
        return store.aggregators({ peerId: m.peerId, multiaddrs: m.multiaddrs, version: m.version, url: m.httpUrl, startedAt: new Date(m.startedAt).toISOString() })
      }
      http.fleetField('aggregators', aggregators)
      http.route({ method: 'GET', path: '/api/v1/aggregators', summary: 'the aggregators sharing the store, and how they are', handler: async () => ({ aggregators: aggregators() }) })
    },
    async start () {
      const writer = await options.writer()
      const opened = new FleetStore({
        ...options.settings,
        ...storeOpener(target, logger),
        writer,
        member: options.member,
        leader: options.leader,
        clock: options.clock,
        random: options.random,
        logger,
      })
      try {
        const result = await opened.attach(fleet)
        store = opened
        const what = target.kind === 'postgres' ? 'shared store' : 'store'
        if (result.open) {
          logger.info({ store: opened.location, restored: result.restored, remote: result.remote }, `${what} opened; ${result.restored} known node${result.restored === 1 ? '' : 's'} restored${target.kind === 'postgres' ? `, ${result.remote} held by other aggregators` : ''}`)
        }
      } catch (err) {
        // A shared store that cannot be used at start is a mistake to fix, not a crash to restart from (exit 2).
        if (target.kind === 'postgres' && !(err instanceof UsageError)) {
          throw new UsageError(ErrorCodes.STORE_FAILED, `cannot use the shared store ${opened.location}: ${errorMessage(err)}`, { cause: err })
        }
        throw err
      }
    },
    async stop () {
      await store?.close()
    },
  }
}
