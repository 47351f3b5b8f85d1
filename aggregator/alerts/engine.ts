import type { Instant } from '../../shared/clock.ts'
import { RESOLVED_MEMORY } from './constants.ts'
import { inhibitions } from './inhibition.ts'
import { type AlertRule, matchRule, type RuleMatch } from './rules.ts'
import type { AlertInput, AlertNotification, AlertRecord, AlertSubject } from './types.ts'

/** One alert the engine is tracking (pending or firing). */
interface Tracked {
  rule: AlertRule
  record: AlertRecord
  /** A firing notification reached the receivers (so a resolved one must follow). */
  announced: boolean
  /** Monotonic: when the condition started to hold, and when it was last announced (`for` and repeat are intervals). */
  activeSinceMono: number
  lastAnnouncedAtMono: number | undefined
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

  /** Evaluates every rule against `input` at `now`; returns what the receivers must hear. */
  evaluate (input: AlertInput, now: Instant): AlertNotification[] {
    const out: AlertNotification[] = []
    const seen = new Set<string>()
    for (const rule of this.rules) {
      for (const match of matchRule(rule, input, now.wall)) {
        if (seen.has(match.id)) continue
        seen.add(match.id)
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
    const by = inhibitions(this.tracked.values())
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

  /** Moves one alert whose condition holds along its lifecycle (pending, then firing after `for`); announces nothing. */
  private advance (rule: AlertRule, match: RuleMatch, now: Instant): void {
    let t = this.tracked.get(match.id)
    if (t === undefined) {
      t = {
        rule,
        announced: false,
        activeSinceMono: now.mono,
        lastAnnouncedAtMono: undefined,
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
      out.push(withHeldBack({ status: 'firing', alert: record, repeat: false, at }, this.heldBackBy(record.id)))
    } else if (t.lastAnnouncedAtMono !== undefined && now.mono - t.lastAnnouncedAtMono >= t.rule.repeatInterval) {
      t.lastAnnouncedAtMono = now.mono
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
