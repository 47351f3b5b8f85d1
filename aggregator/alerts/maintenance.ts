import type { Instant } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { MAX_MAINTENANCE_ENTRIES } from './constants.ts'
import type { MaintenanceWindow } from './types.ts'

export type MaintenanceScope = { fleet: true } | { peerId: string }

export interface MaintenanceEntry extends MaintenanceWindow {
  /** Absent for the fleet-wide window. */
  peerId?: string
}

/**
 * Maintenance windows set by operators (Dynamo's maintenance mode): one for
 * the whole fleet, one per node. Pure bookkeeping; time comes in with each
 * call, and windows that ended are forgotten as they are met. A window's
 * length runs on the monotonic clock (a wall step neither shortens nor
 * stretches it); its wall times are for display.
 */
export class MaintenanceBook {
  private fleetWindow: MaintenanceWindow | undefined
  private readonly nodes = new Map<string, MaintenanceWindow>()
  private readonly maxEntries: number
  private readonly onChange: ((scope: MaintenanceScope, now: Instant) => void) | undefined

  /** `onChange` hears of every window an operator starts or ends (not of windows that run out: whoever reads the book meets those). */
  constructor (options: { maxEntries?: number, onChange?: (scope: MaintenanceScope, now: Instant) => void } = {}) {
    this.maxEntries = options.maxEntries ?? MAX_MAINTENANCE_ENTRIES
    this.onChange = options.onChange
  }

  /** Starts (or replaces) a window of `durationMs` from `now`. */
  start (scope: MaintenanceScope, durationMs: number, reason: string, now: Instant): MaintenanceEntry {
    const window: MaintenanceWindow = { until: now.wall + durationMs, untilMono: now.mono + durationMs, reason, source: 'admin', since: now.wall }
    if ('fleet' in scope) {
      this.fleetWindow = window
      this.onChange?.(scope, now)
      return { ...window }
    }
    if (!this.nodes.has(scope.peerId) && this.nodes.size >= this.maxEntries) {
      this.prune(now)
      if (this.nodes.size >= this.maxEntries) {
        throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `too many node maintenance windows (at most ${this.maxEntries}); silence the fleet instead`)
      }
    }
    this.nodes.set(scope.peerId, window)
    this.onChange?.(scope, now)
    return { ...window, peerId: scope.peerId }
  }

  /** Ends a window early; false when there was none in force. */
  end (scope: MaintenanceScope, now: Instant): boolean {
    if ('fleet' in scope) {
      const had = this.fleet(now) !== undefined
      this.fleetWindow = undefined
      if (had) this.onChange?.(scope, now)
      return had
    }
    const had = this.node(scope.peerId, now) !== undefined
    this.nodes.delete(scope.peerId)
    if (had) this.onChange?.(scope, now)
    return had
  }

  /**
   * Sets (or clears) a window as the store has it: one another aggregator's
   * operator set, or one kept from before a restart (its monotonic end
   * mapped by the store's reader, state-store.ts). onChange is not told: it
   * is not this aggregator's operator's doing.
   */
  replace (scope: MaintenanceScope, window: MaintenanceWindow | undefined): void {
    if ('fleet' in scope) {
      this.fleetWindow = window
      return
    }
    if (window === undefined) this.nodes.delete(scope.peerId)
    else this.nodes.set(scope.peerId, window)
  }

  fleet (now: Instant): MaintenanceWindow | undefined {
    if (this.fleetWindow !== undefined && ended(this.fleetWindow, now)) this.fleetWindow = undefined
    return this.fleetWindow
  }

  node (peerId: string, now: Instant): MaintenanceWindow | undefined {
    const window = this.nodes.get(peerId)
    if (window === undefined) return undefined
    if (ended(window, now)) {
      this.nodes.delete(peerId)
      return undefined
    }
    return window
  }

  /** Every window in force: the fleet's first, then nodes by peer id. */
  list (now: Instant): MaintenanceEntry[] {
    this.prune(now)
    const out: MaintenanceEntry[] = []
    const fleet = this.fleet(now)
    if (fleet !== undefined) out.push({ ...fleet })
    for (const [peerId, window] of [...this.nodes].sort(([a], [b]) => a.localeCompare(b))) out.push({ ...window, peerId })
    return out
  }

  private prune (now: Instant): void {
    for (const [peerId, window] of this.nodes) if (ended(window, now)) this.nodes.delete(peerId)
  }
}

function ended (window: MaintenanceWindow, now: Instant): boolean {
  return window.untilMono !== undefined && window.untilMono <= now.mono
}

/** The first monotonic moment at which one of these windows ends (undefined: none ends by itself). */
export function nextWindowEnd (windows: Iterable<MaintenanceWindow>): number | undefined {
  let next: number | undefined
  for (const w of windows) if (w.untilMono !== undefined && (next === undefined || w.untilMono < next)) next = w.untilMono
  return next
}

/**
 * The window a node announces in its heartbeats (`maintenance: {until?,
 * reason?}`). `until` is on the agent's clock, so it is mapped through the
 * beat's own `sentAt` onto the aggregator's monotonic clock at receipt: skew
 * between the two clocks cancels out, and a step of the aggregator's wall
 * clock changes nothing. Without `until`, the window lasts as long as the
 * node's last heartbeat carries it.
 */
export function agentMaintenance (
  announced: { until?: number, reason?: string } | undefined,
  beat: { sentAt: number, receivedAtMono: number },
  now: Instant,
): MaintenanceWindow | undefined {
  if (announced === undefined) return undefined
  const untilMono = announced.until === undefined ? undefined : beat.receivedAtMono + (announced.until - beat.sentAt)
  if (untilMono !== undefined && untilMono <= now.mono) return undefined
  const until = untilMono === undefined ? undefined : now.wall + (untilMono - now.mono)
  return { until, untilMono, reason: announced.reason ?? '', source: 'agent', since: undefined }
}
