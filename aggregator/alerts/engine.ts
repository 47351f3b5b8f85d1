import type { Instant } from '../../shared/clock.ts'
import { RESOLVED_MEMORY } from './constants.ts'
import { inhibitions } from './inhibition.ts'
import { type AlertRule, matchRule, type RuleMatch } from './rules.ts'
import type { AlertInput, AlertNotification, AlertRecord, AlertSubject } from './types.ts'

/** One alert the engine is tracking (pending or firing). */
interface Tracked {
  /** Undefined for an alert loaded from the store whose rule is gone: it resolves at the next evaluation. */
  rule: AlertRule | undefined
  record: AlertRecord
  /** A firing notification reached the receivers (so a resolved one must follow). */
  announced: boolean
  /** Monotonic: when the condition started to hold, and when it was last announced (`for` and repeat are intervals). */
  activeSinceMono: number
  lastAnnouncedAtMono: number | undefined
  /** Wall stamp of the last announcement: what the store keeps of it (a restart has a new monotonic origin). */
  lastAnnouncedAt: number | undefined
}

/**
 * The alert lifecycle, pure (time comes in with each call, on both clocks:
 * `for` and the repeat interval are measured on the monotonic one, the wall
 * one only stamps the records, never before their previous stamp): a rule's
 * condition that starts to hold makes a pending alert; held for the rule's
 * `for`, it fires; when it stops holding, a firing alert resolves and a
 * pending one is dropped without a word. One alert per rule and subject
 * (de-duplicated); a firing alert is announced again every repeat interval.
 *
 * Maintenance silences without changing the lifecycle: a silenced alert
 * still goes pending and fires (the API shows it), but no firing notice
 * goes out while the window lasts. If it resolves after having been
 * announced, the resolved notice does go out, so no receiver is left
 * believing in a problem that is gone; if it still fires when the window
 * ends, it is announced then.
 *
 * Inhibition (inhibition.ts) holds notices back the same way: an alert
 * whose node's own alert explains it (the node is down or unhealthy) is
 * marked `inhibitedBy` and not announced while that alert is active; the
 * explaining alert's firing notice lists it (`holdsBack`). Evaluation runs
 * in three steps so that is known before anything is announced: advance
 * every alert's state, mark what is inhibited, then announce.
 */
export class AlertEngine {
  private readonly rules: AlertRule[]
  private readonly tracked = new Map<string, Tracked>()
  private readonly resolved: AlertRecord[] = []
  private readonly resolvedMemory: number

  constructor (rules: AlertRule[], options: { resolvedMemory?: number } = {}) {
    this.rules = rules
    this.resolvedMemory = options.resolvedMemory ?? RESOLVED_MEMORY
  }

  get ruleSet (): readonly AlertRule[] {
    return this.rules
  }

  /**
   * Evaluates every rule against `input` at `now`; returns what the receivers
   * must hear. `admit` may hold back alerts not tracked yet (a node still
   * expected back after a restart); tracked ones always go on.
   */
  evaluate (input: AlertInput, now: Instant, options: { admit?: (match: RuleMatch) => boolean } = {}): AlertNotification[] {
    const out: AlertNotification[] = []
    const seen = new Set<string>()
    for (const rule of this.rules) {
      for (const match of matchRule(rule, input, now.wall)) {
        if (seen.has(match.id)) continue
        seen.add(match.id)
        if (options.admit !== undefined && !this.tracked.has(match.id) && !options.admit(match)) continue
        this.advance(rule, match, now)
      }
    }
    const resolved = this.resolveGone(seen, now)
    this.markInhibited()
    for (const t of this.tracked.values()) this.announce(t, now, out)
    out.push(...resolved)
    return out
  }

  /** Alerts whose condition no longer holds: forgotten; a firing one resolves (and is announced if it was). */
  private resolveGone (seen: ReadonlySet<string>, now: Instant): AlertNotification[] {
    const out: AlertNotification[] = []
    for (const [id, t] of this.tracked) {
      if (seen.has(id)) continue
      this.tracked.delete(id)
      if (t.record.state !== 'firing') continue
      const resolvedAt = Math.max(now.wall, t.record.firedAt ?? t.record.activeSince)
      const record: AlertRecord = { ...t.record, state: 'resolved', resolvedAt, inhibitedBy: undefined }
      this.remember(record)
      if (t.announced) out.push({ status: 'resolved', alert: record, repeat: false, at: resolvedAt })
    }
    return out
  }

