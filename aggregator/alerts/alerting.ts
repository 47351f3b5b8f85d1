import { type Clock, type Instant, systemClock } from '../../shared/clock.ts'
import { formatDuration } from '../../shared/duration.ts'
import { ErrorCodes, errorMessage } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { AlertingConfig } from './config.ts'
import { EVALUATE_EVERY_MS, EVALUATE_MAX_SHARE, RECEIVER_DRAIN_MS, RECEIVER_QUEUE_CAPACITY } from './constants.ts'
import { type AlertingChange, AlertingChangeTracker } from './change-tracker.ts'
import { AlertEngine, type AlertEngineState } from './engine.ts'
import { alertInputFromSnapshot, type FleetSnapshot } from './input.ts'
import { agentMaintenance, MaintenanceBook, type MaintenanceScope, nextWindowEnd } from './maintenance.ts'
import { createReceivers } from './receivers/index.ts'
import { LogReceiver } from './receivers/log.ts'
import type { AlertReceiver, AlertSource } from './receivers/receiver.ts'
import { receiverStatus, type ReceiverStatus, receiversTest, type ReceiverTestResult } from './receivers/status.ts'
import { type AlertRule, nextRuleChange, type RuleMatch } from './rules.ts'
import type { AlertNotification, AlertRecord, MaintenanceWindow } from './types.ts'
import { alertView, type AlertView, maintenanceView, type MaintenanceView } from './views.ts'

export type { AlertView, MaintenanceView } from './views.ts'

/** What a node's last heartbeat said about maintenance, and when it was sent (agent clock) and received (our monotonic clock). */
export interface AnnouncedMaintenance {
  announced: { until?: number, reason?: string } | undefined
  sentAt: number
  receivedAtMono: number
}

export interface AlertingOptions {
  config: AlertingConfig
  /** The fleet as the API shows it (node views and summary). */
  snapshot: () => FleetSnapshot
  announcedMaintenance: (peerId: string) => AnnouncedMaintenance | undefined
  source: AlertSource
  logger: Logger
  /**
   * The fleet's revision (FleetState.revision): bumped when anything the
   * rules read may have changed. With it, an evaluation is skipped while it
   * has not moved and nothing is due (a `for` running out, a repeat, a head
   * turning stuck, a window ending); without it, every interval evaluates.
   */
  revision?: () => number
  /** Receivers' retry timers, and how long an evaluation takes; the system clock when absent. */
  clock?: Clock
  evaluateEveryMs?: number
  /** Whether this aggregator evaluates and notifies now (it holds the alerting lease); always when absent. */
  leading?: () => boolean
  /** Saves the engine's state before its notifications go out (alerts/state-store.ts); without it they go out at once. */
  persist?: AlertStateSaver
  /** Nodes still expected back after a restart: they start no new alert (nor do fleet-wide rules while any is). */
  settling?: (peerId: string) => boolean
  /** An operator started or ended a window on this aggregator: the store keeps it. */
  onMaintenanceChange?: (scope: MaintenanceScope, window: MaintenanceWindow | undefined, now: Instant) => void
  /** Who leads alerting, for GET /api/v1/alerts. */
  leader?: () => LeaderView
}

/** The alerting leader as GET /api/v1/alerts shows it. */
export interface LeaderView {
  /** Its name in the store (its peer id unless --instance named it). */
  aggregator: string | null
  /** This aggregator leads. */
  self: boolean
  since: string | null
}

/** Where the engine's state goes before notifications leave (see Alerting.evaluate). */
export interface AlertStateSaver {
  save: (state: AlertEngineState) => Promise<void>
  /**
   * True when notifications must wait for the save (a shared store: another
   * aggregator may take over from what was saved, and must not announce it
   * again). False for a store of this aggregator alone: a disk that refuses
   * the save must not silence alerts.
   */
  durable: boolean
}

export interface FleetAlerts {
  firing: AlertView[]
  /** Alerts whose condition holds but not yet for their rule's `for`. */
  pending: number
  /** Receivers whose last delivery failed (the page's alerts panel says so); absent when all deliver. */
  failingReceivers?: Array<{ name: string, kind: string, target: string, error: string | null, since: string | null }>
}

export interface MaintenanceDocument {
  fleet: MaintenanceView | null
  nodes: Array<MaintenanceView & { peerId: string }>
}

