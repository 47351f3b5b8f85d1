import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import {
  DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PENDING_CONNECTIONS,
} from './constants.ts'

export interface AggregatorHostOptions {
  privateKey: PrivateKey
  listen: string[]
  maxConnections?: number
  inboundConnectionsPerHostPerSecond?: number
  maxPendingConnections?: number
}

/** The aggregator's libp2p host: TCP + Noise + Yamux, limits sized for fleets. */
export async function createAggregatorHost (options: AggregatorHostOptions): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: options.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      inboundConnectionThreshold: options.inboundConnectionsPerHostPerSecond ?? DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND,
      maxIncomingPendingConnections: options.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS,
    },
  })
}
