import { type Clock, systemClock } from '../../../shared/clock.ts'
import { heldInQuiet, isQuietAt, LocalClock, type QuietHours, type Route, routeMatches } from '../routing.ts'
import type { AlertNotification, AlertRecord } from '../types.ts'
import type { DeliveryOutcome, DeliveryState } from './delivery-queue.ts'
import type { AlertReceiver, ReceiverStats, ReceiverTestOptions } from './receiver.ts'

/** What the API shows of a receiver's routing. */
export interface RoutingState {
  route: Route | null
  quietHours: { from: string, to: string, timezone: string, except: string[] } | null
  /** Quiet hours are on now. */
  quietNow: boolean
  /** Notifications held until quiet hours end. */
  held: number
}

export interface RoutedOptions {
  name: string
  route?: Route | undefined
  quietHours?: QuietHours | undefined
  /** The wall clock tells the local time of day (quiet hours are a matter of the clock on the wall). */
  clock?: Clock | undefined
}

/**
 * A receiver behind its route and quiet hours. A firing notice goes on if
 * the route takes it; a resolved notice goes on exactly when its firing
 * notice did, so a receiver is never told of an end it never heard begin, and
 * never left believing in a problem that is gone (a firing notice sent before
 * a restart or a failover counts: the route would have taken it). In quiet hours, notices of
 * severities not excepted are held (the newest per alert) and sent when
 * quiet hours end; an alert that fired and resolved while held is never sent.
 */
export class RoutedReceiver implements AlertReceiver {
  readonly name: string
  readonly inner: AlertReceiver
  private readonly route: Route | undefined
  private readonly quiet: QuietHours | undefined
  private readonly local: LocalClock | undefined
  private readonly clock: Clock
  /** Alerts whose firing notice reached the receiver. */
  private readonly told = new Set<string>()
  /** Held in quiet hours, by alert id, in the order they came. */
  private readonly held = new Map<string, AlertNotification>()

  constructor (inner: AlertReceiver, options: RoutedOptions) {
    this.inner = inner
    this.name = options.name
    this.route = options.route
    this.quiet = options.quietHours
    this.local = options.quietHours === undefined ? undefined : new LocalClock(options.quietHours.timezone)
    this.clock = options.clock ?? systemClock
  }

  get kind (): string { return this.inner.kind }
  get target (): string { return this.inner.target }

  notify (n: AlertNotification): void {
    const id = n.alert.id
    if (n.status === 'firing') {
      if (!this.told.has(id) && !this.held.has(id) && !routeMatches(this.route, n.alert, n.holdsBack)) return
      if (this.holds(n.alert)) {
        // A reminder of an alert that was announced before the quiet began stays a reminder.
        this.held.set(id, n)
        return
      }
      this.told.add(id)
      this.inner.notify(n)
      return
    }
    const heldFiring = this.held.get(id)
    this.held.delete(id)
    // The engine resolves only what was announced: one announced before a restart, or by the leader before a
    // failover (its state is in the store), counts as told when the route takes it.
    if (!this.told.has(id) && !(heldFiring === undefined && routeMatches(this.route, n.alert, n.holdsBack))) return
    if (heldFiring !== undefined || this.holds(n.alert)) {
      this.held.set(id, n)
      return
    }
    this.told.delete(id)
    this.inner.notify(n)
  }

  /** Sends what quiet hours held once they are over, then lets the receiver re-send what it was told about (Alertmanager). */
  tick (now: number, firing: readonly AlertRecord[]): void {
    if (this.held.size > 0 && !this.quietNow()) this.flush()
    // Announced firing alerts this receiver's route takes, this run or before it (a restart, a failover): Alertmanager keeps hearing of them.
    this.inner.tick?.(now, firing.filter((a) => this.told.has(a.id) || (!this.held.has(a.id) && routeMatches(this.route, a))))
  }

  stats (): ReceiverStats {
    return this.inner.stats()
  }

  delivery (): DeliveryState | undefined {
    return this.inner.delivery?.()
  }

  routing (): RoutingState {
    const q = this.quiet
    return {
      route: this.route ?? null,
      quietHours: q === undefined ? null : { from: hhmm(q.from), to: hhmm(q.to), timezone: q.timezone, except: q.except },
      quietNow: this.quietNow(),
      held: this.held.size,
    }
  }

  async test (options: ReceiverTestOptions): Promise<DeliveryOutcome> {
    if (this.inner.test === undefined) return { delivered: true, attempts: 0, last: { ok: true, answer: 'logged' } }
    return await this.inner.test(options)
  }

  async stop (deadlineMs: number): Promise<void> {
    await this.inner.stop(deadlineMs)
  }

  private holds (alert: AlertRecord): boolean {
    return this.quiet !== undefined && heldInQuiet(this.quiet, alert.severity) && this.quietNow()
  }

  private quietNow (): boolean {
    if (this.quiet === undefined || this.local === undefined) return false
    return isQuietAt(this.quiet, this.local.minutesOfDay(this.clock.wall()))
  }

  private flush (): void {
    const held = [...this.held.values()]
    this.held.clear()
    for (const n of held) {
      if (n.status === 'firing') this.told.add(n.alert.id)
      else this.told.delete(n.alert.id)
      this.inner.notify(n)
    }
  }
}

function hhmm (minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
}
