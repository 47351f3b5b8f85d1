// The libp2p patch (patches/libp2p+*.patch, see patches/README.md): listing all
// connections appends in place instead of concat()-ing the whole list once per
// peer, which made every inbound connection cost O(N^2) at N connections (the
// maxConnections check and the pruner both list them): at 6,000 agents, 46% of
// the aggregator's CPU during a ramp.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { dialLean, leanIdentity, type LeanConnection } from '../support/lean-connection.ts'
import { waitFor } from '../support/wait.ts'

test('getConnections() lists every connection without concatenating per peer', async (t) => {
  const listener = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()],
  })
  const conns: LeanConnection[] = []
  t.after(async () => {
    for (const c of conns) c.abort(new Error('test over'))
    await listener.stop()
  })
  const port = Number(listener.getMultiaddrs()[0]!.toString().split('/')[4])
  const dialers: string[] = []
  for (let i = 0; i < 3; i++) {
    const identity = leanIdentity(await generateKeyPair('Ed25519'))
    dialers.push(identity.peerId.toString())
    conns.push(await dialLean(identity, { host: '127.0.0.1', port }, AbortSignal.timeout(10_000)))
  }
  await waitFor(() => listener.getConnections().length === 3, { timeoutMs: 10_000, intervalMs: 10 })

  const concat = Array.prototype.concat
  let concatCalls = 0
  Array.prototype.concat = function (this: unknown[], ...args: unknown[]) {
    concatCalls++
    return concat.apply(this, args)
  }
  let listed
  try {
    listed = listener.getConnections()
  } finally {
    Array.prototype.concat = concat
  }
  assert.equal(listed.length, 3)
  assert.deepEqual(new Set(listed.map((c) => c.remotePeer.toString())), new Set(dialers))
  assert.equal(concatCalls, 0, 'getConnections() concatenated the list once per peer (unpatched libp2p)')
})
