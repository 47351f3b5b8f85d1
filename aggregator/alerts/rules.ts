import { formatDuration, roundToSeconds } from '../../shared/duration.ts'
import type { HealthStatus } from '../../shared/health.ts'
import { identityConflictReason } from '../fleet/identity.ts'
import { compareNodeViews } from '../fleet/view.ts'
import type { NodeStatus } from '../fleet/types.ts'
import {
  DEFAULT_ALERT_FOR_MS, DEFAULT_HEAD_STUCK_AFTER_MS, DEFAULT_MAX_IN_DISPUTE, DEFAULT_MAX_LAG_BLOCKS,
  DEFAULT_MIN_HEALTHY_NODES, DEFAULT_REPEAT_INTERVAL_MS, MAX_NAMED_COMPONENTS, MAX_NAMED_NODES,
} from './constants.ts'
import type { AlertInput, AlertSubject, NetworkAlertInput, NodeAlertInput, Severity } from './types.ts'

export interface RuleCommon {
  /** Unique; the alert's name (Alertmanager's alertname). */
  name: string
  severity: Severity
  /** The condition must hold this long before the alert fires (ms). */
  for: number
  /** A firing alert is announced again this often (ms). */
  repeatInterval: number
  /** Free labels added to every alert of this rule. */
  labels: Record<string, string>
  /** Added to the alert's description. */
  description: string | undefined
}

export type RuleCondition =
  /** The node's derived status is one of these. */
  | { kind: 'node_status', statuses: NodeStatus[] }
  /** The node is more than maxLag blocks behind the heaviest head of its network. */
  | { kind: 'node_lag', maxLag: number }
  /** The node's head has not changed for longer than `after` (ms). */
  | { kind: 'head_stuck', after: number }
  /** A component (any, or one of `components`) reports one of these statuses. */
  | { kind: 'component', statuses: HealthStatus[], components: string[] | undefined }
  /** Fewer than `min` nodes have one of `statuses` (fleet-wide). */
  | { kind: 'fleet_min_healthy', min: number, statuses: NodeStatus[] }
  /** More than maxInDispute nodes of a network disagree with its heaviest head. */
  | { kind: 'network_dispute', maxInDispute: number }
  /** The node's peer id is used by two agents at once (docs/fleet-semantics.md, "One identity, one node"). */
  | { kind: 'identity_conflict' }
  /** Every reporting node of a network has a head older than its threshold: the network is behind the clock. */
  | { kind: 'network_behind_clock' }

export type AlertRule = RuleCommon & RuleCondition
export type RuleKind = RuleCondition['kind']

/** One subject for which a rule's condition holds now. */
export interface RuleMatch {
  /** The de-duplication key: rule name + subject. */
  id: string
  subject: AlertSubject
  summary: string
  description: string
  /** Whether a maintenance window covers the subject. */
  silenced: boolean
}

/** Statuses of a node whose reports are current: it is connected and beating. */
const LIVE_STATUSES: ReadonlySet<NodeStatus> = new Set(['healthy', 'degraded', 'unhealthy'])

/** The built-in rules, used with no rules file; `forMs` is --alert-for. */
export function builtInRules (forMs: number = DEFAULT_ALERT_FOR_MS): AlertRule[] {
  const common = { for: forMs, repeatInterval: DEFAULT_REPEAT_INTERVAL_MS, labels: {}, description: undefined }
  return [
    { ...common, name: 'NodeDown', severity: 'critical', kind: 'node_status', statuses: ['down', 'stale'] },
    { ...common, name: 'NodeUnhealthy', severity: 'warning', kind: 'node_status', statuses: ['unhealthy'] },
    { ...common, name: 'NodeLagging', severity: 'warning', kind: 'node_lag', maxLag: DEFAULT_MAX_LAG_BLOCKS },
    { ...common, name: 'HeadStuck', severity: 'warning', kind: 'head_stuck', after: DEFAULT_HEAD_STUCK_AFTER_MS },
    { ...common, name: 'ComponentPanicked', severity: 'critical', kind: 'component', statuses: ['panicked'], components: undefined },
    { ...common, name: 'ComponentNotReady', severity: 'warning', kind: 'component', statuses: ['not_ready'], components: undefined },
    { ...common, name: 'FleetBelowMinimum', severity: 'critical', kind: 'fleet_min_healthy', min: DEFAULT_MIN_HEALTHY_NODES, statuses: ['healthy', 'degraded'] },
    { ...common, name: 'NetworkInDispute', severity: 'warning', kind: 'network_dispute', maxInDispute: DEFAULT_MAX_IN_DISPUTE },
    { ...common, name: 'IdentityConflict', severity: 'critical', kind: 'identity_conflict' },
    { ...common, name: 'FleetBehindClock', severity: 'critical', kind: 'network_behind_clock' },
  ]
}

