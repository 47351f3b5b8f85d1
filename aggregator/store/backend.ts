/**
 * The store behind one interface, two backends: SQLite in the data dir
 * (sqlite-backend.ts, the embedded default) and a shared PostgreSQL
 * (postgres-backend.ts) that many aggregators use as one fleet. Every call
 * is async; the SQLite backend answers synchronously inside. What the
 * backends keep, and why it is shaped so, is in docs/store.md.
 */
import type { HeightSample, StatusTransition } from './write-behind.ts'

export type StoreKind = 'sqlite' | 'postgres'

/**
 * Who writes: the aggregator's name in the store, and this run's id (a fresh
 * one per start). The name is the aggregator's peer id unless --instance
 * gives one (replicas that share one peer key behind one address).
 */
export interface Writer {
  id: string
  runId: string
}

/** One row of the roster, as stored. */
export interface RosterRow {
  peerId: string
  nickname: string
  firstSeen: number
  lastSeen: number
  /** The last heartbeat, JSON. */
  lastBeat: string
  /** The rest of the record, JSON. */
  extras: string
  status: string
  reason: string
  statusSince: number
  /** The aggregator (its name, Writer.id) that holds the node's connection, or held it last. */
  holder: string
  /** Whether the holder had an open connection to the node when it wrote the row. */
  connected: boolean
}

/** A roster row with the run that wrote it and that run's batch number: how other aggregators follow changes. */
export interface StoredRosterRow extends RosterRow {
  writer: string
  writeSeq: number
  /**
   * The database's clock when the row was written (a shared store; null in
   * rows written before it was kept): with the ages the writer put in the
   * row, how other aggregators place the node's times without comparing
   * wall clocks (store/remote-rows.ts).
   */
  writtenAt?: number | null
}

export interface StoreBatch {
  nodes: RosterRow[]
  samples: HeightSample[]
  transitions: StatusTransition[]
  writer: Writer
  /** This run's batch number: rises by one per batch, so readers know what they have seen of this writer. */
  writeSeq: number
  /** The run being written by (undefined until its first batch creates it), and the time of this write (its "still alive" mark). */
  run: { id: number | undefined, startedAt: number, aliveAt: number }
}

export interface WriteResult {
  runId: number
  /** Nodes whose rows another aggregator holds (the newer holder wins); their rows were left as they are. */
  refused: string[]
}

export interface StoredTransition extends StatusTransition {
  id: number
}

export interface FleetTransition extends StoredTransition {
  nickname: string
}

/** A position in the newest-first event log: the last row of the previous page. */
export interface LogCursor {
  at: number
  id: number
}

/** A position in one writer's roster changes: its batch number, then the peer id. */
export interface RosterCursor {
  writeSeq: number
  peerId: string
}

export interface PruneResult {
  samples: number
  transitions: number
  runs: number
}

export interface StoredRun {
  id: number
  start: number
  end: number
}

/** One alert the engine tracks (pending or firing), as JSON the alert state codec reads back. */
export interface StoredAlert {
  id: string
  body: string
}

/** One resolved alert, for GET /api/v1/alerts' recent list. */
export interface StoredResolved {
  id: string
  at: number
  body: string
}

/** What changed in the alert state since the last save. */
export interface AlertStateChange {
  upserts: StoredAlert[]
  deletes: string[]
  resolved: StoredResolved[]
  /** Keep at most this many resolved alerts (the newest). */
  keepResolved: number
  /** When the change was made (the writer's wall clock), stamped on the rows. */
  at: number
}

/**
 * An operator's maintenance window. `scope` is "fleet" or "node:<peer id>";
 * an ended window is kept with `ended` until it would have run out, so a
 * late copy of the window cannot bring it back (the newest `setAt` wins).
 */
export interface StoredWindow {
  scope: string
  until: number | undefined
  reason: string
  since: number | undefined
  setAt: number
  ended: boolean
}

/** An aggregator's lease row (membership). */
export interface MemberInfo extends Writer {
  /** Its libp2p peer id (the same for replicas sharing a key). */
  peerId: string
  multiaddrs: string[]
  version: string
  httpUrl: string
  startedAt: number
}

/**
 * A lease row as read. Its times are on the database's clock: `startedAt`
 * is when the run first renewed (the database stamps it, so every reader
 * judges a holder's age on one clock), `renewedAt` the last renewal.
 */
export interface MemberRow extends MemberInfo {
  /** Database clock (ms) of the last renewal. */
  renewedAt: number
  /** Set by a clean stop. */
  stoppedAt: number | undefined
}

