import { DEFAULT_MAX_FEED_CLIENTS, FEED_MAX_BACKPRESSURE_MS, FEED_MAX_BUFFERED_BYTES } from '../constants.ts'

/**
 * Bounds on the live feed: how many clients at once, and when a client that
 * does not read is dropped (what waits for it in memory is the aggregator's
 * to pay). Pure; the feed shell feeds it the socket's numbers and the clock.
 */
export interface FeedLimits {
  maxClients: number
  /** Bytes queued for one client before it is dropped (at least twice its snapshot, see byteBound). */
  maxBufferedBytes: number
  /** Time a client may keep its socket full (no drain) before it is dropped. */
  maxBackpressureMs: number
}

export const DEFAULT_FEED_LIMITS: Readonly<FeedLimits> = {
  maxClients: DEFAULT_MAX_FEED_CLIENTS,
  maxBufferedBytes: FEED_MAX_BUFFERED_BYTES,
  maxBackpressureMs: FEED_MAX_BACKPRESSURE_MS,
}

export interface FeedClientState {
  /** Bytes written but not yet flushed to the socket (Writable.writableLength). */
  buffered: number
  /** When a write last found the socket full with no drain since; undefined when draining fine. */
  backpressureSince: number | undefined
  /** Size of the snapshot this client got first (it may take a while to leave on its own). */
  snapshotBytes: number
}

export type FeedClientVerdict = 'ok' | 'buffer_full' | 'stalled'

/**
 * The byte bound for one client: the configured bound, but never less than
 * twice its snapshot, so a big fleet's snapshot alone does not drop a client
 * on a slow link that is still reading.
 */
export function byteBound (snapshotBytes: number, limits: FeedLimits): number {
  return Math.max(limits.maxBufferedBytes, 2 * snapshotBytes)
}

export function feedClientVerdict (state: FeedClientState, now: number, limits: FeedLimits): FeedClientVerdict {
  if (state.buffered > byteBound(state.snapshotBytes, limits)) return 'buffer_full'
  if (state.backpressureSince !== undefined && now - state.backpressureSince >= limits.maxBackpressureMs) return 'stalled'
  return 'ok'
}

/** Live-feed counters for the admin view. */
export class FeedStats {
  clients = 0
  /** Clients turned away because the feed was full. */
  refused = 0
  /** Clients dropped for not reading. */
  dropped = 0

  toJSON (): Record<string, number> {
    return { clients: this.clients, refused: this.refused, dropped: this.dropped }
  }
}
