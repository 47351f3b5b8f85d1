/**
 * Per-peer beat budgets and the penalty box, pure (the caller passes the
 * clock: the monotonic one, as every `now` here is for intervals: refills,
 * flood windows, penalties). A peer id is cheap to make, so every table here
 * is bounded: the least recently used entry goes first when a table is full.
 */

/** A classic token bucket: `ratePerSecond` tokens refill continuously up to `burst`. */
export class TokenBucket {
  private readonly ratePerMs: number
  private readonly burst: number
  private tokens: number
  private last: number

  constructor (ratePerSecond: number, burst: number, now: number) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError('TokenBucket needs ratePerSecond > 0 and burst >= 1')
    this.ratePerMs = ratePerSecond / 1000
    this.burst = burst
    this.tokens = burst
    this.last = now
  }

  /** Takes one token at `now`; false when the bucket is empty. */
  take (now: number): boolean {
    this.refill(now)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Tokens available at `now` (for tests and views). */
  available (now: number): number {
    this.refill(now)
    return this.tokens
  }

  private refill (now: number): void {
    // Defensive only: callers pass the monotonic clock, which never steps back.
    const elapsed = Math.max(0, now - this.last)
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerMs)
    this.last = Math.max(this.last, now)
  }
}

/** A Map with a size cap that forgets the least recently used entry first. */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>()
  private readonly capacity: number

  constructor (capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('LruMap needs capacity >= 1')
    this.capacity = capacity
  }

  get (key: K): V | undefined {
    const value = this.map.get(key)
    if (value !== undefined) {
      this.map.delete(key)
      this.map.set(key, value)
    }
    return value
  }

  set (key: K, value: V): void {
    this.map.delete(key)
    if (this.map.size >= this.capacity) {
      const oldest = this.map.keys().next()
      if (oldest.done !== true) this.map.delete(oldest.value)
    }
    this.map.set(key, value)
  }

  delete (key: K): boolean {
    return this.map.delete(key)
  }

  has (key: K): boolean {
    return this.map.has(key)
  }

  entries (): IterableIterator<[K, V]> {
    return this.map.entries()
  }

  get size (): number {
    return this.map.size
  }
}

export interface BeatRateLimits {
  /** Sustained beats per second one peer may send (over all its streams). */
  ratePerSecond: number
  /** Beats a peer may send at once after being quiet. */
  burst: number
  /** This many dropped beats within `floodWindowMs` make the peer a flooder. */
  floodDrops: number
  floodWindowMs: number
  /** Peers whose budget is remembered (least recently seen forgotten first). */
  maxTrackedPeers: number
}

/** What to do with one beat: fold it, drop it, or drop it and punish the peer. */
export type BeatDecision = 'accept' | 'drop' | 'flood'

interface PeerBudget {
  bucket: TokenBucket
  windowStart: number
  drops: number
}

/**
 * Beats per peer: a token bucket each; excess beats are dropped, and a peer
 * that keeps sending past its budget (`floodDrops` drops within the window)
 * is reported once as a flooder so the caller can disconnect and ban it.
 */
export class BeatRateLimiter {
  private readonly limits: BeatRateLimits
  private readonly budgets: LruMap<string, PeerBudget>

  constructor (limits: BeatRateLimits) {
    if (!(limits.floodDrops >= 1) || !(limits.floodWindowMs > 0)) throw new RangeError('BeatRateLimiter needs floodDrops >= 1 and floodWindowMs > 0')
    this.limits = limits
    this.budgets = new LruMap(limits.maxTrackedPeers)
  }

  check (peerId: string, now: number): BeatDecision {
    let budget = this.budgets.get(peerId)
    if (budget === undefined) {
      budget = { bucket: new TokenBucket(this.limits.ratePerSecond, this.limits.burst, now), windowStart: now, drops: 0 }
      this.budgets.set(peerId, budget)
    }
    if (budget.bucket.take(now)) return 'accept'
    if (now - budget.windowStart >= this.limits.floodWindowMs) {
      budget.windowStart = now
      budget.drops = 0
    }
    budget.drops++
    if (budget.drops >= this.limits.floodDrops) {
      // Reported once per window; the penalty box takes it from here.
      budget.drops = 0
      budget.windowStart = now
      return 'flood'
    }
    return 'drop'
  }

  /** Peers currently tracked (bounded by maxTrackedPeers). */
  get size (): number {
    return this.budgets.size
  }
}

export interface PenaltyBoxOptions {
  durationMs: number
  /** Peers held at once; when full, the one whose penalty ends first is let go early. */
  capacity: number
}

/** Peers refused for a while after flooding; consulted by the connection gater. */
export class PenaltyBox {
  private readonly durationMs: number
  private readonly capacity: number
  /** Every penalty lasts as long, so insertion order is expiry order (reads never reorder). */
  private readonly until = new Map<string, number>()

  constructor (options: PenaltyBoxOptions) {
    if (!(options.capacity >= 1) || !(options.durationMs >= 0)) throw new RangeError('PenaltyBox needs capacity >= 1 and durationMs >= 0')
    this.durationMs = options.durationMs
    this.capacity = options.capacity
  }

  /** Penalizes `peerId` from `now`; returns when the penalty ends. */
  add (peerId: string, now: number): number {
    const end = now + this.durationMs
    this.until.delete(peerId)
    if (this.until.size >= this.capacity) {
      const first = this.until.keys().next()
      if (first.done !== true) this.until.delete(first.value)
    }
    this.until.set(peerId, end)
    return end
  }

  /** True while the peer's penalty runs; forgets it once served. */
  isPenalized (peerId: string, now: number): boolean {
    const end = this.until.get(peerId)
    if (end === undefined) return false
    if (now < end) return true
    this.until.delete(peerId)
    return false
  }

  /** Penalties still running at `now`. */
  list (now: number): Array<{ peerId: string, until: number }> {
    const out: Array<{ peerId: string, until: number }> = []
    for (const [peerId, end] of this.until) if (now < end) out.push({ peerId, until: end })
    return out
  }

  get size (): number {
    return this.until.size
  }
}
