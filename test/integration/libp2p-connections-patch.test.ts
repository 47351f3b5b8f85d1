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

// The same patch: the connection manager keeps its count of connections as they open and close, so an inbound
// connection (the maxConnections check) and every connection:open (the pruner) no longer list them all to count
// them: at 10,000 agents that listing cost ~130 µs of every handshake of a reconnect storm.
test('inbound connections are counted, not listed, and maxConnections still holds', async (t) => {
  const listener = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 3 },
  })
  const conns: LeanConnection[] = []
  t.after(async () => {
    for (const c of conns) c.abort(new Error('test over'))
    await listener.stop()
  })
  const manager = (listener as unknown as { components: { connectionManager: { getConnections: (peer?: unknown) => unknown[], getConnectionsCount?: () => number } } }).components.connectionManager
  const list = manager.getConnections.bind(manager)
  let fullListings = 0
  manager.getConnections = (peer?: unknown) => {
    if (peer === undefined) fullListings++
    return list(peer)
  }
  const port = Number(listener.getMultiaddrs()[0]!.toString().split('/')[4])
  const dial = async (): Promise<LeanConnection> => await dialLean(leanIdentity(await generateKeyPair('Ed25519')), { host: '127.0.0.1', port }, AbortSignal.timeout(10_000))
  for (let i = 0; i < 3; i++) conns.push(await dial())
  await waitFor(() => list().length === 3, { timeoutMs: 10_000, intervalMs: 10 })
  assert.equal(fullListings, 0, 'admitting a connection listed every connection to count them (unpatched libp2p)')
  assert.equal(manager.getConnectionsCount?.(), 3)

  // A fourth is over maxConnections: refused at accept (the remote closes it during the handshake).
  await assert.rejects(dial())
  assert.equal(manager.getConnectionsCount?.(), 3)

  // A closed connection leaves the count.
  conns.shift()!.abort(new Error('gone'))
  await waitFor(() => list().length === 2, { timeoutMs: 10_000, intervalMs: 10 })
  assert.equal(manager.getConnectionsCount?.(), 2)
  conns.push(await dial())
  await waitFor(() => manager.getConnectionsCount?.() === 3, { timeoutMs: 10_000, intervalMs: 10 })
  assert.equal(list().length, 3)
})
