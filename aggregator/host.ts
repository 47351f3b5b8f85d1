import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import {
  DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PENDING_CONNECTIONS,
  MAX_MUXED_STREAMS_PER_CONNECTION,
} from './constants.ts'

export interface AggregatorHostOptions {
  privateKey: PrivateKey
  listen: string[]
  maxConnections?: number
  inboundConnectionsPerHostPerSecond?: number
  maxPendingConnections?: number
  /** Peer admission, per-IP and per-peer bounds (see abuse-guard.ts). */
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
