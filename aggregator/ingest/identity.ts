/**
 * One identity, one node (docs/fleet-semantics.md). A peer id proves which key
 * signed a connection, not that one machine holds the key: two agents sharing
 * a key file (a cloned VM) would fold into one node whose fields flip between
 * them on every beat. The ingest sees what the fold cannot: streams per
 * connection, their remote addresses, and the agent run (`agent.startedAt`)
 * each stream's beats carry.
 *
 * The rule: two streams of one peer id, on different connections, whose beats
 * interleave (each beat since the other's last) while their runs differ
 * (another `agent.startedAt`, or another remote host) are two agents. A
 * legitimate agent never does that: it beats on one stream at a time, a
 * restarted agent's old connection is dead (it never beats again), and one
 * agent's two services share one run and host. The newer stream is refused
 * (a refusal frame, then closed); the node is flagged while the newer agent
 * keeps trying, and for IDENTITY_CONFLICT_HOLD_MS after its last attempt.
 * During a conflict a stream of another run is refused at its first frame
 * while the kept stream is open, so the retries fold nothing.
 *
 * IdentityLedger is the pure core (the caller passes the time); IdentityGuard
 * its shell (refusing, logging, telling the fleet, expiring on the clock).
 */
import { type Clock, type Instant, instantOf, type Timer } from '../../shared/clock.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import type { Logger } from '../../shared/log.ts'
import type { Refusal } from '../../shared/refusal.ts'
import { IDENTITY_CONFLICT_HOLD_MS, IDENTITY_EXPIRY_CHECK_MS, IDENTITY_MAX_AGENTS_LISTED } from '../constants.ts'
import { identityConflictReason, type IdentityConflict } from '../fleet/identity.ts'
import type { FleetEvent } from '../fleet/types.ts'

/** One heartbeat stream as the ledger sees it. */
export interface Seat {
  readonly id: number
  readonly peerId: string
  readonly connectionId: string
  readonly remoteAddr: string
  /** The remote address without its port: one machine (or one NAT). */
  readonly host: string
  /** Monotonic ms. */
  readonly openedAt: number
  /** `agent.startedAt` of its beats: one agent run. */
  run: number | undefined
  lastBeatAt: number | undefined
  refused: boolean
}

interface Episode {
  /** Wall ms, for the view. */
  readonly since: number
  /** Monotonic ms of the last sign of a second agent. */
  lastEvidenceAt: number
  /** Agent runs seen (host and run) -> their latest address; the kept one first. */
  readonly agents: Map<string, string>
  /** Runs seen in all, listed or not. */
  agentsSeen: number
  conflict: IdentityConflict
}

/** A conflict seen on a beat: which stream to refuse, which is kept, what the node now carries. */
export interface ConflictSeen {
  peerId: string
  refuse: Seat
  kept: Seat
  conflict: IdentityConflict
  /** The first sign of this conflict (log it). */
  started: boolean
  /** The conflict's fields changed (tell the fleet). */
  changed: boolean
}

export interface BeatOutcome {
  /** Whether the beat folds (false: it is the refused stream's). */
  fold: boolean
  conflict?: ConflictSeen
}

export type { Instant } from '../../shared/clock.ts'

/** The pure core: streams per peer, conflicts per peer. */
export class IdentityLedger {
  private readonly seats = new Map<number, Seat>()
  private readonly byPeer = new Map<string, Set<Seat>>()
  private readonly episodes = new Map<string, Episode>()
  private nextId = 1

  open (peerId: string, connectionId: string, remoteAddr: string, now: number): Seat {
    // The address without its /p2p/ suffix: the peer id is the one thing both agents share.
    const address = remoteAddr.replace(/\/p2p\/[^/]+$/, '')
    const seat: Seat = {
      id: this.nextId++, peerId, connectionId, remoteAddr: address, host: hostOf(address), openedAt: now,
      run: undefined, lastBeatAt: undefined, refused: false,
    }
    this.seats.set(seat.id, seat)
    let peer = this.byPeer.get(peerId)
    if (peer === undefined) this.byPeer.set(peerId, peer = new Set())
    peer.add(seat)
    return seat
  }

