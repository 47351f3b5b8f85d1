import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { getNetConfig, isNetworkAddress } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Clock } from '../../shared/clock.ts'
import { formatDuration } from '../../shared/duration.ts'
import { errorMessage } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import { RateLimitedLog } from '../../shared/rate-limited-log.ts'
import {
  DEFAULT_MAX_PENDING_CONNECTIONS, HANDSHAKE_RATE_WINDOW_MS, HANDSHAKE_WAIT_BUDGET_MS, MIN_PENDING_HANDSHAKES, PENALTY_BOX_CAPACITY,
  REFUSAL_LOG_LINES, REFUSAL_LOG_WINDOW_MS,
} from '../constants.ts'
import { HandshakeAdmission } from './handshake-admission.ts'
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './limits.ts'
import {
  ConnectionCounter, loadPeerList, PeerPolicy, RefusalStats, type PeerLists, type PeerListSpec, type RefusalReason,
} from './peer-lists.ts'
import { PenaltyBox } from './rate-limit.ts'

/** The peer lists as configured (files are read at start and on each reload). */
export interface PeerListsConfig {
  allowPeers?: PeerListSpec
  denyPeers?: PeerListSpec
}

export interface PeerAdmissionOptions {
  limits?: Partial<IngestLimits>
  peerLists?: PeerListsConfig
  logger: Logger
  clock: Clock
  /** Handshakes under way at once, at most (--max-pending-connections); admission adapts below it. */
  maxPendingHandshakes?: number
}

/**
 * Peer admission: who may hold a connection. The peer lists, the penalty box
 * (flooders, put there by the beat budget), and the per-IP and per-peer
 * connection bounds, enforced as a libp2p connection gater. Refusals are
 * counted per reason and logged at a bounded rate.
 */
export class PeerAdmission {
  readonly limits: Readonly<IngestLimits>
  readonly refusals = new RefusalStats()
  readonly penalties: PenaltyBox
  readonly perIp: ConnectionCounter
  readonly policy: PeerPolicy
  readonly handshakes: HandshakeAdmission
  private readonly peerLists: PeerListsConfig
  private readonly log: Logger
  private readonly clock: Clock
  private readonly refusalLog = new RateLimitedLog({ limit: REFUSAL_LOG_LINES, windowMs: REFUSAL_LOG_WINDOW_MS })

  constructor (options: PeerAdmissionOptions) {
    this.limits = { ...DEFAULT_INGEST_LIMITS, ...options.limits }
    this.peerLists = options.peerLists ?? {}
    this.log = options.logger
    this.clock = options.clock
    this.penalties = new PenaltyBox({ durationMs: this.limits.floodPenaltyMs, capacity: PENALTY_BOX_CAPACITY })
    this.perIp = new ConnectionCounter(this.limits.maxConnectionsPerIp)
    this.policy = new PeerPolicy({}, this.penalties)
    const maxInFlight = options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_CONNECTIONS
    this.handshakes = new HandshakeAdmission({
      waitBudgetMs: HANDSHAKE_WAIT_BUDGET_MS,
      minInFlight: Math.min(MIN_PENDING_HANDSHAKES, maxInFlight),
      maxInFlight,
      rateWindowMs: HANDSHAKE_RATE_WINDOW_MS,
    })
  }

  /** Reads the peer lists (files are read now); a mistake throws a UsageError. */
  async loadPeerLists (): Promise<PeerLists> {
    const lists: PeerLists = {}
    if (this.peerLists.allowPeers !== undefined) lists.allow = await loadPeerList(this.peerLists.allowPeers, '--allow-peers')
    if (this.peerLists.denyPeers !== undefined) lists.deny = await loadPeerList(this.peerLists.denyPeers, '--deny-peers')
    this.policy.setLists(lists)
    return lists
  }

