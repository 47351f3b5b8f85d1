// A libp2p connection without a libp2p node: one net.Socket, the real
// multistream-select, the real Noise handshake and the real Yamux muxer, wired
// the way libp2p's upgrader wires them (libp2p/src/upgrader.ts), and nothing
// else: no peer store, no identify, no connection manager or monitor, no
// per-node timers beyond yamux's own keep-alive. The load generator runs
// thousands of these in one process (bench/workers/lean-agent.ts); the yamux
// window test uses one to see exactly what the aggregator writes back.
import { connect, type Socket } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type {
  ConnectionEncrypter, PeerId, PrivateKey, Stream, StreamMuxer, StreamMuxerFactory, Upgrader,
} from '@libp2p/interface'
import * as mss from '@libp2p/multistream-select'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { AbstractMultiaddrConnection, type SendResult } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { SILENT_COMPONENT_LOGGER } from '../../shared/libp2p-logger.ts'
import { nativeNoiseCrypto } from '../../shared/noise-crypto.ts'

const SILENT = SILENT_COMPONENT_LOGGER.forComponent('lean')
const SILENT_COMPONENTS = SILENT_COMPONENT_LOGGER

/**
 * A TCP socket as a libp2p MultiaddrConnection (what @libp2p/tcp's
 * socket-to-conn does), except that a send is one socket write: Noise hands
 * over [length prefix, ciphertext] and writing them separately costs two
 * syscalls per frame.
 */
class SocketConnection extends AbstractMultiaddrConnection {
  readonly socket: Socket
  constructor (socket: Socket, remoteAddr: string) {
    super({ log: SILENT, direction: 'outbound', remoteAddr: multiaddr(remoteAddr) })
    this.socket = socket
    socket.on('data', (buf) => { this.onData(buf) })
    socket.on('error', (err) => { this.abort(err) })
    socket.once('end', () => { this.onTransportClosed() })
    socket.once('close', (hadError) => {
      if (hadError) this.abort(new Error('TCP transmission error'))
      else this.onTransportClosed()
    })
    socket.on('drain', () => { this.safeDispatchEvent('drain') })
  }

  sendData (data: Parameters<AbstractMultiaddrConnection['sendData']>[0]): SendResult {
    const canSendMore = this.socket.write(data.byteLength === 0 ? new Uint8Array(0) : data.subarray())
    return { sentBytes: data.byteLength, canSendMore }
  }

  async sendClose (): Promise<void> {
    if (this.socket.destroyed) return
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => { resolve() })
      this.socket.end()
    })
  }

  sendReset (): void {
    if (this.socket.writableEnded || this.socket.destroyed) this.socket.destroy()
    else this.socket.resetAndDestroy()
  }

  sendPause (): void { this.socket.pause() }
  sendResume (): void { this.socket.resume() }
}

/** The security and muxer protocols a js-libp2p 3 node offers, in its order. */
const NOISE_PROTOCOL = '/noise'

/** One identity's Noise and Yamux, built once and reused for every connection it dials. */
export interface LeanIdentity {
  privateKey: PrivateKey
  peerId: PeerId
  encrypter: ConnectionEncrypter
  muxers: Map<string, StreamMuxerFactory>
}

/** Noise (with early muxer negotiation, as js-libp2p does) and Yamux for one private key. */
export function leanIdentity (privateKey: PrivateKey, yamuxInit: Parameters<typeof yamux>[0] = {}): LeanIdentity {
  const peerId = peerIdFromPrivateKey(privateKey)
  const muxer = yamux(yamuxInit)()
  const muxers = new Map<string, StreamMuxerFactory>([[muxer.protocol, muxer]])
  // Noise asks the upgrader which muxers to announce in its handshake extensions (early muxer negotiation).
  const upgrader = { getStreamMuxers: () => muxers } as unknown as Upgrader
  // Node's native crypto for Noise (shared/noise-crypto.ts): the same bytes on the wire as the default, at less
  // of the load generator's CPU, which shares the machine with the aggregator it measures.
  const encrypter = noise({ crypto: nativeNoiseCrypto })({ peerId, privateKey, logger: SILENT_COMPONENTS, upgrader })
  return { privateKey, peerId, encrypter, muxers }
}

