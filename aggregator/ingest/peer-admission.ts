import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { getNetConfig, isNetworkAddress } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import { formatDuration } from '../../shared/duration.ts'
import { errorMessage } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import { RateLimitedLog } from '../../shared/rate-limited-log.ts'
import {
  AdmissionPolicy, AdmissionStats, ConnectionCounter, loadPeerList, type PeerLists, type PeerListSpec, type RefusalReason,
} from './peer-lists.ts'
import {
  DEFAULT_BEAT_BURST, DEFAULT_BEAT_RATE_PER_SECOND, DEFAULT_FLOOD_PENALTY_MS, DEFAULT_MAX_CONNECTIONS_PER_IP, DEFAULT_MAX_NODES, FIRST_FRAME_TIMEOUT_MS, FLOOD_DROPS, FLOOD_WINDOW_MS,
  MAX_CONNECTIONS_PER_PEER, PENALTY_BOX_CAPACITY, RATE_LIMITER_MAX_PEERS, REFUSAL_LOG_LINES, REFUSAL_LOG_WINDOW_MS,
} from '../constants.ts'
import type { IngestRejectReason } from './stats.ts'
import { BeatRateLimiter, PenaltyBox } from './rate-limit.ts'

/**
 * The bounds the aggregator puts on each peer; defaults in constants.ts, flags in security-cli.ts.
 * (Connections in all, handshakes in progress and connections per host per second are the
 * libp2p host's own limits: AdmissionLimits in host.ts.)
 */
export interface AbuseLimits {
  maxConnectionsPerIp: number
  maxConnectionsPerPeer: number
  /** Nodes tracked by the fleet; beats of further new peers are refused. */
  maxNodes: number
  beatRatePerSecond: number
  beatBurst: number
  floodDrops: number
  floodWindowMs: number
  floodPenaltyMs: number
  /** A heartbeat stream that sends nothing for this long is reset. */
  firstFrameTimeoutMs: number
}

export const DEFAULT_ABUSE_LIMITS: Readonly<AbuseLimits> = {
  maxConnectionsPerIp: DEFAULT_MAX_CONNECTIONS_PER_IP,
  maxConnectionsPerPeer: MAX_CONNECTIONS_PER_PEER,
  maxNodes: DEFAULT_MAX_NODES,
  beatRatePerSecond: DEFAULT_BEAT_RATE_PER_SECOND,
  beatBurst: DEFAULT_BEAT_BURST,
  floodDrops: FLOOD_DROPS,
  floodWindowMs: FLOOD_WINDOW_MS,
  floodPenaltyMs: DEFAULT_FLOOD_PENALTY_MS,
  firstFrameTimeoutMs: FIRST_FRAME_TIMEOUT_MS,
}

/** The peer lists as configured (files are read at start and on each reload). */
export interface PeerListsConfig {
  allowPeers?: PeerListSpec
  denyPeers?: PeerListSpec
}

/** What the ingest does with one frame before decoding it. */
export type BeatAdmission =
  | { action: 'accept' }
  /** Drop this frame, keep the stream. */
  | { action: 'drop', reason: IngestRejectReason }
  /** Reset the stream (and, for a flooder, the caller hangs up). */
  | { action: 'reset', reason: IngestRejectReason }

export interface AbuseGuardOptions {
  limits?: Partial<AbuseLimits>
  peerLists?: PeerListsConfig
  logger: Logger
  now: () => number
}

/**
 * The aggregator's defences in one place: the peer lists, the penalty box,
 * per-IP and per-peer connection bounds (as a libp2p connection gater), the
 * per-peer beat budget and the node cap. Refusals are counted per reason and
 * logged at a bounded rate.
 */
export class AbuseGuard {
  readonly limits: Readonly<AbuseLimits>
  readonly stats = new AdmissionStats()
  readonly penalties: PenaltyBox
  readonly perIp: ConnectionCounter
  readonly policy: AdmissionPolicy
  readonly beats: BeatRateLimiter
  private readonly peerLists: PeerListsConfig
  private readonly log: Logger
  private readonly now: () => number
  private readonly refusalLog = new RateLimitedLog({ limit: REFUSAL_LOG_LINES, windowMs: REFUSAL_LOG_WINDOW_MS })