/** The live feed's `alerts` event: the two fields of the fleet document that alerting adds. */
export interface AlertsFeedDocument {
  alerts: FleetAlerts
  maintenance: MaintenanceDocument
}

export type { AlertingChange }

function ruleView (r: AlertRule): Record<string, unknown> {
  const { for: forMs, repeatInterval, description, ...rest } = r
  const out: Record<string, unknown> = { ...rest, for: formatDuration(forMs), repeatInterval: formatDuration(repeatInterval) }
  if (description !== undefined) out.description = description
  if (r.kind === 'head_stuck') out.after = formatDuration(r.after)
  return out
}

/**
 * The alerting shell: evaluates the rules on the fleet's status tick (at
 * most once per interval), hands notifications to every receiver, and keeps
 * the maintenance windows. Receivers queue and deliver on their own, so
 * nothing here waits on the network.
 */
export class Alerting {
  readonly maintenance = new MaintenanceBook({ onChange: (scope, now) => { this.maintenanceChanged(scope, now) } })
  readonly engine: AlertEngine
  readonly receivers: AlertReceiver[]
  private readonly options: AlertingOptions
  private readonly log: Logger
  private readonly clock: Clock
  private readonly every: number
  private lastEvaluatedAt: number | undefined
  /** The fleet revision the last evaluation read, and the next moment it must run even if that has not moved (monotonic). */
  private evaluatedRevision: number | undefined
  private evaluatedFailing: string | undefined
  private nextDueAt: number | undefined
  /** An operator changed a window since the last evaluation (here, or through the store). */
  private windowsChanged = false
  /** A follower took a leader's state that differs from what it showed; and whether the last evaluation led. */
  private stateFollowed = false
  private evaluatedLeading: boolean | undefined
  private lastReceiverTickAt: number | undefined
  /** How long the last evaluation took (monotonic ms) and the interval that follows from it. */
  private lastTookMs = 0
  private intervalMs: number
  private readonly changes = new AlertingChangeTracker()
  private readonly listeners = new Set<(change: AlertingChange) => void>()
  /** The window in force per node as of the last evaluation; operators' changes are applied at once. */
  private nodeWindows = new Map<string, MaintenanceWindow>()
  /** Notifications waiting for their state to be saved (bounded), and the save loop. */
  private outbox: AlertNotification[] = []
  private saving: Promise<void> | undefined
  private saveAgain = false
  /** Notifications given up on: the outbox was full while saves kept failing. */
  droppedNotifications = 0

  constructor (options: AlertingOptions) {
    this.options = options
    this.log = options.logger
    this.clock = options.clock ?? systemClock
    this.every = options.evaluateEveryMs ?? EVALUATE_EVERY_MS
    this.intervalMs = this.every
    this.engine = new AlertEngine(options.config.rules)
    const { source, logger } = options
    // The log always; then what the flags and the rules file name.
    this.receivers = [
      new LogReceiver(logger.child({ component: 'alerts' })),
      ...createReceivers(options.config.receivers, { source, logger, clock: this.clock }),
    ]
  }

  /**
   * For FleetState's tick: evaluates when the interval has passed (monotonic)
   * and something may have changed (the fleet's revision moved, a window
   * changed, or a time-driven change is due); otherwise only lets the
   * receivers keep their pace. A quiet fleet costs nothing per node.
   */
  onTick (now: Instant): void {
    if (this.lastEvaluatedAt !== undefined && now.mono - this.lastEvaluatedAt < this.intervalMs) return
    const revision = this.options.revision?.()
    // A receiver that starts or stops failing is news for the page too (a cheap look: one per receiver).
    const failing = this.failingReceivers().map((r) => r.name).join('\u0000')
    // Leadership that came or went, a leader's state taken as a follower, notifications waiting for the store: not quiet.
    const leading = this.options.leading?.() ?? true
    const quiet = this.lastEvaluatedAt !== undefined && revision !== undefined && revision === this.evaluatedRevision &&
      !this.windowsChanged && !this.stateFollowed && leading === this.evaluatedLeading && this.outbox.length === 0 &&
      failing === this.evaluatedFailing && (this.nextDueAt === undefined || now.mono < this.nextDueAt)
    if (quiet) {
      if (leading && (this.lastReceiverTickAt === undefined || now.mono - this.lastReceiverTickAt >= this.every)) {
        this.lastReceiverTickAt = now.mono
        const firing = this.engine.announcedFiring()
        for (const r of this.receivers) r.tick?.(now.wall, firing)
      }
      return
    }
    this.evaluatedRevision = revision
    const started = this.clock.monotonic()
    this.evaluate(now)
    this.lastTookMs = this.clock.monotonic() - started
    this.intervalMs = Math.max(this.every, Math.ceil(this.lastTookMs / EVALUATE_MAX_SHARE))
  }

