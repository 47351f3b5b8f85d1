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
 * network alerts are neither: they name their nodes instead. One cause ranks
 * above the node's status: an identity conflict (two agents on one key) is
 * what makes such a node unhealthy, so while it is active the node's status
 * alerts are its symptoms too.
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

/** Whether alerts of this rule explain even the node's own status alerts. */
export function isRootCause (rule: AlertRule): boolean {
  return rule.kind === 'identity_conflict'
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
  const rootByNode = new Map<string, { id: string, since: number }>()
  const causeByNode = new Map<string, { id: string, since: number }>()
  const causes: InhibitionCandidate[] = []
  const symptoms: InhibitionCandidate[] = []
  for (const a of active) {
    if (a.record.subject.kind !== 'node' || a.record.state === 'resolved') continue
    const peerId = a.record.subject.peerId
    if (isRootCause(a.rule)) {
      keepOldest(rootByNode, peerId, a.record)
    } else if (isNodeCause(a.rule)) {
      keepOldest(causeByNode, peerId, a.record)
      causes.push(a)
    } else if (isNodeSymptom(a.rule)) {
      symptoms.push(a)
    }
  }
  const out = new Map<string, string>()
  for (const c of causes) {
    if (c.record.subject.kind !== 'node') continue
    const root = rootByNode.get(c.record.subject.peerId)
    if (root !== undefined) out.set(c.record.id, root.id)
  }
  for (const s of symptoms) {
    if (s.record.subject.kind !== 'node') continue
    const peerId = s.record.subject.peerId
    const cause = rootByNode.get(peerId) ?? causeByNode.get(peerId)
    if (cause !== undefined && cause.id !== s.record.id) out.set(s.record.id, cause.id)
  }
  return out
}

/** Keeps, per node, the oldest active alert (ties broken by id, so the choice is stable). */
function keepOldest (byNode: Map<string, { id: string, since: number }>, peerId: string, record: InhibitionCandidate['record']): void {
  const known = byNode.get(peerId)
  if (known === undefined || record.activeSince < known.since || (record.activeSince === known.since && record.id < known.id)) {
    byNode.set(peerId, { id: record.id, since: record.activeSince })
  }
}