export function displayName (node: { nickname: string, peerId: string }): string {
  return node.nickname !== '' ? `${node.nickname} (${node.peerId})` : node.peerId
}

/**
 * Where the rule's condition holds at `now` (wall ms; pure; nothing here
 * measures an interval on it: the inputs carry their durations). Nodes that announced a
 * graceful stop never match; rules about what a node reports (lag, head,
 * components) only look at nodes whose reports are current.
 */
export function matchRule (rule: AlertRule, input: AlertInput, _now: number): RuleMatch[] {
  const fleetSilenced = input.fleetMaintenance !== undefined
  const forNode = (node: NodeAlertInput, suffix: string, summary: string, component?: string): RuleMatch => ({
    id: `${rule.name}/node/${node.peerId}${suffix}`,
    subject: { kind: 'node', peerId: node.peerId, nickname: node.nickname, ...(component !== undefined ? { component } : {}) },
    summary,
    description: describe(rule),
    silenced: fleetSilenced || node.maintenance !== undefined,
  })
  const candidates = input.nodes.filter((n) => n.status !== 'stopped')
  const live = candidates.filter((n) => LIVE_STATUSES.has(n.status))
  switch (rule.kind) {
    case 'node_status': {
      const statuses = new Set(rule.statuses)
      return candidates.filter((n) => statuses.has(n.status))
        .map((n) => forNode(n, '', `${displayName(n)} is ${n.status}${n.reason !== '' ? `: ${n.reason}` : ''}${componentCauses(n)}`))
    }
    case 'node_lag':
      return live.filter((n) => n.lag !== undefined && n.lag > rule.maxLag)
        .map((n) => forNode(n, '', `${displayName(n)} is ${String(n.lag)} blocks behind the heaviest head of its network (more than ${rule.maxLag})`))
    case 'head_stuck':
      // Measured on the aggregator's monotonic clock (headUnchangedForMs), never as wall now - lastHeadChange: a wall step is no stuck head.
      return live.filter((n) => n.headUnchangedForMs !== undefined && n.headUnchangedForMs > rule.after)
        .map((n) => forNode(n, '', `${displayName(n)}: head unchanged for ${formatDuration(roundToSeconds(n.headUnchangedForMs as number))} (more than ${formatDuration(rule.after)})`))
    case 'component': {
      const statuses = new Set<HealthStatus>(rule.statuses)
      const wanted = rule.components === undefined ? undefined : new Set(rule.components)
      const matches: RuleMatch[] = []
      for (const n of live) {
        for (const [name, component] of Object.entries(n.components)) {
          if (wanted !== undefined && !wanted.has(name)) continue
          if (!statuses.has(component.status)) continue
          const cause = component.error !== undefined ? `: ${component.error}` : ''
          matches.push(forNode(n, `/component/${name}`, `${displayName(n)}: component ${name} is ${component.status}${cause}`, name))
        }
      }
      return matches
    }
    case 'fleet_min_healthy': {
      // A fleet with no node (yet), or whose nodes all announced a stop, is not "below minimum": nothing was lost.
      if (candidates.length === 0) return []
      const statuses = new Set(rule.statuses)
      const healthy = candidates.filter((n) => statuses.has(n.status)).length
      if (healthy >= rule.min) return []
      const short = byDisplayName(candidates.filter((n) => !statuses.has(n.status))).map((n) => `${shortName(n)} ${n.status}`)
      return [{
        id: `${rule.name}/fleet`,
        subject: { kind: 'fleet' },
        summary: `${healthy} of ${candidates.length} nodes are ${rule.statuses.join(' or ')}, fewer than the minimum of ${rule.min}${short.length > 0 ? `: ${nameSome(short)}` : ''}`,
        description: describe(rule),
        silenced: fleetSilenced,
      }]
    }
    case 'identity_conflict':
      return candidates.filter((n) => n.identityConflict !== undefined)
        .map((n) => forNode(n, '', `${displayName(n)}: ${identityConflictReason(n.peerId, n.identityConflict as { agents: number, addresses: string[] })}`))
    case 'network_dispute':
      return (input.networks ?? []).filter((n) => n.inDispute !== undefined && n.inDispute > rule.maxInDispute)
        .map((n) => ({
          id: `${rule.name}/network/${n.network}`,
          subject: { kind: 'network', network: n.network },
          summary: `${String(n.inDispute)} node(s) of network ${n.network !== '' ? n.network : '(unnamed)'} disagree with its heaviest head${n.nodes !== undefined ? ` (of ${n.nodes})` : ''}${disputing(n, live)}`,
          description: describe(rule),
          silenced: fleetSilenced,
        }))
    case 'network_behind_clock':
      return (input.networks ?? []).filter((n) => n.behindClock === true)
        .map((n) => ({
          id: `${rule.name}/network/${n.network}`,
          subject: { kind: 'network', network: n.network },
          summary: `every reporting node${n.reporting !== undefined ? ` (${n.reporting})` : ''} of network ${n.network !== '' ? n.network : '(unnamed)'} is behind the clock: its freshest head is ${n.headAgeMs !== undefined ? formatDuration(roundToMinuteAbove(n.headAgeMs)) : 'too'} old${n.epochsBehindClock !== undefined && n.epochsBehindClock > 0 ? `, ${n.epochsBehindClock} epochs behind` : ''}`,
          description: describe(rule),
          silenced: fleetSilenced,
        }))
  }
}

