import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { LINK_PING_INTERVAL_MS, LINK_PING_TIMEOUT_MS } from './constants.ts'

/** The agent's libp2p host: dial only (TCP + Noise + Yamux), no listener. */
export async function createAgentHost (privateKey: PrivateKey, options: { dialTimeoutMs: number }): Promise<Libp2p> {
  return await createLibp2p({
    privateKey,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { dialTimeout: options.dialTimeoutMs },
    // The only way a silent partition shows: the ping goes unanswered and the connection is dropped (constants.ts).
    connectionMonitor: {
      pingInterval: LINK_PING_INTERVAL_MS,
      pingTimeout: { minTimeout: LINK_PING_TIMEOUT_MS, maxTimeout: LINK_PING_TIMEOUT_MS },
      abortConnectionOnPingFailure: true,
    },
  })
}
