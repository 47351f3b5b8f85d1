/**
 * The ingest stage: everything between a TCP connection and a heartbeat
 * folded into the fleet state.
 *
 *   connection limits  libp2p's own bounds (host.ts)
 *   peer admission     peer lists, penalty box, per-IP and per-peer bounds: the connection gater (peer-admission.ts, peer-lists.ts)
 *   beat budget        per frame, before decoding: node cap, per-peer rate, floods (beat-budget.ts, rate-limit.ts)
 *   protocol handlers  /fil/heartbeat/2.0.0 CBOR frames (v2-handler.ts), go-filecoin's JSON lines (legacy-handler.ts),
 *                      both through one stream handler (stream-handler.ts)
 *   network filter     per heartbeat, after decoding: --network (network-filter.ts)
 *   identity guard     per heartbeat: one peer id beating from two agents at once is flagged, the newer refused (identity.ts)
 *   stats              what came in, what was folded, what was refused (stats.ts)
 *
 * createIngest is the one entry point: it returns the stage as a Part (start
 * creates the host and its handlers, stop takes it down) with what the rest of
 * the aggregator needs of it.
 *
 * @example
 *   const ingest = createIngest({ listen: ['/ip4/0.0.0.0/tcp/4100'], privateKey, fleet, clock: systemClock, logger })
 *   await ingest.start()
 *   ingest.host?.getMultiaddrs()
 *   await ingest.stop()
 */
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Clock, instantOf, type Timer } from '../../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import type { Logger } from '../../shared/log.ts'
import { DEFAULT_MAX_FRAME_BYTES, HEARTBEAT_PROTOCOL, LEGACY_HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import { DISCONNECT_SETTLE_MS, MAX_HEARTBEAT_STREAMS_PER_CONNECTION } from '../constants.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import type { FleetEvent } from '../fleet/types.ts'
import type { Part } from '../parts.ts'
import { BeatBudget, type BeatVerdict } from './beat-budget.ts'
import { type ConnectionLimits, createAggregatorHost } from './host.ts'
import { IdentityGuard } from './identity.ts'
import { legacyCodec } from './legacy-handler.ts'
import type { IngestLimits } from './limits.ts'
import { networkFilter } from './network-filter.ts'
import { PeerAdmission, type PeerListsConfig } from './peer-admission.ts'
import { IngestStats } from './stats.ts'
import { createStreamHandler } from './stream-handler.ts'
import { v2Codec } from './v2-handler.ts'

export type { ConnectionLimits } from './host.ts'
export type { IngestLimits } from './limits.ts'
export { DEFAULT_INGEST_LIMITS } from './limits.ts'
export type { PeerListsConfig } from './peer-admission.ts'
export type { IngestRejectReason } from './stats.ts'
export { IngestStats } from './stats.ts'

export interface IngestOptions {
  /** libp2p listen multiaddrs. */
  listen: string[]
  /** The host's key, asked for when the ingest starts (the data dir's key file). */
  privateKey: () => Promise<PrivateKey>
  /** Where heartbeats and connection events fold. */
  fleet: FleetState
  clock: Clock
  logger: Logger
  /** Largest frame (and legacy line) accepted; default DEFAULT_MAX_FRAME_BYTES. */
  maxFrameBytes?: number
  connectionLimits?: ConnectionLimits
  /** Bounds per peer (IP, peer, beat rate, node cap...); defaults in constants.ts. */
  limits?: Partial<IngestLimits>
  /** --allow-peers, --deny-peers (re-read by reloadPeerLists). */
  peerLists?: PeerListsConfig
  /** --network: take heartbeats of this network only. */
  network?: string
  /** The ingest-time histogram (v2 frames). */
  observeIngestSeconds?: (seconds: number) => void
}

/** The ingest stage as the aggregator holds it. */
export interface Ingest extends Part {
  readonly stats: IngestStats
  readonly admission: PeerAdmission
  readonly beats: BeatBudget
  /** Peer ids used by two agents at once (docs/fleet-semantics.md, "One identity, one node"). */
  readonly identity: IdentityGuard
  /** The running host; undefined until started. */
  readonly host: Libp2p | undefined
  /**
   * Re-reads --allow-peers and --deny-peers (SIGHUP) and closes the
   * connections of peers the new lists refuse. A bad list keeps the old ones.
   */
  reloadPeerLists: () => Promise<boolean>
  /** The ingest's share of GET /api/v1/admin/security. */
  snapshot: () => { admission: Record<string, unknown>, ingest: Record<string, unknown>, connections: number }
}

export function createIngest (options: IngestOptions): Ingest {
  const { fleet, clock, logger } = options
  const stats = new IngestStats()
  const admission = new PeerAdmission({
    limits: options.limits, peerLists: options.peerLists, logger, clock, maxPendingHandshakes: options.connectionLimits?.maxPendingConnections,
  })
  const beats = new BeatBudget({ limits: options.limits, admission, clock })
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const apply = (event: FleetEvent): void => { fleet.apply(event, instantOf(clock)) }
  const identity = new IdentityGuard({ apply, logger, clock, onRefused: () => { stats.reject('identity_in_use') } })
  /** Disconnects waiting for their settle time (cancelled on stop: nothing folds after it). */
  const settling = new Set<Timer>()
  let host: Libp2p | undefined
  let stopping = false

  const hangUp = (peer: PeerId, reason: string): void => {
    for (const connection of host?.getConnections(peer) ?? []) connection.abort(new HeartbeatError(ErrorCodes.PEER_REFUSED, reason))
  }

  /** The beat budget of one frame; a flooder is also hung up on at once. */
  const spendBeat = (peerId: string): BeatVerdict => {
    const verdict = beats.spend(peerId, { known: fleet.get(peerId) !== undefined, size: fleet.size })
    if (verdict.action === 'reset' && verdict.reason === 'flooding') hangUp(peerIdFromString(peerId), 'heartbeat flood')
    return verdict
  }

  /**
   * Frames already received on the closing streams (an agent's last
   * "stopping" beat) fold first: the disconnect is applied a moment later,
   * and only if the peer has not come back meanwhile.
   */
  const settleDisconnect = (peer: PeerId): void => {
    if (stopping) return
    const timer = clock.timeout(DISCONNECT_SETTLE_MS, () => {
      settling.delete(timer)
      if ((host?.getConnections(peer).length ?? 0) === 0) apply({ type: 'disconnected', peerId: peer.toString() })
    })
    settling.add(timer)
  }

  const handlerOptions = {
    apply,
    stats,
    logger,
    clock,
    spendBeat,
    filter: networkFilter(options.network),
    firstFrameTimeoutMs: admission.limits.firstFrameTimeoutMs,
    identity,
  }

  return {
    name: 'ingest',
    stats,
    admission,
    beats,
    identity,
    get host () { return host },

    async start () {
      const privateKey = await options.privateKey()
      await admission.loadPeerLists()
      const node = await createAggregatorHost({
        privateKey,
        listen: options.listen,
        ...options.connectionLimits,
        connectionGater: admission.connectionGater((peer) => node.getConnections(peer).length),
      })
      host = node
      identity.start()
      node.addEventListener('peer:connect', (e) => { apply({ type: 'connected', peerId: e.detail.toString() }) })
      node.addEventListener('peer:disconnect', (e) => { settleDisconnect(e.detail) })
      // The frame limit bounds legacy lines too; only v2 frames feed the ingest-time histogram.
      await node.handle(HEARTBEAT_PROTOCOL, createStreamHandler(v2Codec(maxFrameBytes), { ...handlerOptions, observeIngestSeconds: options.observeIngestSeconds }),
        { maxInboundStreams: MAX_HEARTBEAT_STREAMS_PER_CONNECTION })
      await node.handle(LEGACY_HEARTBEAT_PROTOCOL, createStreamHandler(legacyCodec(maxFrameBytes), handlerOptions),
        { maxInboundStreams: MAX_HEARTBEAT_STREAMS_PER_CONNECTION })
    },

    async stop () {
      // The disconnects a stop causes are the aggregator leaving, not the nodes failing: none folds.
      stopping = true
      identity.stop()
      for (const timer of settling) timer.cancel()
      settling.clear()
      await host?.stop()
    },

    async reloadPeerLists () {
      if (!await admission.reloadPeerLists()) return false
      for (const connection of host?.getConnections() ?? []) {
        const reason = admission.check(connection.remotePeer.toString())
        if (reason !== undefined) connection.abort(new HeartbeatError(ErrorCodes.PEER_REFUSED, `peer refused after reload: ${reason}`))
      }
      return true
    },

    snapshot () {
      return { admission: admission.snapshot(beats.size), ingest: stats.toJSON(), connections: host?.getConnections().length ?? 0 }
    },
  }
}
