// Sends pre-encoded heartbeat frames as fast as the transport takes them:
// over K libp2p connections (each its own identity) or K plain TCP sockets.
// Protocol with the parent: prints READY when connected, waits for GO on
// stdin, sends, prints DONE, and closes its connections when stdin ends.
import { connect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { encodeFrame, encodeHeartbeat } from '../../shared/codec.ts'
import { HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import { benchHeartbeat } from '../fixtures.ts'

const { mode, target, connections, beats } = JSON.parse(process.argv[2] ?? '{}') as { mode: 'libp2p' | 'tcp', target: string, connections: number, beats: number }
const startedAt = Date.now()
const bodies = Array.from({ length: beats }, (_, seq) => encodeHeartbeat(benchHeartbeat(seq, startedAt)))

const senders: Array<() => Promise<void>> = []
const closers: Array<() => Promise<void>> = []
if (mode === 'libp2p') {
  for (let i = 0; i < connections; i++) {
    const node = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
    const stream = await node.dialProtocol(multiaddr(target), HEARTBEAT_PROTOCOL)
    const lp = lpStream(stream)
    senders.push(async () => { for (const body of bodies) await lp.write(body) })
    closers.push(async () => { await stream.close().catch(() => {}); await node.stop() })
  }
} else {
  const [host, port] = target.split(':')
  const frames = Buffer.concat(Array.from({ length: beats }, (_, seq) => encodeFrame(benchHeartbeat(seq, startedAt))))
  for (let i = 0; i < connections; i++) {
    const socket: Socket = await new Promise((resolve, reject) => {
      const s = connect(Number(port), host, () => { resolve(s) })
      s.on('error', reject)
    })
    senders.push(async () => { await new Promise<void>((resolve) => { socket.write(frames, () => { resolve() }) }) })
    closers.push(async () => { socket.end() })
  }
}
process.stdout.write('READY\n')
const rl = createInterface({ input: process.stdin })
for await (const line of rl) {
  if (line.trim() !== 'GO') continue
  await Promise.all(senders.map(async (send) => { await send() }))
  process.stdout.write('DONE\n')
}
// stdin closed (the parent is done measuring): only now close, so nothing in flight is cut off.
await Promise.all(closers.map(async (close) => { await close() }))
process.exit(0)
