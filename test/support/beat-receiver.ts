import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { createLibp2p } from 'libp2p'
import { decodeFrameBody } from '../../shared/codec.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'

/**
 * The smallest aggregator: a libp2p host that accepts heartbeat streams and
 * records every frame as it arrives (no fleet, no clock of its own), so a
 * test can wait for the n-th beat of an agent whose clock it drives.
 */
export class BeatReceiver {
  readonly beats: Heartbeat[] = []
  readonly streams: Stream[] = []
  readonly host: Libp2p
  private waiters: Array<{ count: number, resolve: () => void }> = []
  private constructor (host: Libp2p) {
    this.host = host
  }

  /** `privateKey` and `port` let a test bring "the same aggregator" back where an agent expects it. */
  static async start (options: { privateKey?: PrivateKey, port?: number } = {}): Promise<BeatReceiver> {
    const host = await createLibp2p({
      ...(options.privateKey !== undefined ? { privateKey: options.privateKey } : {}),
      addresses: { listen: [`/ip4/127.0.0.1/tcp/${options.port ?? 0}`] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    })
    const receiver = new BeatReceiver(host)
    await host.handle(HEARTBEAT_PROTOCOL, (stream) => { void receiver.read(stream) })
    return receiver
  }

  get multiaddr (): string {
    return (this.host.getMultiaddrs()[0] as { toString: () => string }).toString()
  }

  /** Resolves once `count` beats have arrived in all (at once if they already have). */
  async waitForBeats (count: number, timeoutMs = 10_000): Promise<Heartbeat[]> {
    if (this.beats.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`timed out waiting for beat ${count} (have ${this.beats.length})`)) }, timeoutMs)
        this.waiters.push({ count, resolve: () => { clearTimeout(timer); resolve() } })
      })
    }
    return this.beats.slice(0, count)
  }

  async stop (): Promise<void> {
    await this.host.stop()
  }

  private async read (stream: Stream): Promise<void> {
    this.streams.push(stream)
    const lp = lpStream(stream, { maxDataLength: 64 * 1024 })
    try {
      for (;;) {
        const body = await lp.read()
        this.beats.push(decodeFrameBody(body.subarray()) as Heartbeat)
        this.waiters = this.waiters.filter((w) => {
          if (this.beats.length >= w.count) { w.resolve(); return false }
          return true
        })
      }
    } catch {
      // The stream ended: the agent left or the test closed it.
    }
  }
}
