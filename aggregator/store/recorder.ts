import type { FleetListener, FleetState, StatusChange } from '../fleet/fleet-state.ts'
import { savedNode } from '../fleet/restore.ts'
import type { NodeRecord, NodeStatus } from '../fleet/types.ts'
import type { RosterRow } from './backend.ts'
import { encodeRosterRow } from './roster-codec.ts'
import type { WriteBehind } from './write-behind.ts'

/**
 * A row refused because another aggregator holds the node is offered again
 * early this many times (the holder is likely writing its disconnect right
 * now), then once per flush interval (an agent beating two aggregators).
 */
const EARLY_RETRIES_OF_REFUSED_ROWS = 4

/**
 * Listens to the fleet and turns what happens into pending store rows. Per
 * heartbeat it only marks the node and, at most once per sample interval,
 * queues a height sample; the roster row itself is built at flush time from
 * the node's latest record, so a node beating ten times between flushes
 * costs one row. Remote records (nodes another aggregator holds) are that
 * aggregator's to write: they are never queued here.
 */
export class FleetRecorder implements FleetListener {
  private readonly fleet: FleetState
  private readonly pending: WriteBehind
  private readonly sampleIntervalMs: number
  private readonly lastSampleAt = new Map<string, number>()
  /** Status and since when, per node, as this run knows it (seeded from the roster at start). */
  private readonly statuses = new Map<string, { status: NodeStatus, since: number }>()
  /** Rows the store refused in a row, per node (another aggregator holds it). */
  private readonly refusals = new Map<string, number>()
  /** Whether each local node was connected at its last change. */
  private readonly connected = new Map<string, boolean>()
  /** What was last written per node: an unchanged record and status need no new row. */
  private readonly written = new Map<string, { record: NodeRecord, status: NodeStatus, reason: string }>()
  /** When each node's row was first stored (a count of stored batches): only rows stored before a roster read can be missing from it. */
  private readonly firstStored = new Map<string, number>()
  private stored = 0

  /** This aggregator's peer id: the holder of every row it writes. */
  private readonly holder: string

  /** Whether other aggregators read what is written (a shared store): then connection changes are written early. */
  private readonly shared: () => boolean

  constructor (options: { fleet: FleetState, pending: WriteBehind, sampleIntervalMs: number, holder: string, shared?: () => boolean }) {
    this.fleet = options.fleet
    this.pending = options.pending
    this.sampleIntervalMs = options.sampleIntervalMs
    this.holder = options.holder
    this.shared = options.shared ?? (() => false)
  }

  /** What the roster said before this run, so the first change after a restart reads "healthy -> stale", not "-> stale". */
  seed (peerId: string, status: NodeStatus, since: number): void {
    this.statuses.set(peerId, { status, since })
  }

  /** Forgets what this run knew of a removed node: if it beats again it starts afresh ("-> healthy"). */
  forget (peerId: string): void {
    this.onNodeForgotten(peerId)
    this.statuses.delete(peerId)
  }

  onNodeChanged (peerId: string): void {
    const record = this.fleet.get(peerId)
    if (record?.remote !== undefined) return
    this.pending.markNode(peerId)
    // A connection that opened or closed is news for the other aggregators of a shared store: written early.
    const connected = record?.connected ?? false
    if (this.connected.get(peerId) !== connected) {
      this.connected.set(peerId, connected)
      if (this.shared()) this.pending.soon()
    }
    if (record === undefined || record.restored === true) return
    // lastSeen only moves on a beat, so a status-only change never samples twice. The interval is
    // monotonic; the sample's stamp is the record's (never before the previous one).
    const last = this.lastSampleAt.get(peerId)
    if (last !== undefined && record.lastSeenMono - last < this.sampleIntervalMs) return
    this.lastSampleAt.set(peerId, record.lastSeenMono)
    this.pending.addSample({ peerId, at: record.lastSeen, height: record.beat.height, head: record.beat.head })
  }

  /** Batches stored so far by this run. */
  get storedBatches (): number {
    return this.stored
  }

  /** Whether this run stored a row for the node within its first `batches` batches (a row the store lost since was removed by an operator). */
  storedWithin (peerId: string, batches: number): boolean {
    const first = this.firstStored.get(peerId)
    return first !== undefined && first <= batches
  }

  /** A node left the view: this run forgets what it kept of it (the roster keeps the node). */
  onNodeForgotten (peerId: string): void {
    this.lastSampleAt.delete(peerId)
    this.connected.delete(peerId)
    this.written.delete(peerId)
    this.firstStored.delete(peerId)
    this.refusals.delete(peerId)
  }

  onStatusChanged (change: StatusChange): void {
    const from = change.from ?? this.statuses.get(change.peerId)?.status ?? null
    // A node restored into the status it already had (stale again after a second restart): nothing changed.
    if (from === change.to) return
    this.statuses.set(change.peerId, { status: change.to, since: change.at })
    // Its holder logs a remote node's changes.
    if (this.fleet.get(change.peerId)?.remote !== undefined) return
    this.pending.addTransition({ peerId: change.peerId, at: change.at, from, to: change.to, reason: change.reason })
  }

  /**
   * Roster rows for the nodes marked since the last flush, skipping those
   * whose record and verdict are what was last written (reasons state
   * absolute times, so a reason that changed says something new: other
   * aggregators of a shared store show it). Each row carries the ages of
   * the node's last beat and head change at `nowMono` (this aggregator's
   * monotonic clock), which other aggregators place the node's times by.
   * Call `commit` once the rows are stored, with the nodes whose rows the
   * store refused (another aggregator holds them): those are offered again
   * with their next change.
   */
  rowsFor (peerIds: readonly string[], nowMono: number): { rows: RosterRow[], commit: (refused: readonly string[]) => void } {
    const rows: RosterRow[] = []
    const done: Array<[string, { record: NodeRecord, status: NodeStatus, reason: string }]> = []
    for (const peerId of peerIds) {
      const record = this.fleet.get(peerId)
      const verdict = this.fleet.verdict(peerId)
      if (record === undefined || verdict === undefined || record.remote !== undefined) continue
      const previous = this.written.get(peerId)
      if (previous !== undefined && previous.record === record && previous.status === verdict.status && previous.reason === verdict.reason) continue
      const since = this.statuses.get(peerId)?.since ?? record.lastSeen
      const ages = { beatMs: nowMono - record.lastSeenMono, headMs: nowMono - record.lastHeadChangeMono }
      rows.push(encodeRosterRow(savedNode(record), { status: verdict.status, reason: verdict.reason, since, holder: this.holder, connected: record.connected, restored: record.restored === true }, ages))
      done.push([peerId, { record, status: verdict.status, reason: verdict.reason }])
    }
    return {
      rows,
      commit: (refused) => {
        const skip = new Set(refused)
        this.stored++
        for (const [peerId, w] of done) {
          if (skip.has(peerId)) continue
          this.written.set(peerId, w)
          if (!this.firstStored.has(peerId)) this.firstStored.set(peerId, this.stored)
          this.refusals.delete(peerId)
        }
        // Offered again (the holder may have written its disconnect by then): early the first few times, then once per interval.
        for (const peerId of refused) {
          this.pending.markNode(peerId)
          const times = (this.refusals.get(peerId) ?? 0) + 1
          this.refusals.set(peerId, times)
          if (times <= EARLY_RETRIES_OF_REFUSED_ROWS) this.pending.soon()
        }
      },
    }
  }
}