  /** Re-reads the lists (SIGHUP). A bad list is logged and the running lists stay. */
  async reloadPeerLists (): Promise<boolean> {
    try {
      const lists = await this.loadPeerLists()
      this.log.info({ allowlist: lists.allow?.size ?? null, denylist: lists.deny?.size ?? 0 }, 'peer lists reloaded')
      return true
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'peer lists not reloaded; the running lists stay')
      return false
    }
  }

  /** Undefined when the peer may stay connected under the current lists and penalties. */
  check (peerId: string): RefusalReason | undefined {
    // Penalties run on the monotonic clock: a wall step neither frees a flooder nor extends an honest peer's wait.
    return this.policy.check(peerId, this.clock.monotonic())
  }

  /** Puts a flooder in the penalty box (the gater refuses it until the penalty ends); logged at a bounded rate. */
  penalize (peerId: string): void {
    const now = this.clock.monotonic()
    const until = this.penalties.add(peerId, now)
    const admitted = this.refusalLog.admit(now)
    if (admitted.log) {
      this.log.warn({ peer: peerId, until: new Date(this.wallOf(until)).toISOString(), suppressed: admitted.suppressed },
        `peer floods heartbeats: disconnected and refused for ${formatDuration(this.limits.floodPenaltyMs)}`)
    }
  }

  /**
   * The libp2p connection gater: per-IP bound and handshake admission on raw
   * connections (before any crypto work), then peer lists, penalty box and
   * per-peer bound right after the Noise handshake proved who the peer is;
   * an upgraded connection completes its handshake.
   */
  connectionGater (connectionsOf: (peer: PeerId) => number): ConnectionGater {
    const underWay = new WeakMap<MultiaddrConnection, { done: boolean }>()
    return {
      denyInboundConnection: (maConn: MultiaddrConnection): boolean => {
        const ip = ipOf(maConn.remoteAddr)
        if (ip !== undefined && !this.perIp.tryAcquire(ip)) {
          this.refuse('too_many_connections_per_ip', undefined, maConn.remoteAddr)
          return true
        }
        if (!this.handshakes.tryBegin(this.clock.monotonic())) {
          if (ip !== undefined) this.perIp.release(ip)
          this.refuse('handshakes_busy', undefined, maConn.remoteAddr)
          return true
        }
        const handshake = { done: false }
        underWay.set(maConn, handshake)
        let released = false
        const release = (): void => {
          if (released) return
          released = true
          if (ip !== undefined) this.perIp.release(ip)
          if (!handshake.done) {
            handshake.done = true
            this.handshakes.abandon()
          }
        }
        maConn.addEventListener('close', release, { once: true })
        if (maConn.status !== 'open') release()
        return false
      },
      denyInboundUpgradedConnection: (_peer: PeerId, maConn: MultiaddrConnection): boolean => {
        const handshake = underWay.get(maConn)
        if (handshake !== undefined && !handshake.done) {
          handshake.done = true
          this.handshakes.complete(this.clock.monotonic())
        }
        return false
      },
      denyInboundEncryptedConnection: (peer: PeerId, maConn: MultiaddrConnection): boolean => {
        const peerId = peer.toString()
        const reason = this.check(peerId) ??
          (connectionsOf(peer) >= this.limits.maxConnectionsPerPeer ? 'too_many_connections_per_peer' : undefined)
        if (reason === undefined) return false
        this.refuse(reason, peerId, maConn.remoteAddr)
        return true
      },
    }
  }

  /** What the admin endpoint shows (its `admission` part); `peersRateTracked` comes from the beat budget. */
  snapshot (peersRateTracked: number): Record<string, unknown> {
    const now = this.clock.monotonic()
    return {
      allowlist: this.policy.allowlistSize ?? null,
      denylist: this.policy.denylistSize,
      refused: this.refusals.toJSON(),
      penalized: this.penalties.list(now).map((p) => ({ peerId: p.peerId, until: new Date(this.wallOf(p.until)).toISOString() })),
      ipsConnected: this.perIp.size,
      handshakes: this.handshakes.snapshot(this.clock.monotonic()),
      peersRateTracked,
      limits: this.limits,
    }
  }

  /** A monotonic moment as the wall clock shows it now (for display only). */
  private wallOf (mono: number): number {
    return this.clock.wall() + (mono - this.clock.monotonic())
  }

  private refuse (reason: RefusalReason, peerId: string | undefined, remoteAddr: Multiaddr): void {
    this.refusals.refuse(reason)
    const admitted = this.refusalLog.admit(this.clock.monotonic())
    if (!admitted.log) return
    this.log.warn({ reason, peer: peerId, remoteAddr: remoteAddr.toString(), suppressed: admitted.suppressed },
      `refused a connection (${reason}); further refusals are counted, at most ${REFUSAL_LOG_LINES} lines per ${formatDuration(REFUSAL_LOG_WINDOW_MS)}`)
  }
}

function ipOf (addr: Multiaddr): string | undefined {
  try {
    if (!isNetworkAddress(addr)) return undefined
    return getNetConfig(addr).host
  } catch {
    return undefined
  }
}
