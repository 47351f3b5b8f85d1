// The yamux flow-control patch (patches/@chainsafe+libp2p-yamux+*.patch, see
// patches/README.md): a receiver grants more window only once half of it is
// used, as go-yamux and rust-yamux do, instead of answering every data frame
// with a WINDOW_UPDATE. Without the patch the first test sees one update per
// beat; the others check that flow control still works past the window.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { encodeFrame } from '../../shared/codec.ts'
import { HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import { benchHeartbeat } from '../../bench/fixtures.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { dialLean, leanIdentity, type LeanConnection } from '../support/lean-connection.ts'
import { waitFor } from '../support/wait.ts'

/** A WINDOW_UPDATE on the wire: a 12-byte yamux header in one Noise message (2-byte length + 16-byte tag). */
const WINDOW_UPDATE_WIRE_BYTES = 12 + 2 + 16
/** The spec's initial stream window (js-yamux refuses a smaller one). */
const INITIAL_WINDOW = 256 * 1024

/** Bytes the remote has sent us once everything it wrote before answering a yamux ping has arrived. */
async function bytesReadAfterPing (conn: LeanConnection): Promise<number> {
  // The pong is written after every frame received before the ping was handled, so whatever the
  // remote wrote in answer to those frames (window updates) is already in our socket when it resolves.
  await (conn.muxer as unknown as { ping: () => Promise<number> }).ping()
  return conn.socket.bytesRead
}

test('the aggregator sends no WINDOW_UPDATE per beat: 200 heartbeats cost at most a handful of frames back', async (t) => {
  const aggregator = await startTestAggregator({ limits: { beatRatePerSecond: 1e6, beatBurst: 1e6 } })
  t.after(async () => { await aggregator.stop() })
  const [host, port] = hostPort(aggregator.multiaddrs()[0]!)
  const conn = await dialLean(leanIdentity(await generateKeyPair('Ed25519')), { host, port }, AbortSignal.timeout(10_000))
  t.after(async () => { await conn.close() })
  const stream = await conn.openStream(HEARTBEAT_PROTOCOL, AbortSignal.timeout(10_000))

  const beats = 200
  const frames = Array.from({ length: beats }, (_, seq) => encodeFrame(benchHeartbeat(seq, Date.now())))
  const totalBytes = frames.reduce((sum, f) => sum + f.byteLength, 0)
  assert.ok(totalBytes < INITIAL_WINDOW / 2, 'the beats fit in half a window: no update is due')
  // The first beat makes the aggregator ACK the stream; from then on nothing is owed.
  stream.send(frames[0]!)
  await waitFor(() => aggregator.inspect().ingest.accepted === 1, { timeoutMs: 5_000, intervalMs: 5 })
  const before = await bytesReadAfterPing(conn)
  for (const frame of frames.slice(1)) {
    // One data frame per beat, each in its own event-loop turn, as beats arrive in production.
    stream.send(frame)
    await new Promise((resolve) => setImmediate(resolve))
  }
  await waitFor(() => aggregator.inspect().ingest.accepted === beats, { timeoutMs: 10_000, intervalMs: 5 })
  const after = await bytesReadAfterPing(conn)
  // What came back, minus the pong itself (a yamux keep-alive ping from the aggregator may add one more frame).
  const framesBack = (after - before - WINDOW_UPDATE_WIRE_BYTES) / WINDOW_UPDATE_WIRE_BYTES
  assert.ok(framesBack <= 2, `the aggregator wrote ${framesBack} frames back for ${beats - 1} beats (unpatched js-yamux: one WINDOW_UPDATE each)`)
})

/** Two js-libp2p nodes (both with the patched yamux): a sink that hashes what it reads. */
async function sinkPair (t: { after: (fn: () => Promise<void>) => void }, onStream: (stream: Stream) => Promise<void>): Promise<{ dialer: Libp2p, listener: Libp2p }> {
  const make = async (listen: string[]): Promise<Libp2p> => await createLibp2p({
    addresses: { listen }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()],
  })
  const listener = await make(['/ip4/127.0.0.1/tcp/0'])
  const dialer = await make([])
  t.after(async () => { await dialer.stop(); await listener.stop() })
  await listener.handle('/test/sink/1.0.0', async (stream) => { await onStream(stream) })
  return { dialer, listener }
}

async function writeAll (stream: Stream, chunks: Uint8Array[], signal: AbortSignal): Promise<void> {
  for (const chunk of chunks) {
    if (!stream.send(chunk)) await stream.onDrain({ signal })
  }
  await stream.close({ signal })
}

test('flow control past the window: 4 MiB in 64 KiB writes arrives whole, the sender never stalls', async (t) => {
  const payload = randomBytes(4 * 1024 * 1024)
  const received = Promise.withResolvers<{ bytes: number, digest: string }>()
  const { dialer, listener } = await sinkPair(t, async (stream) => {
    const hash = createHash('sha256')
    let bytes = 0
    for await (const chunk of stream) {
      const data = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      hash.update(data)
      bytes += data.byteLength
    }
    received.resolve({ bytes, digest: hash.digest('hex') })
    await stream.close()
  })
  const stream = await dialer.dialProtocol(listener.getMultiaddrs()[0]!, '/test/sink/1.0.0')
  const chunks: Uint8Array[] = []
  for (let i = 0; i < payload.length; i += 64 * 1024) chunks.push(payload.subarray(i, i + 64 * 1024))
  // A stall (a window never re-granted) shows as this signal firing, not as a hang.
  await writeAll(stream, chunks, AbortSignal.timeout(20_000))
  const got = await received.promise
  assert.equal(got.bytes, payload.length)
  assert.equal(got.digest, createHash('sha256').update(payload).digest('hex'))
})

test('flow control with a paused reader: the sender stops at the window, resumes when credit comes, nothing lost', async (t) => {
  const payload = randomBytes(1024 * 1024)
  const opened = Promise.withResolvers<Stream>()
  const received = Promise.withResolvers<Buffer>()
  const { dialer, listener } = await sinkPair(t, async (stream) => {
    // Paused: data is buffered and no window update is sent, so the sender must run out of credit.
    stream.pause()
    const parts: Buffer[] = []
    stream.addEventListener('message', (evt) => { parts.push(Buffer.from(evt.data.subarray())) })
    stream.addEventListener('remoteCloseWrite', () => { received.resolve(Buffer.concat(parts)) })
    opened.resolve(stream)
    await received.promise
    await stream.close()
  })
  const stream = await dialer.dialProtocol(listener.getMultiaddrs()[0]!, '/test/sink/1.0.0')
  const chunks: Uint8Array[] = []
  for (let i = 0; i < payload.length; i += 16 * 1024) chunks.push(payload.subarray(i, i + 16 * 1024))
  const writing = writeAll(stream, chunks, AbortSignal.timeout(20_000))
  const remote = await opened.promise
  await waitFor(() => remote.readBufferLength >= INITIAL_WINDOW, { timeoutMs: 10_000, intervalMs: 5 })
  assert.equal(remote.readBufferLength, INITIAL_WINDOW, 'the sender stopped at the window')
  remote.resume()
  await writing
  assert.ok((await received.promise).equals(payload))
})

function hostPort (addr: string): [string, number] {
  const parts = addr.split('/')
  return [parts[2]!, Number(parts[4])]
}
