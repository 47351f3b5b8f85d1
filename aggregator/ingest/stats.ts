/** Why the aggregator refused a frame or a stream; counted per reason. */
export type IngestRejectReason =
  | 'frame_too_large' | 'bad_frame' | 'invalid_cbor' | 'not_a_map' | 'bad_version' | 'bad_type' | 'too_long'
  | 'too_many_components' | 'details_too_large' | 'idle_stream' | 'too_many_streams' | 'legacy_bad_json'
  | 'cbor_tag' | 'too_deep' | 'rate_limited' | 'flooding' | 'fleet_full'
  | 'wrong_network' | 'identity_in_use'

/** Ingest counters: what came in, what was folded, what was refused and why. */
export class IngestStats {
  received = 0
  accepted = 0
  readonly rejected = new Map<IngestRejectReason, number>()
  streamsOpened = 0

  reject (reason: IngestRejectReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1)
  }

  totalRejected (): number {
    let total = 0
    for (const n of this.rejected.values()) total += n
    return total
  }

  toJSON (): Record<string, unknown> {
    return { received: this.received, accepted: this.accepted, rejected: Object.fromEntries(this.rejected), streamsOpened: this.streamsOpened }
  }
}

/** Remembers which peers were already logged, so a bad peer logs once, not once per frame. */
export class OncePerPeer {
  private readonly seen = new Set<string>()
  private readonly capacity: number
  constructor (capacity: number) {
    this.capacity = capacity
  }

  /** True the first time a peer is passed (until it is forgotten to make room). */
  first (peerId: string): boolean {
    if (this.seen.has(peerId)) return false
    if (this.seen.size >= this.capacity) {
      const oldest = this.seen.values().next().value
      if (oldest !== undefined) this.seen.delete(oldest)
    }
    this.seen.add(peerId)
    return true
  }
}
