import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, PrivateKey, StreamMuxerFactory } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { systemClock, type Clock } from '../shared/clock.ts'
import { LINK_PING_INTERVAL_MS, LINK_PING_TIMEOUT_MS } from './constants.ts'
import { watchLink, type LinkWatchOptions } from './link-watch.ts'

/** The agent's libp2p host: dial only (TCP + Noise + Yamux), no listener. */
export async function createAgentHost (privateKey: PrivateKey, options: { dialTimeoutMs: number, clock?: Clock }): Promise<Libp2p> {
  return await createLibp2p({
    privateKey,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    // The only way a silent partition shows: a yamux PING goes unanswered and the connection is dropped (link-watch.ts).
    streamMuxers: [watchedYamux({ clock: options.clock ?? systemClock, intervalMs: LINK_PING_INTERVAL_MS, timeoutMs: LINK_PING_TIMEOUT_MS })],
    connectionManager: { dialTimeout: options.dialTimeoutMs },
    // libp2p's monitor probes the same thing by opening a ping stream the aggregator refuses: several frames and a
    // stream negotiation at the aggregator per probe, against one 12-byte frame each way for yamux's PING.
    connectionMonitor: { enabled: false },
  })
}

/**
 * Yamux whose every connection is watched by watchLink. js-yamux's own
 * keep-alive is off: it pings but ignores a missing answer, so it would only
 * double the probes.
 */
function watchedYamux (watch: LinkWatchOptions): () => StreamMuxerFactory {
  const inner = yamux({ enableKeepAlive: false })
  return () => {
    const factory = inner()
    return {
      protocol: factory.protocol,
      createStreamMuxer (transport) {
        const muxer = factory.createStreamMuxer(transport)
        watchLink({
          ping: async (o) => await muxer.ping(o),
          // As libp2p does with a muxer that cannot go on: end the muxer (its streams end with the error) and the transport.
          abort: (err) => { muxer.abort(err); transport.abort(err) },
          get status () { return muxer.status },
        }, watch)
        return muxer
      },
    }
  }
}
