import type { Clock, Timer } from '../../shared/clock.ts'
import { errorMessage } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import type { ClusterBackend, LeaseFence, Writer } from '../store/backend.ts'
import { ALERT_LEASE_NAME, LEADER_LEASE_MS, LEADER_RENEW_MS, LEADER_SAFETY_MS } from './constants.ts'

/** Who evaluates the rules and sends the notifications. */
export interface AlertLeadership {
  /** Whether this aggregator leads now. */
  readonly leading: boolean
  /** The leader's name (its peer id, or --instance), as last known. */
  holder: () => string | undefined
  /** Since when this aggregator leads (wall clock), if it does. */
  since: () => number | undefined
  /** What fences a save of the alert state (a shared store), if anything. */
  fence: () => LeaseFence | undefined
  /** Hears when this aggregator starts or stops leading. */
  subscribe: (listener: (leading: boolean) => void) => () => void
  start: () => Promise<void>
  stop: () => Promise<void>
}

/** One aggregator on its own store: it always leads. */
export function soleLeadership (id: () => string, clock: Clock): AlertLeadership {
  let since: number | undefined
  return {
    get leading () { return true },
    holder: id,
    since: () => since,
    fence: () => undefined,
    subscribe: () => () => {},
    start: async () => { since = clock.wall() },
    stop: async () => {},
  }
}

/**
 * The alerting lease of a shared store: a row (`leases`, name "alerting")
 * with a holder and an expiry on the database's clock, taken when it has
 * run out and renewed by its holder every LEADER_RENEW_MS. No advisory lock
 * (YugabyteDB's stable releases have none, and a pooled connection would not
 * keep one), no LISTEN/NOTIFY: every aggregator simply tries on a timer.
 *
 * The holder acts only until its lease could have run out by its own
 * monotonic clock, measured from before the request that renewed it, less
 * LEADER_SAFETY_MS; the database lets another take it only after the expiry
 * it computed at the request's arrival, which is later. Two never act at once.
 */
export class LeaseLeadership implements AlertLeadership {
  private readonly backend: ClusterBackend
  private readonly writer: Writer
  private readonly clock: Clock
  private readonly log: Logger | undefined
  private readonly ttlMs: number
  private readonly renewMs: number
  private held = false
  private term = 0
  /** Monotonic: this aggregator acts as leader until then. */
  private deadline = 0
  private leaderSince: number | undefined
  private lastHolder: string | undefined
  private timer: Timer | undefined
  private attempt: Promise<void> | undefined
  private failing = false
  private readonly listeners = new Set<(leading: boolean) => void>()

  constructor (options: { backend: ClusterBackend, writer: Writer, clock: Clock, logger?: Logger, ttlMs?: number, renewMs?: number }) {
    this.backend = options.backend
    this.writer = options.writer
    this.clock = options.clock
    this.log = options.logger
    this.ttlMs = options.ttlMs ?? LEADER_LEASE_MS
    this.renewMs = options.renewMs ?? LEADER_RENEW_MS
  }

  get leading (): boolean {
    return this.held && this.clock.monotonic() < this.deadline
  }

  holder (): string | undefined {
    return this.leading ? this.writer.id : this.lastHolder
  }

  since (): number | undefined {
    return this.leading ? this.leaderSince : undefined
  }

  fence (): LeaseFence {
    return { lease: ALERT_LEASE_NAME, holder: this.writer }
  }

  subscribe (listener: (leading: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Tries once (so the leader is known when start resolves), then on a timer. */
  async start (): Promise<void> {
    await this.tryOnce()
    this.timer ??= this.clock.every(this.renewMs, () => { void this.tryOnce() }, { unref: true })
  }

  /** Stops trying; a leader lets go of the lease so another takes over at once. */
  async stop (): Promise<void> {
    this.timer?.cancel()
    this.timer = undefined
    await this.attempt
    if (!this.held) return
    this.change(false)
    try {
      await this.backend.releaseLease(ALERT_LEASE_NAME, this.writer)
    } catch (err) {
      this.log?.warn({ err: errorMessage(err) }, 'could not let go of the alerting lease; another aggregator takes over when it runs out')
    }
  }

  private async tryOnce (): Promise<void> {
    if (this.attempt !== undefined) return await this.attempt
    this.attempt = this.acquire().finally(() => { this.attempt = undefined })
    await this.attempt
  }

  private async acquire (): Promise<void> {
    const startedMono = this.clock.monotonic()
    // A lease that could have run out since the last renewal is a new one even if it is ours again: the state is reloaded.
    const lapsed = this.held && startedMono >= this.deadline
    try {
      const lease = await this.backend.acquireLease(ALERT_LEASE_NAME, this.writer, this.ttlMs)
      if (this.failing) this.log?.info('the alerting lease can be reached again')
      this.failing = false
      this.lastHolder = lease.holder
      if (lease.held) {
        const continuing = this.held && !lapsed && lease.term === this.term
        this.term = lease.term
        this.deadline = startedMono + this.ttlMs - LEADER_SAFETY_MS
        if (!continuing) {
          if (this.held) this.change(false)
          this.change(true)
        }
      } else if (this.held) {
        this.change(false)
      }
    } catch (err) {
      if (!this.failing) this.log?.warn({ err: errorMessage(err) }, 'cannot reach the alerting lease in the store; a leader stops when its lease could run out')
      this.failing = true
      if (this.held && this.clock.monotonic() >= this.deadline) this.change(false)
    }
  }

  private change (held: boolean): void {
    this.held = held
    this.leaderSince = held ? this.clock.wall() : undefined
    if (held) this.log?.info({ aggregator: this.writer.id }, 'this aggregator now evaluates the alert rules and sends the notifications')
    else this.log?.info({ leader: this.lastHolder ?? null }, 'this aggregator no longer leads alerting')
    for (const l of this.listeners) l(held)
  }
}
