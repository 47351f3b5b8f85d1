import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ethBlockSchema, ethNetwork, ethReading, ethSyncComponent, ethSyncingSchema, quantity } from '../../agent/sources/eth.ts'

const HASH = '0x' + 'ab'.repeat(32)
const GENESIS = '0x' + 'CD'.repeat(32)

describe('Ethereum answers', () => {
  it('parses hex quantities strictly', () => {
    assert.equal(quantity.parse('0x0'), 0)
    assert.equal(quantity.parse('0x1b4'), 436)
    assert.equal(quantity.parse('0x1FFFFFFFFFFFFF'), Number.MAX_SAFE_INTEGER)
    for (const bad of ['1b4', '0x', '0xzz', 436, '0x20000000000000', null]) {
      assert.equal(quantity.safeParse(bad).success, false, `refuses ${String(bad)}`)
    }
  })

  it('reads a block into head, height and network', () => {
    const block = ethBlockSchema.parse({ hash: HASH, number: '0x10', timestamp: '0x6553f100', parentHash: '0x00', transactions: [] })
    const reading = ethReading(block, false, { chainId: 1337, genesisHash: GENESIS }, 3)
    assert.equal(reading.head, HASH)
    assert.equal(reading.height, 16)
    assert.equal(reading.network, `eip155:1337/${GENESIS.toLowerCase()}`)
    assert.deepEqual(reading.details, { chainId: 1337, peers: 3, headTime: new Date(0x6553f100 * 1000).toISOString() })
    assert.deepEqual(reading.components, { sync: { status: 'ready', details: { syncing: false, localHeight: 16 } } })
    assert.equal(ethReading(block, false, { chainId: 1, genesisHash: GENESIS }, undefined).details?.peers, undefined)
  })

  it('refuses blocks that are not blocks', () => {
    assert.equal(ethBlockSchema.safeParse({ hash: '0x1234', number: '0x1' }).success, false)
    assert.equal(ethBlockSchema.safeParse({ hash: HASH }).success, false)
    assert.equal(ethBlockSchema.safeParse('latest').success, false)
  })

  it('makes sync affected with local and target heights while the node syncs', () => {
    const block = ethBlockSchema.parse({ hash: HASH, number: '0x64' })
    const syncing = ethSyncingSchema.parse({ startingBlock: '0x0', currentBlock: '0x64', highestBlock: '0x3e8', knownStates: '0x0' })
    assert.deepEqual(ethSyncComponent(block, syncing), {
      status: 'affected', details: { syncing: true, localHeight: 100, targetHeight: 1000, behind: 900 },
    })
    assert.equal(ethSyncingSchema.safeParse(true).success, false, 'true is not a sync state')
    assert.equal(ethSyncingSchema.safeParse({ currentBlock: '0x1' }).success, false)
  })

  it('names the network by chain id and genesis hash', () => {
    assert.equal(ethNetwork(1, '0xD4E5'), 'eip155:1/0xd4e5')
  })
})
