import { foldNode } from './fold.ts'
import { DEFAULT_STATUS_RULES, deriveStatus, type StatusRules } from './status.ts'
import type { FleetEvent, NodeRecord, NodeStatus, StatusVerdict } from './types.ts'

export interface StatusChange {
  peerId: string
  from: NodeStatus | undefined
  to: NodeStatus
  reason: string
  at: number
}

export interface FleetListener {
  /** A node's record or verdict changed. */
  onNodeChanged?(peerId: string): void
  /** A node's status changed (also on its first heartbeat). */
  onStatusChanged?(change: StatusChange): void
  /** A status tick finished (every status re-derived at `now`). */
  onTick?(now: number): void
}

/**
 * The shell around the pure fold: holds the records, applies events in O(1)
 * per event, and re-derives statuses on each tick (silence has no event).
 * Listeners learn what changed; they never see a half-applied event.
 */
export class FleetState {
  private readonly records = new Map<string, NodeRecord>()
  private readonly verdicts = new Map<string, StatusVerdict>()
  private readonly listeners = new Set<FleetListener>()
  private readonly rules: StatusRules

  constructor (rules: StatusRules = DEFAULT_STATUS_RULES) {
    this.rules = rules
  }

  subscribe (listener: FleetListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  apply (event: FleetEvent, now: number): void {
    const before = this.records.get(event.peerId)
    const after = foldNode(before, event, now)
    if (after === before || after === undefined) return
    this.records.set(event.peerId, after)
    this.settle(after, now)
    for (const l of this.listeners) l.onNodeChanged?.(event.peerId)
  }

  /** Re-derives every status at `now`; tells listeners about the ones that changed. */
  tick (now: number): void {
    for (const record of this.records.values()) {
      if (this.settle(record, now)) {
        for (const l of this.listeners) l.onNodeChanged?.(record.peerId)
      }
    }
    for (const l of this.listeners) l.onTick?.(now)
  }

  get (peerId: string): NodeRecord | undefined {
    return this.records.get(peerId)
  }

  verdict (peerId: string): StatusVerdict | undefined {
    return this.verdicts.get(peerId)
  }

  nodes (): IterableIterator<NodeRecord> {
    return this.records.values()
  }

  get size (): number {
    return this.records.size
  }

  /** Updates the stored verdict; true when status or reason changed. */
  private settle (record: NodeRecord, now: number): boolean {
    const previous = this.verdicts.get(record.peerId)
    const next = deriveStatus(record, now, this.rules)
    if (previous !== undefined && previous.status === next.status && previous.reason === next.reason) return false
    this.verdicts.set(record.peerId, next)
    if (previous?.status !== next.status) {
      const change: StatusChange = { peerId: record.peerId, from: previous?.status, to: next.status, reason: next.reason, at: now }
      for (const l of this.listeners) l.onStatusChanged?.(change)
    }
    return true
  }
}
