import type { AlertRule } from './rules.ts'
import type { AlertRecord } from './types.ts'

/**
 * One cause, one notification (issue 15): Alertmanager's inhibit_rules, built
 * in. An unreachable Lotus makes its node unhealthy, its chain_source and
 * every check not ready, and later its head stuck: one cause, five alerts.
 * The node's own alert (it is down, stale or unhealthy) explains the rest,
 * so while it is active (pending or firing) the alerts about the same node's
 * components, head and lag are inhibited: they still show (the API and the
 * page mark them `inhibited`), but reach no receiver, and the node's alert
 * names them and carries their error texts. Pure.
 *
 * Rules are told apart by kind, not by name, so a rules file's own rules
 * take part: a `node_status` rule on down, stale or unhealthy is a cause; a
 * `component`, `head_stuck` or `node_lag` rule is a symptom. Fleet and
 * network alerts are neither: they name their nodes instead.
 */

/** Node statuses that explain everything else wrong with the node. */
const CAUSE_STATUSES: ReadonlySet<string> = new Set(['down', 'stale', 'unhealthy'])

/** Whether alerts of this rule explain the other alerts of their node. */
export function isNodeCause (rule: AlertRule): boolean {
  return rule.kind === 'node_status' && rule.statuses.some((s) => CAUSE_STATUSES.has(s))
}

/** Whether alerts of this rule are held back while their node's own alert is active. */
export function isNodeSymptom (rule: AlertRule): boolean {
  return rule.kind === 'component' || rule.kind === 'head_stuck' || rule.kind === 'node_lag'
}

/** An alert the engine tracks, with its rule. */
export interface InhibitionCandidate {
  rule: AlertRule
  record: Pick<AlertRecord, 'id' | 'subject' | 'state' | 'activeSince'>
}

/**
 * For each active alert that is inhibited, the id of the alert that explains
 * it: the oldest active cause about the same node (so the same one for as
 * long as it lasts). An alert is never inhibited by itself.
 */
export function inhibitions (active: Iterable<InhibitionCandidate>): Map<string, string> {
  const causeByNode = new Map<string, { id: string, since: number }>()
  const symptoms: InhibitionCandidate[] = []
  for (const a of active) {
    if (a.record.subject.kind !== 'node' || a.record.state === 'resolved') continue
    if (isNodeCause(a.rule)) {
      const peerId = a.record.subject.peerId
      const known = causeByNode.get(peerId)
      if (known === undefined || a.record.activeSince < known.since || (a.record.activeSince === known.since && a.record.id < known.id)) {
        causeByNode.set(peerId, { id: a.record.id, since: a.record.activeSince })
      }
    } else if (isNodeSymptom(a.rule)) {
      symptoms.push(a)
    }
  }
  const out = new Map<string, string>()
  for (const s of symptoms) {
    if (s.record.subject.kind !== 'node') continue
    const cause = causeByNode.get(s.record.subject.peerId)
    if (cause !== undefined && cause.id !== s.record.id) out.set(s.record.id, cause.id)
  }
  return out
}