/**
 * The next monotonic moment at which a rule's condition could start to hold
 * with the input unchanged (a head turning stuck as it ages), so an
 * evaluation can be skipped until then when nothing else changes. Undefined
 * when only a change of the input can make a rule match.
 */
export function nextRuleChange (rules: readonly AlertRule[], input: AlertInput, nowMono: number): number | undefined {
  let next: number | undefined
  for (const rule of rules) {
    if (rule.kind !== 'head_stuck') continue
    for (const n of input.nodes) {
      if (n.status === 'stopped' || !LIVE_STATUSES.has(n.status) || n.headUnchangedForMs === undefined || n.headUnchangedForMs > rule.after) continue
      const at = nowMono + (rule.after - n.headUnchangedForMs) + 1
      if (next === undefined || at < next) next = at
    }
  }
  return next
}

/** The rule's own description, or one that says what it checks. */
export function describe (rule: AlertRule): string {
  if (rule.description !== undefined && rule.description !== '') return rule.description
  const held = rule.for > 0 ? ` for ${formatDuration(rule.for)}` : ''
  switch (rule.kind) {
    case 'node_status': return `A node has been ${rule.statuses.join(' or ')}${held}.`
    case 'node_lag': return `A node has been more than ${rule.maxLag} blocks behind its network's heaviest head${held}.`
    case 'head_stuck': return `A connected node's head has not changed for more than ${formatDuration(rule.after)}${held}.`
    case 'component': return `A component${rule.components !== undefined ? ` (${rule.components.join(', ')})` : ''} has been ${rule.statuses.join(' or ')}${held}.`
    case 'fleet_min_healthy': return `Fewer than ${rule.min} nodes have been ${rule.statuses.join(' or ')}${held}.`
    case 'network_dispute': return `More than ${rule.maxInDispute} nodes of a network have disagreed with its heaviest head${held}.`
    case 'identity_conflict': return `A node's identity (its peer id, from its key file) has been used by two agents at once${held}: give each node its own key file.`
    case 'network_behind_clock': return `Every reporting node of a network has had a head older than its head-age threshold${held}: the network is not following the chain, however well its nodes agree.`
  }
}

/**
 * The failing components of a node, each with its own error text (issue 15:
 * "chain_source: connect ECONNREFUSED 127.0.0.1:1234"), so the node's alert
 * carries the cause, not only its name. Only components that say what went
 * wrong are listed; at most a few, then "and N more".
 */
export function componentCauses (node: NodeAlertInput): string {
  if (node.status !== 'unhealthy' && node.status !== 'degraded') return ''
  const causes = Object.entries(node.components)
    .filter(([, c]) => c.status !== 'ready' && c.error !== undefined)
    .map(([name, c]) => `${name}: ${c.error as string}`)
  if (causes.length === 0) return ''
  return ` (${nameSome(causes, MAX_NAMED_COMPONENTS, '; ')})`
}

/** Nodes in the fleet document's order (compareNodeViews), for the lists a message names: the input comes in no order. */
function byDisplayName<T extends { nickname: string, peerId: string }> (nodes: T[]): T[] {
  return nodes
    .map((node) => ({ node, displayName: shortName(node), peerId: node.peerId }))
    .sort(compareNodeViews)
    .map((entry) => entry.node)
}

/** A node for a list: its nickname, else its peer id. */
function shortName (node: { nickname: string, peerId: string }): string {
  return node.nickname !== '' ? node.nickname : node.peerId
}

/** "a, b, c and 4 more": the first few of a list, and how many were left out. */
export function nameSome (items: readonly string[], max: number = MAX_NAMED_NODES, separator = ', '): string {
  if (items.length <= max) return items.join(separator)
  return `${items.slice(0, max).join(separator)} and ${items.length - max} more`
}

/** The live nodes of a network whose head is not its heaviest: who is in dispute, by name. */
function disputing (network: NetworkAlertInput, live: readonly NodeAlertInput[]): string {
  if (network.heaviestHead === undefined) return ''
  const names = byDisplayName(live.filter((n) => n.network === network.network && n.head !== '' && n.head !== network.heaviestHead)).map(shortName)
  return names.length > 0 ? `: ${nameSome(names)}` : ''
}


/** To the second under ten minutes, to the minute above. */
function roundToMinuteAbove (ms: number): number {
  return ms < 600_000 ? roundToSeconds(ms) : Math.round(ms / 60_000) * 60_000
}