  evaluate (now: Instant): void {
    this.lastEvaluatedAt = now.mono
    this.lastReceiverTickAt = now.mono
    this.windowsChanged = false
    this.stateFollowed = false
    const leading = this.options.leading?.() ?? true
    this.evaluatedLeading = leading
    try {
      // The windows are collected on the walk the rules need anyway: what changed is known without another pass.
      const windows = new Map<string, MaintenanceWindow>()
      // Operators' windows include peers that never reported (the walk below does not meet those).
      for (const entry of this.maintenance.list(now)) if (entry.peerId !== undefined) windows.set(entry.peerId, entry)
      const fleetWindow = this.maintenance.fleet(now)
      const input = alertInputFromSnapshot(this.options.snapshot(), {
        nodeMaintenance: (peerId) => {
          const w = this.maintenanceOf(peerId, now)
          if (w !== undefined) windows.set(peerId, w)
          return w
        },
        fleetMaintenance: fleetWindow,
      })
      // Only the leader evaluates and notifies; the others show what it saved (AlertingPart follows the store).
      let heldBack = false
      if (leading) {
        const admit = this.admission(input.nodes)
        const notifications = this.engine.evaluate(input, now, admit === undefined ? {} : {
          admit: (match) => {
            if (admit(match)) return true
            heldBack = true
            return false
          },
        })
        this.dispatch(notifications)
        const firing = this.engine.announcedFiring()
        for (const r of this.receivers) r.tick?.(now.wall, firing)
      }
      this.nodeWindows = windows
      // A match held back while its node settles after a restart is looked at again each interval (the settling ends by time).
      this.nextDueAt = earliest(this.engine.nextDue(), nextRuleChange(this.engine.ruleSet, input, now.mono),
        nextWindowEnd(windows.values()), fleetWindow?.untilMono, heldBack ? now.mono + this.every : undefined)
      const failing = this.failingReceivers().map((r) => r.name).join('\u0000')
      this.evaluatedFailing = failing
      const change = this.changes.observe(this.engine.active(), fleetWindow, windows, failing)
      if (change.alerts || change.peerIds.length > 0) this.emit(change)
    } catch (err) {
      // A bug here must not stop the status tick that called us.
      this.log.error({ err: errorMessage(err) }, 'alert evaluation failed')
    }
  }

  /** Who may start a new alert now: not a node still expected back after a restart, nor a fleet-wide rule while any is. */
  private admission (nodes: ReadonlyArray<{ peerId: string }>): ((match: RuleMatch) => boolean) | undefined {
    const settling = this.options.settling
    if (settling === undefined) return undefined
    let any: boolean | undefined
    return (match) => {
      if (match.subject.kind === 'node') return !settling(match.subject.peerId)
      any ??= nodes.some((n) => settling(n.peerId))
      return !any
    }
  }

  /**
   * Hands notifications to the receivers: at once without a store; else
   * after the state that produced them is saved, so a restart or a new
   * leader neither announces them again nor misses them (docs/alerts.md,
   * "Alerting that fails over").
   */
  private dispatch (notifications: AlertNotification[]): void {
    const persist = this.options.persist
    if (persist === undefined) {
      this.deliver(notifications)
      return
    }
    if (notifications.length > 0) {
      this.outbox.push(...notifications)
      const excess = this.outbox.length - RECEIVER_QUEUE_CAPACITY
      if (excess > 0) {
        this.outbox.splice(0, excess)
        this.droppedNotifications += excess
      }
    }
    if (this.saving !== undefined) {
      this.saveAgain = true
      return
    }
    this.saving = this.saveLoop(persist).finally(() => { this.saving = undefined })
  }

