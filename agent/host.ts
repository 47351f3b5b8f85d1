import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'

/** The agent's libp2p host: dial only (TCP + Noise + Yamux), no listener. */
export async function createAgentHost (privateKey: PrivateKey, options: { dialTimeoutMs: number }): Promise<Libp2p> {
  return await createLibp2p({
    privateKey,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { dialTimeout: options.dialTimeoutMs },
  })
}
