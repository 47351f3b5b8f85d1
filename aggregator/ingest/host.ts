import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { ConnectionGater, Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { bindError } from '../../shared/bind-error.ts'
import { errorMessage, type HeartbeatError } from '../../shared/errors.ts'
import { libp2pLogger } from '../../shared/libp2p-logger.ts'
import { nativeNoiseCrypto } from '../../shared/noise-crypto.ts'
import { tcpTarget } from '../listen-check.ts'
import {
  AGENT_DIAL_TIMEOUT_MS, DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PENDING_CONNECTIONS,
  MAX_MUXED_STREAMS_PER_CONNECTION,
} from '../constants.ts'
import { rememberingLastSignature } from './handshake-key.ts'

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

/**
 * No liveness pings from the aggregator's side. Agents beat every period and
 * their silence is what the fleet view judges; a socket that goes quiet is
 * closed by TCP's inactivity timeout (two minutes), which pings of our own
 * would only keep resetting. js-libp2p's connection monitor would open a
 * ping stream on every connection every 10 s (1,000 negotiations a second
 * at 10,000 agents), yamux's keep-alive a ping per connection every 30 s.
 * The agents' own yamux PINGs (agent/link-watch.ts) are answered by the
 * muxer itself.
 */
export const AGGREGATOR_PINGS_CONNECTIONS = false

/**
 * Yamux receive window per stream: the spec's 256 KiB, never auto-tuned
 * upwards. Heartbeat frames are at most 64 KiB and a few a second, so a
 * bigger window buys nothing, while js-yamux would otherwise grow it to
 * 16 MiB for a fast sender: the bytes one peer can make us buffer.
 */
export const AGGREGATOR_STREAM_WINDOW_BYTES = 256 * 1024

/**
 * The aggregator's libp2p host: TCP + Noise + Yamux, limits sized for fleets.
 * A listen address that cannot be bound is an ERR_BIND error naming it.
 */
export async function createAggregatorHost (options: AggregatorHostOptions): Promise<Libp2p> {
  try {
    return await createHost(options)
  } catch (err) {
    throw listenError(err, options.listen) ?? err
  }
}

/**
 * What every inbound connection costs is what bounds a restart: the whole
 * fleet reconnects within a reconnect period or two (docs/BENCHMARKS.md §6).
 * Hence Node's native crypto for all of Noise (shared/noise-crypto.ts), the
 * handshake's signature answered from memory (handshake-key.ts), and no
 * per-connection loggers unless DEBUG asks for libp2p's (shared/libp2p-logger.ts).
 */
async function createHost (options: AggregatorHostOptions): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: rememberingLastSignature(options.privateKey),
    ...libp2pLogger(),
    addresses: { listen: options.listen },
    transports: [tcp()],
    connectionEncrypters: [noise({ crypto: nativeNoiseCrypto })],
    streamMuxers: [yamux({
      maxInboundStreams: MAX_MUXED_STREAMS_PER_CONNECTION,
      enableKeepAlive: AGGREGATOR_PINGS_CONNECTIONS,
      streamOptions: { maxStreamWindowSize: AGGREGATOR_STREAM_WINDOW_BYTES },
    })],
    connectionMonitor: { enabled: AGGREGATOR_PINGS_CONNECTIONS },
    ...(options.connectionGater !== undefined ? { connectionGater: options.connectionGater } : {}),
    connectionManager: {
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      inboundConnectionThreshold: options.inboundConnectionsPerHostPerSecond ?? DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND,
      maxIncomingPendingConnections: options.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS,
      // The agent has given up by then: finishing the upgrade would be work for nobody.
      inboundUpgradeTimeout: AGENT_DIAL_TIMEOUT_MS,
    },
  })
}

/**
 * libp2p reports failed listen addresses in one multi-line message, one
 * "  ADDR: Error: listen ECODE: ..." line per address (its error carries no
 * codes), or as the listener's own error; this finds the first failed address
 * and its errno. Undefined when the error is not about listening.
 */
export function listenError (err: unknown, listen: readonly string[]): HeartbeatError | undefined {
  const message = errorMessage(err)
  const failed = /^\s*(\/\S+): (.*)$/m.exec(message)
  const address = failed?.[1] ?? listen.find((l) => message.includes(l))
  const listenCode = (err as NodeJS.ErrnoException).syscall === 'listen' || (err as NodeJS.ErrnoException).syscall === 'bind'
  if (address === undefined && !listenCode) return undefined
  const shown = address ?? listen[0] ?? ''
  const cause = failed?.[2] !== undefined ? Object.assign(new Error(failed[2]), { cause: err }) : err
  return bindError({ flag: '--listen', address: shown, port: tcpTarget(shown)?.port }, cause, 'heartbeat-aggregator')
}