  private async saveLoop (persist: AlertStateSaver): Promise<void> {
    do {
      this.saveAgain = false
      const batch = this.outbox
      this.outbox = []
      try {
        await persist.save(this.engine.exportState())
      } catch (err) {
        const lost = (err as { code?: unknown }).code === ErrorCodes.LEASE_LOST || !(this.options.leading?.() ?? true)
        if (lost) {
          // Another aggregator leads from what was saved before: these are its to announce.
          this.log.warn({ dropped: batch.length }, 'lost the alerting lease before the alert state was saved; the new leader carries on')
          return
        }
        if (!persist.durable) {
          this.log.error({ err: errorMessage(err) }, 'could not save the alert state; notifying anyway')
          this.deliver(batch)
        } else {
          this.log.error({ err: errorMessage(err) }, 'could not save the alert state; notifications wait for the store')
          this.outbox = batch.concat(this.outbox)
        }
        return
      }
      this.deliver(batch)
    } while (this.saveAgain)
  }

  private deliver (notifications: readonly AlertNotification[]): void {
    for (const n of notifications) for (const r of this.receivers) r.notify(n)
  }

  /** Resolves once no save is running (tests, stop). */
  async settled (): Promise<void> {
    while (this.saving !== undefined) await this.saving
  }

  /**
   * This aggregator stopped leading: what waited for a save is the new
   * leader's to announce (it derives it from the saved state).
   */
  dropPending (): void {
    this.outbox = []
  }

  /** Takes the leader's saved state (a follower); the next evaluation tells the page what changed, if anything did. */
  follow (state: AlertEngineState, now: Instant): void {
    const before = activeKey(this.engine.active())
    this.engine.importState(state, { now })
    if (activeKey(this.engine.active()) !== before) this.stateFollowed = true
  }

  /** A window as the store has it (set by an operator of another aggregator, or before a restart). */
  applyStoredWindow (scope: MaintenanceScope, window: MaintenanceWindow | undefined, now: Instant): void {
    this.maintenance.replace(scope, window)
    this.windowsChanged = true
    this.refreshWindow(scope, now)
  }

  /**
   * A node was removed from the fleet: an operator's window on it ends, and
   * its alerts resolve at once (receivers hear so, rather than keep a
   * problem open about a node nobody watches any more).
   */
  forgetNode (peerId: string, now: Instant): void {
    this.maintenance.end({ peerId }, now)
    this.evaluate(now)
  }

  /** The window in force for a node: an operator's first, else the one its agent announces. */
  maintenanceOf (peerId: string, now: Instant): MaintenanceWindow | undefined {
    const admin = this.maintenance.node(peerId, now)
    if (admin !== undefined) return admin
    const beat = this.options.announcedMaintenance(peerId)
    return beat === undefined ? undefined : agentMaintenance(beat.announced, beat, now)
  }

  /**
   * Hears when what the page shows of alerting changed: the firing/pending
   * set, the fleet-wide window, or a node's own window (`peerIds`). Told at
   * most once per evaluation, and at once when an operator starts or ends a
   * window. Returns the unsubscribe function.
   */
  subscribe (listener: (change: AlertingChange) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** The live feed's `alerts` event: firing alerts, the pending count, the windows in force. O(alerts + windows), not O(fleet). */
  feedDocument (now: Instant): AlertsFeedDocument {
    const fleet = this.maintenance.fleet(now)
    const nodes = [...this.nodeWindows]
      .filter(([, w]) => w.untilMono === undefined || w.untilMono > now.mono)
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([peerId, w]) => ({ peerId, ...maintenanceView(w) }))
    return { alerts: this.fleetAlerts(), maintenance: { fleet: fleet === undefined ? null : maintenanceView(fleet), nodes } }
  }

  /** Every window in force, operators' and agents'. */
  maintenanceDocument (now: Instant, peerIds: Iterable<string> = this.peerIds()): MaintenanceDocument {
    const fleet = this.maintenance.fleet(now)
    const nodes = new Map<string, MaintenanceView & { peerId: string }>()
    for (const entry of this.maintenance.list(now)) {
      if (entry.peerId !== undefined) nodes.set(entry.peerId, { peerId: entry.peerId, ...maintenanceView(entry) })
    }
    for (const peerId of peerIds) {
      if (nodes.has(peerId)) continue
      const w = this.maintenanceOf(peerId, now)
      if (w !== undefined) nodes.set(peerId, { peerId, ...maintenanceView(w) })
    }
    return { fleet: fleet === undefined ? null : maintenanceView(fleet), nodes: [...nodes.values()] }
  }