  close (seat: Seat): void {
    if (!this.seats.delete(seat.id)) return
    const peer = this.byPeer.get(seat.peerId)
    peer?.delete(seat)
    if (peer?.size === 0) this.byPeer.delete(seat.peerId)
  }

  /** One accepted heartbeat on `seat`: whether it folds, and the conflict it shows, if any. */
  beat (seat: Seat, hb: { agent: { startedAt: number } }, at: Instant): BeatOutcome {
    if (seat.refused) return { fold: false }
    const run = hb.agent.startedAt
    const since = seat.lastBeatAt ?? seat.openedAt
    const others = [...this.byPeer.get(seat.peerId) ?? []]
      .filter((o) => o !== seat && !o.refused && o.lastBeatAt !== undefined && o.connectionId !== seat.connectionId && (o.run !== run || o.host !== seat.host))
    // Beats interleaved: another agent run beat since this stream's last beat (or since it opened).
    let rival = latest(others.filter((o) => (o.lastBeatAt as number) > since))
    const episode = this.episodes.get(seat.peerId)
    if (rival === undefined && episode !== undefined && seat.lastBeatAt === undefined) {
      // A newcomer during a conflict: another agent's retry while the kept stream is open. (An open stream
      // is one that beat within its idle bound; a killed agent's connection closes, and with it its seat.)
      rival = latest(others)
    }
    if (rival === undefined) {
      this.seated(seat, run, at.mono)
      return { fold: true }
    }
    const newer = seat.openedAt >= rival.openedAt ? seat : rival
    const kept = newer === seat ? rival : seat
    newer.refused = true
    if (kept === seat) this.seated(seat, run, at.mono)
    else seat.run = run
    const seen = this.record(kept, newer, at)
    return { fold: kept === seat, conflict: { peerId: seat.peerId, refuse: newer, kept, ...seen } }
  }

  /** Ends the conflicts with no sign of a second agent for IDENTITY_CONFLICT_HOLD_MS; returns their peers. */
  expire (now: number, holdMs = IDENTITY_CONFLICT_HOLD_MS): string[] {
    const ended: string[] = []
    for (const [peerId, episode] of this.episodes) {
      if (now - episode.lastEvidenceAt < holdMs) continue
      this.episodes.delete(peerId)
      ended.push(peerId)
    }
    return ended
  }

  conflictOf (peerId: string): IdentityConflict | undefined {
    return this.episodes.get(peerId)?.conflict
  }

  /** Open streams (for tests and bounds). */
  get size (): number {
    return this.seats.size
  }

  private seated (seat: Seat, run: number, now: number): void {
    seat.run = run
    seat.lastBeatAt = now
  }

  private record (kept: Seat, newer: Seat, at: Instant): { conflict: IdentityConflict, started: boolean, changed: boolean } {
    let episode = this.episodes.get(kept.peerId)
    const started = episode === undefined
    if (episode === undefined) {
      episode = { since: at.wall, lastEvidenceAt: at.mono, agents: new Map(), agentsSeen: 0, conflict: { agents: 0, addresses: [], since: at.wall } }
      this.episodes.set(kept.peerId, episode)
    }
    episode.lastEvidenceAt = at.mono
    for (const seat of [kept, newer]) {
      const key = `${seat.host}|${String(seat.run)}`
      if (!episode.agents.has(key)) {
        episode.agentsSeen++
        if (episode.agents.size >= IDENTITY_MAX_AGENTS_LISTED) continue
      }
      episode.agents.set(key, seat.remoteAddr)
    }
    const addresses = [...episode.agents.values()]
    const before = episode.conflict
    const changed = started || before.agents !== episode.agentsSeen || before.addresses.join() !== addresses.join()
    if (changed) episode.conflict = { agents: episode.agentsSeen, addresses, since: episode.since }
    return { conflict: episode.conflict, started, changed }
  }
}

