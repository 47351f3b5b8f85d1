import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import {
  DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PENDING_CONNECTIONS,
  MAX_MUXED_STREAMS_PER_CONNECTION,
} from '../constants.ts'

/**
 * Connection limits: libp2p's own bounds on the host, and what lets it
 * through a reconnect storm. Agents back off with full jitter, so
 * after a restart they arrive spread over a reconnect period; these limits
 * only stop what exceeds that (a misbehaving host, a fleet far larger than
 * expected). A refused connection costs the agent one backoff step, never
 * more: the per-host rate is a one-second window, and pending slots free up
 * as handshakes finish.
 */
export interface ConnectionLimits {
  /** Open connections in all (libp2p refuses new ones beyond it). */
  maxConnections?: number
  /** New inbound connections per second from one IP address; more are refused for the rest of that second. */
  inboundConnectionsPerHostPerSecond?: number
  /** Inbound connections still in the TCP/Noise/Yamux upgrade at once; more are refused until one finishes. */
  maxPendingConnections?: number
}

export interface AggregatorHostOptions extends ConnectionLimits {
  privateKey: PrivateKey
  listen: string[]
  /** Peer admission, per-IP and per-peer bounds (see peer-admission.ts). */
  connectionGater?: ConnectionGater
}

/** The aggregator's libp2p host: TCP + Noise + Yamux, limits sized for fleets. */
export async function createAggregatorHost (options: AggregatorHostOptions): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: options.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: MAX_MUXED_STREAMS_PER_CONNECTION })],
    ...(options.connectionGater !== undefined ? { connectionGater: options.connectionGater } : {}),
    connectionManager: {
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      inboundConnectionThreshold: options.inboundConnectionsPerHostPerSecond ?? DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND,
      maxIncomingPendingConnections: options.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS,
    },
  })
}