  /** GET /api/v1/alerts. */
  document (now: Instant): Record<string, unknown> {
    return {
      generatedAt: new Date(now.wall).toISOString(),
      alerts: this.engine.active().map(alertView),
      resolved: this.engine.recentlyResolved().map(alertView),
      maintenance: this.maintenanceDocument(now, this.peerIds()),
      evaluation: { intervalMs: this.intervalMs, lastTookMs: Math.round(this.lastTookMs * 10) / 10 },
      leader: this.options.leader?.() ?? { aggregator: this.options.source.peerId(), self: true, since: null },
      rules: this.engine.ruleSet.map(ruleView),
      receivers: this.receiverStatus(),
    }
  }

  /** Each receiver: its name, kind, target, counters, delivery state and routing (GET /api/v1/alerts, metrics). */
  receiverStatus (): ReceiverStatus[] {
    return this.receivers.map(receiverStatus)
  }

  /**
   * Sends a test message to every receiver (or those named) and says what
   * each answered: POST /api/v1/alerts/test. Unknown names are refused.
   */
  async testReceivers (options: { names?: readonly string[] | undefined, note?: string, signal: AbortSignal }): Promise<ReceiverTestResult[]> {
    return await receiversTest(this.receivers, { ...options, at: this.clock.wall(), clock: this.clock })
  }

  /** One node's window, as node views carry it (`maintenance`). */
  nodeMaintenanceView (peerId: string, now: Instant): MaintenanceView | null {
    const w = this.maintenanceOf(peerId, now)
    return w === undefined ? null : maintenanceView(w)
  }

  /** The fleet document's `alerts`: firing alerts, the pending count, and the receivers that are not getting through. */
  fleetAlerts (): FleetAlerts {
    const active = this.engine.active()
    const out: FleetAlerts = {
      firing: active.filter((a) => a.state === 'firing').map(alertView),
      pending: active.filter((a) => a.state === 'pending').length,
    }
    const failing = this.failingReceivers()
    if (failing.length > 0) out.failingReceivers = failing
    return out
  }

  private failingReceivers (): NonNullable<FleetAlerts['failingReceivers']> {
    const out: NonNullable<FleetAlerts['failingReceivers']> = []
    for (const r of this.receivers) {
      const d = r.delivery?.()
      if (d === undefined || !d.failing) continue
      out.push({ name: r.name ?? r.kind, kind: r.kind, target: r.target, error: d.lastError, since: d.lastErrorAt === null ? null : new Date(d.lastErrorAt).toISOString() })
    }
    return out
  }

  /** An operator started or ended a window: the store keeps it, the page hears of it now, not at the next evaluation. */
  private maintenanceChanged (scope: MaintenanceScope, now: Instant): void {
    this.windowsChanged = true
    this.options.onMaintenanceChange?.(scope, 'fleet' in scope ? this.maintenance.fleet(now) : this.maintenance.node(scope.peerId, now), now)
    this.refreshWindow(scope, now)
  }

  private refreshWindow (scope: MaintenanceScope, now: Instant): void {
    if ('fleet' in scope) {
      this.changes.observeFleet(this.maintenance.fleet(now))
      this.emit({ alerts: true, peerIds: [] })
      return
    }
    const w = this.maintenanceOf(scope.peerId, now)
    if (w === undefined) this.nodeWindows.delete(scope.peerId)
    else this.nodeWindows.set(scope.peerId, w)
    this.changes.observeNode(scope.peerId, w)
    this.emit({ alerts: true, peerIds: [scope.peerId] })
  }

  private emit (change: AlertingChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'alerting change listener failed')
      }
    }
  }

  async stop (deadlineMs: number = RECEIVER_DRAIN_MS): Promise<void> {
    await this.settled()
    await Promise.all(this.receivers.map(async (r) => { await r.stop(deadlineMs) }))
  }

  private peerIds (nodes: readonly unknown[] = this.options.snapshot().nodes): string[] {
    return nodes.map((n) => (n as { peerId?: unknown }).peerId).filter((p): p is string => typeof p === 'string')
  }
}

/** What the page shows of the active alerts, as one string: whether a followed state changed anything. */
function activeKey (alerts: readonly AlertRecord[]): string {
  return JSON.stringify(alerts.map((a) => [a.id, a.state, a.silenced, a.summary, a.description, a.inhibitedBy ?? null]))
}

/** The smallest of the defined values. */
function earliest (...values: Array<number | undefined>): number | undefined {
  let min: number | undefined
  for (const v of values) if (v !== undefined && (min === undefined || v < min)) min = v
  return min
}
