// The @libp2p/tcp patch (patches/@libp2p+tcp+*.patch, see patches/README.md):
// one socket write per send. A heartbeat reaches TCP as a Noise message in two
// parts (2-byte length, ciphertext); unpatched, each part is its own write, a
// syscall and (noDelay is on) a TCP segment, so often a read of its own at the
// aggregator.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { encodeFrame } from '../../shared/codec.ts'
import { benchHeartbeat } from '../../bench/fixtures.ts'

test('a heartbeat sent over js-libp2p (TCP + Noise + Yamux) is one socket write', async (t) => {
  const make = async (listen: string[]): Promise<Libp2p> => await createLibp2p({
    addresses: { listen }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()],
  })
  const listener = await make(['/ip4/127.0.0.1/tcp/0'])
  const dialer = await make([])
  t.after(async () => { await dialer.stop(); await listener.stop() })
  const received = Promise.withResolvers<number>()
  await listener.handle('/test/beat/1.0.0', async (stream) => {
    for await (const chunk of stream) received.resolve(chunk.byteLength)
  })
  const stream = await dialer.dialProtocol(listener.getMultiaddrs()[0]!, '/test/beat/1.0.0')
  const frame = encodeFrame(benchHeartbeat(0, Date.now()))

  // The whole send path (yamux frame, Noise encryption, the TCP write) runs synchronously inside send().
  const write = Socket.prototype.write
  let writes = 0
  Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    writes++
    return write.apply(this, args)
  } as Socket['write']
  try {
    stream.send(frame)
  } finally {
    Socket.prototype.write = write
  }
  assert.equal(await received.promise, frame.byteLength)
  assert.equal(writes, 1, `one heartbeat took ${writes} socket writes (unpatched @libp2p/tcp: one per part of the Noise message)`)
})
