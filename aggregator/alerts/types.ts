import type { HealthStatus } from '../../shared/health.ts'
import type { NodeStatus } from '../fleet/types.ts'

/** A period in which alerts about a node (or the whole fleet) reach no receiver. */
export interface MaintenanceWindow {
  /** Aggregator wall clock (ms), shown; undefined: until whoever set it says otherwise. */
  until: number | undefined
  /** The same end on the monotonic clock: what decides whether the window is over (a wall step changes no window's length). */
  untilMono: number | undefined
  reason: string
  /** Who set it: an operator through the admin API, or the node's agent in its heartbeats. */
  source: 'admin' | 'agent'
  /** Aggregator wall clock (ms) when it began, when known. */
  since: number | undefined
}

/**
 * What the rules read about one node. Built by an adapter from the fleet's
 * node views (alert-input.ts), so fields that other parts add later (lag)
 * are optional here: undefined means unknown, and a rule that needs an
 * unknown value does not fire.
 */
export interface NodeAlertInput {
  peerId: string
  nickname: string
  status: NodeStatus
  reason: string
  network: string
  /** Blocks behind the heaviest head of its network. */
  lag: number | undefined
  /** Aggregator clock (wall ms) of the last head change: shown, never used to measure. */
  lastHeadChange: number | undefined
  /** How long the head has been unchanged at the evaluation (the aggregator's monotonic clock). */
  headUnchangedForMs: number | undefined
  /** The head the node reports ('' when it has none yet): who disagrees with its network. */
  head: string
  /** Each component's status and, when it reports one, its error text (details.error): the cause in words. */
  components: Record<string, ComponentAlertInput>
  maintenance: MaintenanceWindow | undefined
  /** Another agent uses this node's peer id at once (the view's `identityConflict`); undefined when not, or unknown. */
  identityConflict?: { agents: number, addresses: string[] }
}

/** One component of a node, as the rules read it. */
export interface ComponentAlertInput {
  status: HealthStatus
  /** What the component says went wrong ("connect ECONNREFUSED 127.0.0.1:1234"), bounded; undefined when it says nothing. */
  error?: string
}

/** What the rules read about one network's consensus (summary.networks). */
export interface NetworkAlertInput {
  network: string
  /** Nodes whose head is not the heaviest head of the network. */
  inDispute: number | undefined
  inConsensus: number | undefined
  nodes: number | undefined
  /** The head most of its nodes are on; undefined when unknown (then who disagrees is not named). */
  heaviestHead?: string
  /** Nodes whose head counts (the voters). */
  reporting?: number | undefined
  /** Every reporting node's head is older than its threshold (summary.networks[].behindClock). */
  behindClock?: boolean | undefined
  /** The freshest head age among its reporting nodes (ms). */
  headAgeMs?: number | undefined
  /** Epochs behind the height the clock says (Filecoin networks with a known genesis). */
  epochsBehindClock?: number | undefined
}

export interface AlertInput {
  nodes: NodeAlertInput[]
  /** Undefined when the fleet view has no per-network consensus summary. */
  networks: NetworkAlertInput[] | undefined
  fleetMaintenance: MaintenanceWindow | undefined
}

/** What an alert is about. */
export type AlertSubject =
  | { kind: 'node', peerId: string, nickname: string, component?: string }
  | { kind: 'network', network: string }
  | { kind: 'fleet' }

export const SEVERITIES = ['critical', 'warning', 'info'] as const
export type Severity = typeof SEVERITIES[number]

/** One alert as receivers and the API see it. Times are aggregator clock (ms). */
export interface AlertRecord {
  /** Stable for one rule and subject: the de-duplication key. */
  id: string
  name: string
  severity: Severity
  /** alertname, severity, the rule's labels and the subject's (peer_id, nickname, network, component). */
  labels: Record<string, string>
  summary: string
  description: string
  subject: AlertSubject
  state: 'pending' | 'firing' | 'resolved'
  activeSince: number
  firedAt: number | undefined
  resolvedAt: number | undefined
  /** A maintenance window holds back its notifications. */
  silenced: boolean
  /**
   * The id of the alert that explains this one (its node is down or
   * unhealthy: inhibition.ts); its notifications are held back while that
   * alert is active. Undefined when nothing inhibits it.
   */
  inhibitedBy?: string | undefined
}

/** What the engine tells the receivers. */
export interface AlertNotification {
  status: 'firing' | 'resolved'
  alert: AlertRecord
  /** A reminder of an alert already announced (repeat interval). */
  repeat: boolean
  at: number
  /** Firing only: the alerts this one holds back (same cause, inhibition.ts), so its message can name them. */
  holdsBack?: AlertRecord[]
}