  /** Marks each tracked alert with the alert that inhibits it (or none), from the alerts active now. */
  private markInhibited (): void {
    // Every tracked alert has its rule by now (one loaded without its rule resolved just before).
    const by = inhibitions([...this.tracked.values()].filter((t): t is Tracked & { rule: AlertRule } => t.rule !== undefined))
    for (const [id, t] of this.tracked) {
      const inhibitedBy = by.get(id)
      if (t.record.inhibitedBy !== inhibitedBy) t.record = { ...t.record, inhibitedBy }
    }
  }

  /** The alerts `sourceId` inhibits now (for its message). */
  private heldBackBy (sourceId: string): AlertRecord[] {
    const out: AlertRecord[] = []
    for (const t of this.tracked.values()) if (t.record.inhibitedBy === sourceId) out.push(t.record)
    return out
  }

  /** Pending and firing alerts, firing first, then oldest first. */
  active (): AlertRecord[] {
    return [...this.tracked.values()].map((t) => t.record)
      .sort((a, b) => (a.state === b.state ? 0 : a.state === 'firing' ? -1 : 1) || a.activeSince - b.activeSince || a.id.localeCompare(b.id))
  }

  /** Firing alerts that were announced and are neither silenced nor inhibited: what Alertmanager must keep hearing about. */
  announcedFiring (): AlertRecord[] {
    return [...this.tracked.values()]
      .filter((t) => t.announced && t.record.state === 'firing' && !t.record.silenced && t.record.inhibitedBy === undefined)
      .map((t) => t.record)
  }

  /** Recently resolved alerts, newest first. */
  recentlyResolved (): AlertRecord[] {
    return [...this.resolved].reverse()
  }

  /**
   * What the engine knows, for the store (alerts/state-store.ts): a restart
   * or another leader carries on from it. Its times are wall stamps (the
   * condition's start, the last announcement): another process, or this one
   * after a restart, has another monotonic origin.
   */
  exportState (): AlertEngineState {
    return {
      tracked: [...this.tracked.values()].map((t) => ({ record: t.record, announced: t.announced, lastAnnouncedAt: t.lastAnnouncedAt })),
      resolved: [...this.resolved],
    }
  }

  /**
   * Carries on from a stored state: what was announced is not announced
   * again, and what resolves from here is. `merge` keeps what this engine
   * already tracks and adds only what it does not (a store that opened late).
   *
   * The stored wall stamps are placed on this process's monotonic clock as
   * far back as the wall clock says at `now`, never in the future: `for`
   * and the repeat interval carry on across a restart (counting the time
   * the process was away). An alert this engine already tracks with the
   * same stamps keeps its monotonic times, so a follower that takes the
   * leader's state again and again (or a wall step meanwhile) moves nothing.
   */
  importState (state: AlertEngineState, options: { merge?: boolean, now: Instant }): void {
    const { now } = options
    const monoOf = (wall: number): number => now.mono - Math.max(0, now.wall - wall)
    const previous = new Map(this.tracked)
    if (options.merge === true) {
      for (const t of state.tracked) {
        if (!this.tracked.has(t.record.id)) this.tracked.set(t.record.id, this.imported(t, undefined, monoOf))
      }
    } else {
      this.tracked.clear()
      for (const t of state.tracked) this.tracked.set(t.record.id, this.imported(t, previous.get(t.record.id), monoOf))
    }
    const resolved = options.merge === true ? [...this.resolved, ...state.resolved] : [...state.resolved]
    const unique = new Map(resolved.map((r) => [`${r.id}@${r.resolvedAt ?? 0}`, r]))
    this.resolved.length = 0
    this.resolved.push(...[...unique.values()].sort((a, b) => (a.resolvedAt ?? 0) - (b.resolvedAt ?? 0)).slice(-this.resolvedMemory))
  }

  /** One stored alert as tracked here: its rule from this aggregator's configuration, its times on the monotonic clock. */
  private imported (t: AlertEngineState['tracked'][number], known: Tracked | undefined, monoOf: (wall: number) => number): Tracked {
    const sameStart = known !== undefined && known.record.activeSince === t.record.activeSince
    return {
      rule: this.rules.find((r) => r.name === t.record.name),
      record: t.record,
      announced: t.announced,
      activeSinceMono: sameStart ? known.activeSinceMono : monoOf(t.record.activeSince),
      lastAnnouncedAtMono: t.lastAnnouncedAt === undefined
        ? undefined
        : sameStart && known.lastAnnouncedAt === t.lastAnnouncedAt && known.lastAnnouncedAtMono !== undefined ? known.lastAnnouncedAtMono : monoOf(t.lastAnnouncedAt),
      lastAnnouncedAt: t.lastAnnouncedAt,
    }
  }