/** Where to dial; with a peer id, Noise must prove the remote is that peer (as libp2p does for a /p2p/ address). */
export interface LeanDialTarget {
  host: string
  port: number
  peerId?: PeerId
}

export interface LeanConnection {
  readonly socket: Socket
  readonly muxer: StreamMuxer
  readonly remotePeer: PeerId
  /** Aborts when the connection closes, from either side, for any reason. */
  readonly closed: AbortSignal
  /** Opens a stream and negotiates `protocol` on it (multistream-select, as libp2p's newStream). */
  openStream: (protocol: string, signal: AbortSignal) => Promise<Stream>
  /** Graceful: yamux GoAway, then the socket's FIN. */
  close: () => Promise<void>
  abort: (err: Error) => void
}

/**
 * Dials host:port and upgrades the socket: multistream-select /noise, the XX
 * handshake (which also agrees on yamux), then the muxer. Streams the remote
 * opens are answered "na" for every protocol, as a libp2p node without a
 * handler does. Throws (and leaves nothing open) if any step fails or
 * `signal` aborts.
 */
export async function dialLean (identity: LeanIdentity, to: LeanDialTarget, signal: AbortSignal): Promise<LeanConnection> {
  const { host, port } = to
  signal.throwIfAborted()
  const socket = connect({ host, port, noDelay: true, keepAlive: true })
  const onAbort = (): void => { socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted')) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const maConn = new SocketConnection(socket, `/ip4/${socket.remoteAddress ?? host}/tcp/${port}`)
    const closed = new AbortController()
    maConn.addEventListener('close', () => { closed.abort() }, { once: true })
    await mss.select(maConn, NOISE_PROTOCOL, { signal })
    const secured = await identity.encrypter.secureOutbound(maConn, { signal, ...(to.peerId !== undefined ? { remotePeer: to.peerId } : {}) })
    let factory = secured.streamMuxer
    if (factory === undefined) {
      // The remote did not take part in early muxer negotiation: choose one the classic way.
      const chosen = await mss.select(secured.connection, [...identity.muxers.keys()], { signal })
      factory = identity.muxers.get(chosen)!
    }
    const muxer = factory.createStreamMuxer(secured.connection)
    muxer.addEventListener('stream', (evt) => { refuseStream(evt.detail) })
    return {
      socket,
      muxer,
      remotePeer: secured.remotePeer,
      closed: closed.signal,
      openStream: async (protocol, streamSignal) => {
        const stream = await muxer.createStream()
        try {
          await mss.select(stream, protocol, { signal: streamSignal })
        } catch (err) {
          stream.abort(err as Error)
          throw err
        }
        return stream
      },
      close: async () => {
        await muxer.close().catch(() => {})
        await maConn.close().catch(() => {})
      },
      abort: (err) => {
        // The muxer says GoAway on its way out, which throws once the transport under it has closed.
        if (!closed.signal.aborted) {
          try {
            muxer.abort(err)
          } catch {}
        }
        maConn.abort(err)
      },
    }
  } catch (err) {
    socket.destroy()
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** A stream the remote opened: answer "na" to every protocol it proposes, then let it go. */
function refuseStream (stream: Stream): void {
  mss.handle(stream, [], { signal: AbortSignal.timeout(REFUSED_STREAM_TIMEOUT_MS) })
    .then(() => { stream.abort(new Error('no protocol agreed')) }, (err: Error) => { stream.abort(err) })
}

/** A remote-opened stream that neither agrees nor closes within this is reset. */
const REFUSED_STREAM_TIMEOUT_MS = 10_000