  constructor (options: AbuseGuardOptions) {
    this.limits = { ...DEFAULT_ABUSE_LIMITS, ...options.limits }
    this.peerLists = options.peerLists ?? {}
    this.log = options.logger
    this.now = options.now
    this.penalties = new PenaltyBox({ durationMs: this.limits.floodPenaltyMs, capacity: PENALTY_BOX_CAPACITY })
    this.perIp = new ConnectionCounter(this.limits.maxConnectionsPerIp)
    this.policy = new AdmissionPolicy({}, this.penalties)
    this.beats = new BeatRateLimiter({
      ratePerSecond: this.limits.beatRatePerSecond,
      burst: this.limits.beatBurst,
      floodDrops: this.limits.floodDrops,
      floodWindowMs: this.limits.floodWindowMs,
      maxTrackedPeers: RATE_LIMITER_MAX_PEERS,
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
  checkPeer (peerId: string): RefusalReason | undefined {
    return this.policy.check(peerId, this.now())
  }

  /**
   * The libp2p connection gater: per-IP bound on raw connections (before any
   * crypto work), then peer lists, penalty box and per-peer bound right after
   * the Noise handshake proved who the peer is.
   */
  connectionGater (connectionsOf: (peer: PeerId) => number): ConnectionGater {
    return {
      denyInboundConnection: (maConn: MultiaddrConnection): boolean => {
        const ip = ipOf(maConn.remoteAddr)
        if (ip === undefined) return false
        if (!this.perIp.tryAcquire(ip)) {
          this.refuse('too_many_connections_per_ip', undefined, maConn.remoteAddr)
          return true
        }
        let released = false
        const release = (): void => {
          if (released) return
          released = true
          this.perIp.release(ip)
        }
        maConn.addEventListener('close', release, { once: true })
        if (maConn.status !== 'open') release()
        return false
      },
      denyInboundEncryptedConnection: (peer: PeerId, maConn: MultiaddrConnection): boolean => {
        const peerId = peer.toString()
        const reason = this.checkPeer(peerId) ??
          (connectionsOf(peer) >= this.limits.maxConnectionsPerPeer ? 'too_many_connections_per_peer' : undefined)
        if (reason === undefined) return false
        this.refuse(reason, peerId, maConn.remoteAddr)
        return true
      },
    }
  }

  /** Decides on one frame from `peerId` before it is decoded. */
  admitBeat (peerId: string, fleet: { known: boolean, size: number }): BeatAdmission {
    if (!fleet.known && fleet.size >= this.limits.maxNodes) return { action: 'reset', reason: 'fleet_full' }
    const now = this.now()
    const decision = this.beats.check(peerId, now)
    if (decision === 'accept') return { action: 'accept' }
    if (decision === 'drop') return { action: 'drop', reason: 'rate_limited' }
    const until = this.penalties.add(peerId, now)
    const admitted = this.refusalLog.admit(now)
    if (admitted.log) {
      this.log.warn({ peer: peerId, until: new Date(until).toISOString(), suppressed: admitted.suppressed },
        `peer floods heartbeats: disconnected and refused for ${formatDuration(this.limits.floodPenaltyMs)}`)
    }
    return { action: 'reset', reason: 'flooding' }
  }

  /** What the admin endpoint shows. */
  snapshot (): Record<string, unknown> {
    const now = this.now()
    return {
      allowlist: this.policy.allowlistSize ?? null,
      denylist: this.policy.denylistSize,
      refused: this.stats.toJSON(),
      penalized: this.penalties.list(now).map((p) => ({ peerId: p.peerId, until: new Date(p.until).toISOString() })),
      ipsConnected: this.perIp.size,
      peersRateTracked: this.beats.size,
      limits: this.limits,
    }
  }

  private refuse (reason: RefusalReason, peerId: string | undefined, remoteAddr: Multiaddr): void {
    this.stats.refuse(reason)
    const admitted = this.refusalLog.admit(this.now())
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