  /** Moves one alert whose condition holds along its lifecycle (pending, then firing after `for`); announces nothing. */
  private advance (rule: AlertRule, match: RuleMatch, now: Instant): void {
    let t = this.tracked.get(match.id)
    if (t === undefined) {
      t = {
        rule,
        announced: false,
        activeSinceMono: now.mono,
        lastAnnouncedAtMono: undefined,
        lastAnnouncedAt: undefined,
        record: {
          id: match.id,
          name: rule.name,
          severity: rule.severity,
          // Labels are fixed when the alert starts: they are its identity for Alertmanager.
          labels: alertLabels(rule, match.subject),
          summary: match.summary,
          description: match.description,
          subject: match.subject,
          state: 'pending',
          activeSince: now.wall,
          firedAt: undefined,
          resolvedAt: undefined,
          silenced: match.silenced,
          inhibitedBy: undefined,
        },
      }
      this.tracked.set(match.id, t)
    }
    // A state loaded from the store meets its rule again here (rules come from this aggregator's configuration).
    t.rule = rule
    const record: AlertRecord = { ...t.record, summary: match.summary, description: match.description, silenced: match.silenced }
    if (record.state === 'pending' && now.mono - t.activeSinceMono >= rule.for) {
      record.state = 'firing'
      record.firedAt = Math.max(now.wall, record.activeSince)
    }
    t.record = record
  }

  /**
   * The firing notice of an alert, once (and again every repeat interval),
   * unless maintenance silences it or another alert inhibits it. A notice
   * held back is announced once neither holds it any more.
   */
  private announce (t: Tracked, now: Instant, out: AlertNotification[]): void {
    const record = t.record
    if (record.state !== 'firing' || record.silenced || record.inhibitedBy !== undefined) return
    const at = Math.max(now.wall, record.firedAt ?? record.activeSince)
    if (!t.announced) {
      t.announced = true
      t.lastAnnouncedAtMono = now.mono
      t.lastAnnouncedAt = at
      out.push(withHeldBack({ status: 'firing', alert: record, repeat: false, at }, this.heldBackBy(record.id)))
    } else if (t.rule !== undefined && t.lastAnnouncedAtMono !== undefined && now.mono - t.lastAnnouncedAtMono >= t.rule.repeatInterval) {
      t.lastAnnouncedAtMono = now.mono
      t.lastAnnouncedAt = Math.max(at, t.lastAnnouncedAt ?? Number.NEGATIVE_INFINITY)
      out.push(withHeldBack({ status: 'firing', alert: record, repeat: true, at }, this.heldBackBy(record.id)))
    }
  }

  /**
   * The next monotonic moment at which an evaluation could change something
   * with no change in its input: a pending alert's `for` running out, or a
   * firing alert's repeat interval. Undefined when nothing is waiting.
   */
  nextDue (): number | undefined {
    let next: number | undefined
    const consider = (at: number): void => { if (next === undefined || at < next) next = at }
    for (const t of this.tracked.values()) {
      // Loaded without its rule: resolved at the next evaluation, which a changed state brings about anyway.
      if (t.rule === undefined) continue
      if (t.record.state === 'pending') consider(t.activeSinceMono + t.rule.for)
      else if (t.record.state === 'firing' && !t.record.silenced && t.lastAnnouncedAtMono !== undefined && Number.isFinite(t.rule.repeatInterval)) {
        consider(t.lastAnnouncedAtMono + t.rule.repeatInterval)
      }
    }
    return next
  }

  private remember (record: AlertRecord): void {
    this.resolved.push(record)
    if (this.resolved.length > this.resolvedMemory) this.resolved.shift()
  }
}

function withHeldBack (n: AlertNotification, heldBack: AlertRecord[]): AlertNotification {
  return heldBack.length === 0 ? n : { ...n, holdsBack: heldBack }
}

/** The engine's state as it is saved and loaded. */
export interface AlertEngineState {
  tracked: Array<{ record: AlertRecord, announced: boolean, lastAnnouncedAt: number | undefined }>
  /** Oldest first. */
  resolved: AlertRecord[]
}

/** alertname and severity, the rule's free labels, then the subject's (which the rule cannot override). */
export function alertLabels (rule: AlertRule, subject: AlertSubject): Record<string, string> {
  const labels: Record<string, string> = { ...rule.labels, alertname: rule.name, severity: rule.severity }
  switch (subject.kind) {
    case 'node':
      labels.peer_id = subject.peerId
      if (subject.nickname !== '') labels.nickname = subject.nickname
      if (subject.component !== undefined) labels.component = subject.component
      break
    case 'network':
      labels.network = subject.network
      break
    case 'fleet':
      break
  }
  return labels
}