export interface MembersSnapshot {
  /** The database's clock (ms) when the rows were read: every lease is judged on it. */
  now: number
  members: MemberRow[]
}

export interface LeaseState {
  /** Whether the caller holds the lease now. */
  held: boolean
  holder: string
  runId: string
  /** Rises by one each time the lease changes hands. */
  term: number
  acquiredAt: number
  expiresAt: number
  /** Database clock (ms). */
  now: number
}

/** A save allowed only while `holder` holds the named lease. */
export interface LeaseFence {
  lease: string
  holder: Writer
}

/** What only a shared store has: other aggregators' rows, membership leases, named leases. */
export interface ClusterBackend {
  /** One writer's roster rows after `after`, in (writeSeq, peerId) order. */
  rosterSince: (writer: string, after: RosterCursor, limit: number) => Promise<StoredRosterRow[]>
  /** Renews this aggregator's lease row and reads every aggregator's. */
  renewMember: (member: MemberInfo) => Promise<MembersSnapshot>
  /** A clean stop: this aggregator's row says so at once. */
  stopMember: (member: Writer) => Promise<void>
  /** Takes or renews a named lease for `ttlMs`; `held` says whether the caller has it. */
  acquireLease: (name: string, holder: Writer, ttlMs: number) => Promise<LeaseState>
  /** Lets go of a lease the caller holds (a clean stop), so another can take it at once. */
  releaseLease: (name: string, holder: Writer) => Promise<void>
}

/** The one store interface both backends implement. */
export interface StoreBackend {
  readonly kind: StoreKind
  /** Where the data lives, safe to log: the file, or the URL without its secrets. */
  readonly location: string
  readonly schemaVersion: number
  /** Present for a store that many aggregators share. */
  readonly cluster: ClusterBackend | undefined

  /** Everything in one transaction: a kill leaves all of it or none of it. */
  writeBatch: (batch: StoreBatch) => Promise<WriteResult>
  roster: () => Promise<StoredRosterRow[]>
  hasNode: (peerId: string) => Promise<boolean>
  /** Deletes one node's roster row and history in one transaction (an operator removed it); true when it had a row. */
  forgetNode: (peerId: string) => Promise<boolean>
  /** Deletes history before `cutoff`, keeping per node the change in force at the cutoff. */
  prune: (cutoff: number) => Promise<PruneResult>

  /** Heights in [since, until], at most one per bucket (the bucket's last sample), oldest first. */
  heights: (peerId: string, since: number, until: number, bucketMs: number) => Promise<Array<{ at: number, height: number, head: string }>>
  /** The latest `limit` changes of one node in [since, until], oldest first; `more` when some were left out. */
  nodeTransitions: (peerId: string, since: number, until: number, limit: number) => Promise<{ changes: StoredTransition[], more: boolean }>
  /** Changes of one node after `from`, oldest first. */
  nodeTransitionsSince: (peerId: string, from: number) => Promise<StoredTransition[]>
  /** The change in force at `at` for one node. */
  nodeStatusAt: (peerId: string, at: number) => Promise<StoredTransition | undefined>
  /** Every node's changes after `from`, grouped by node, oldest first within a node. */
  allTransitionsSince: (from: number) => Promise<StoredTransition[]>
  /** The change in force at `at`, for every node that had one by then. */
  allStatusAt: (at: number) => Promise<StoredTransition[]>
  /** A newest-first page of the fleet's event log. */
  fleetPage: (since: number, until: number, limit: number, after: LogCursor | undefined) => Promise<{ changes: FleetTransition[], next: LogCursor | undefined }>
  /** Runs (of every aggregator) alive at or after `from`. */
  runsSince: (from: number) => Promise<StoredRun[]>

  loadAlerts: () => Promise<{ alerts: StoredAlert[], resolved: StoredResolved[] }>
  /**
   * Saves what changed in the alert state. With `fence`, only while that
   * writer holds the alerting lease: a leader that lost it cannot overwrite
   * its successor's state (the save fails with ERR_LEASE_LOST).
   */
  saveAlerts: (change: AlertStateChange, fence: LeaseFence | undefined) => Promise<void>
  loadMaintenance: () => Promise<StoredWindow[]>
  /** Upserts windows; a row is replaced only by one set later (`setAt`). */
  saveMaintenance: (windows: StoredWindow[]) => Promise<void>

  close: () => Promise<void>
}
