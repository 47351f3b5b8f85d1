// The aggregator host's cheaper handshake (aggregator/ingest/host.ts): Node's native crypto for Noise
// (shared/noise-crypto.ts), the identity key's repeated signature answered from memory (handshake-key.ts) and
// no per-connection loggers. Whatever it saves, it must stay the same protocol: agents with libp2p's defaults
// connect, are who they say they are, and exchange data, handshake after handshake.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { Uint8ArrayList } from 'uint8arraylist'
import { createAggregatorHost } from '../../aggregator/ingest/host.ts'

const ECHO = '/test/echo/1.0.0'

test('agents on libp2p\'s default Noise crypto handshake with the aggregator host again and again', async (t) => {
  const host = await createAggregatorHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  t.after(async () => { await host.stop() })
  const seen: string[] = []
  await host.handle(ECHO, async (stream, connection) => {
    seen.push(connection.remotePeer.toString())
    for await (const chunk of stream) stream.send(chunk)
    await stream.close()
  })
  for (let i = 0; i < 3; i++) {
    const agent = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionMonitor: { enabled: false } })
    try {
      // A /p2p/ address: the agent checks that the aggregator proved this peer id in the handshake.
      const stream = await agent.dialProtocol(host.getMultiaddrs()[0]!, ECHO, { signal: AbortSignal.timeout(10_000) })
      const reply = new Promise<string>((resolve) => {
        stream.addEventListener('message', (e) => { resolve(Buffer.from((e as unknown as { data: Uint8ArrayList }).data.subarray()).toString()) }, { once: true })
      })
      stream.send(new TextEncoder().encode(`hello ${i}`))
      assert.equal(await reply, `hello ${i}`)
      assert.equal(seen.at(-1), agent.peerId.toString(), 'the aggregator knows who the agent is')
    } finally {
      await agent.stop()
    }
  }
})