function latest (seats: Seat[]): Seat | undefined {
  let best: Seat | undefined
  for (const s of seats) if (best === undefined || (s.lastBeatAt as number) > (best.lastBeatAt as number)) best = s
  return best
}

/** `/ip4/10.0.0.5/tcp/4001` -> `/ip4/10.0.0.5`: the machine, not the socket. */
export function hostOf (remoteAddr: string): string {
  return /^\/(?:ip4|ip6|dns4|dns6|dns)\/[^/]+/.exec(remoteAddr)?.[0] ?? remoteAddr
}

export interface IdentityGuardOptions {
  apply: (event: FleetEvent) => void
  logger: Logger
  clock: Clock
  /** Counts each refused stream (the ingest's `identity_in_use`). */
  onRefused?: () => void
}

/** What a stream handler holds: asks before folding each beat, and leaves when the stream ends. */
export interface IdentitySeat {
  /** False when this beat must not fold (this stream is refused). */
  admit: (heartbeat: Heartbeat) => boolean
  leave: () => void
}

/** The ledger's shell: refuses the newer stream, logs a conflict once, tells the fleet, ends conflicts on the clock. */
export class IdentityGuard {
  private readonly options: IdentityGuardOptions
  private readonly ledger = new IdentityLedger()
  private readonly refusers = new Map<number, (refusal: Refusal) => void>()
  private timer: Timer | undefined

  constructor (options: IdentityGuardOptions) {
    this.options = options
  }

  start (): void {
    this.timer ??= this.options.clock.every(IDENTITY_EXPIRY_CHECK_MS, () => { this.expire() }, { unref: true })
  }

  stop (): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  /** A new heartbeat stream; `refuse` writes the refusal and closes it (once). */
  join (peerId: string, connection: { id: string, remoteAddr: string }, refuse: (refusal: Refusal) => void): IdentitySeat {
    const seat = this.ledger.open(peerId, connection.id, connection.remoteAddr, this.options.clock.monotonic())
    this.refusers.set(seat.id, refuse)
    return {
      admit: (heartbeat) => this.admit(seat, heartbeat),
      leave: () => {
        this.refusers.delete(seat.id)
        this.ledger.close(seat)
      },
    }
  }

  conflictOf (peerId: string): IdentityConflict | undefined {
    return this.ledger.conflictOf(peerId)
  }

  /** Ends conflicts past their hold (also run by the timer). */
  expire (): void {
    for (const peerId of this.ledger.expire(this.options.clock.monotonic())) {
      this.options.logger.info({ peer: peerId }, 'identity conflict over: no second agent on this peer id for a while')
      this.options.apply({ type: 'identity', peerId, conflict: undefined })
    }
  }

  private admit (seat: Seat, heartbeat: Heartbeat): boolean {
    const { clock, logger } = this.options
    const outcome = this.ledger.beat(seat, heartbeat, instantOf(clock))
    const seen = outcome.conflict
    if (seen === undefined) return outcome.fold
    if (seen.started) {
      logger.error({ peer: seen.peerId, addresses: seen.conflict.addresses, kept: seen.kept.remoteAddr, refused: seen.refuse.remoteAddr },
        `${identityConflictReason(seen.peerId, seen.conflict)}; the newer stream is refused`)
    }
    if (seen.changed) this.options.apply({ type: 'identity', peerId: seen.peerId, conflict: seen.conflict })
    const refuse = this.refusers.get(seen.refuse.id)
    this.refusers.delete(seen.refuse.id)
    this.options.onRefused?.()
    refuse?.({ code: 'identity_in_use', message: `this identity is used by another agent at ${seen.kept.remoteAddr}; give each node its own key file` })
    return outcome.fold
  }
}
