import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ChainMonitor } from '../../agent/chain-monitor.ts'
import { EthSource } from '../../agent/sources/eth.ts'
import { ErrorCodes } from '../../shared/errors.ts'
import { startDevNode, type DevNode } from '../support/ganache.ts'

describe('eth source against a real Ethereum dev node (Ganache)', () => {
  let node: DevNode
  before(async () => { node = await startDevNode() })
  after(async () => { await node.close() })

  it("reads the node's real head and height, and follows new blocks", async () => {
    const source = new EthSource({ url: node.url })
    const signal = AbortSignal.timeout(5_000)
    const first = await source.read({ signal })
    const genesis = await node.latest()
    assert.equal(first.height, genesis.number)
    assert.equal(first.head, genesis.hash)
    assert.equal(first.network, `eip155:1337/${genesis.hash}`, 'chain id and genesis hash')
    assert.deepEqual(first.components?.sync, { status: 'ready', details: { syncing: false, localHeight: genesis.number } })
    assert.equal(first.details?.chainId, 1337)
    assert.equal(first.details?.peers, 0)

    await node.mine(3)
    const later = await source.read({ signal })
    const latest = await node.latest()
    assert.equal(later.height, genesis.number + 3)
    assert.equal(later.head, latest.hash)
    assert.notEqual(later.head, first.head)
    assert.equal(later.network, first.network, 'the network does not move with the head')
  })

  it('turns chain_source not_ready when the node stops, keeping the last head as old', async () => {
    const own = await startDevNode()
    const monitor = new ChainMonitor(new EthSource({ url: own.url }), { timeoutMs: 2_000 })
    await own.mine(2)
    await monitor.poll()
    assert.equal(monitor.snapshot().component.status, 'ready')
    const head = monitor.snapshot().reading?.head
    assert.equal(monitor.snapshot().reading?.height, 2)

    await own.close()
    await monitor.poll()
    const snap = monitor.snapshot()
    assert.equal(snap.component.status, 'not_ready')
    const details = snap.component.details as Record<string, unknown>
    assert.match(String(details.error), /cannot reach http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/)
    assert.equal(details.code, ErrorCodes.SOURCE_FAILED)
    assert.equal(typeof details.headAgeMs, 'number')
    assert.equal(snap.reading?.head, head)
    assert.equal(snap.reading?.height, 2)
  })
})
