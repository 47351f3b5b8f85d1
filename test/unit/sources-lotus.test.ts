import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { lotusReading, lotusSyncComponent, lotusSyncStateSchema, lotusTipSetSchema } from '../../agent/sources/lotus.ts'
import { tipsetKeyString } from '../../agent/sources/tipset-key.ts'

async function cidOf (text: string): Promise<CID> {
  return CID.createV1(0x71, await sha256.digest(new TextEncoder().encode(text)))
}

describe('tipset key string (go-filecoin SortedCidSet.String)', () => {
  it('writes one CID as "{ cid }"', async () => {
    const cid = await cidOf('a')
    assert.equal(tipsetKeyString([cid]), `{ ${cid.toString()} }`)
  })

  it('sorts by the binary form, so any block order gives the same key', async () => {
    const cids = await Promise.all(['a', 'b', 'c', 'd'].map(cidOf))
    const sorted = [...cids].sort((x, y) => Buffer.compare(Buffer.from(x.bytes), Buffer.from(y.bytes)))
    const expected = `{ ${sorted.map((c) => c.toString()).join(' ')} }`
    assert.equal(tipsetKeyString(cids), expected)
    assert.equal(tipsetKeyString([...cids].reverse().map(String)), expected)
  })

  it('refuses a string that is not a CID', () => {
    assert.throws(() => tipsetKeyString(['not-a-cid']), /is not a CID/)
  })
})

describe('Lotus answers', () => {
  it('reads a ChainHead tipset into head, height and details', async () => {
    const [a, b] = await Promise.all([cidOf('block-a'), cidOf('block-b')])
    const head = lotusTipSetSchema.parse({
      Cids: [{ '/': String(b) }, { '/': String(a) }],
      Blocks: [{ Timestamp: 1_700_000_030, Miner: 'f01000' }, { Timestamp: 1_700_000_030 }],
      Height: 3_456_789,
    })
    const reading = lotusReading(head, 'bafy-genesis', undefined)
    assert.equal(reading.head, tipsetKeyString([a, b]))
    assert.equal(reading.height, 3_456_789)
    assert.equal(reading.network, 'bafy-genesis')
    assert.deepEqual(reading.details, { blocks: 2, headTime: new Date(1_700_000_030_000).toISOString() })
    assert.equal(reading.components, undefined)
  })

  it('rejects nonsense tipsets', () => {
    assert.equal(lotusTipSetSchema.safeParse({ Cids: [], Height: 1 }).success, false, 'no CIDs')
    assert.equal(lotusTipSetSchema.safeParse({ Cids: [{ '/': 'xyz' }], Height: 1 }).success, false, 'bad CID')
    assert.equal(lotusTipSetSchema.safeParse({ Cids: [{ '/': 'bafy2bzaced' }], Height: -1 }).success, false, 'negative height')
    assert.equal(lotusTipSetSchema.safeParse({ Cids: ['bafy'], Height: 1 }).success, false, 'CID not a link')
    assert.equal(lotusTipSetSchema.safeParse(null).success, false)
  })

  it('derives the sync component from the sync workers', () => {
    const state = lotusSyncStateSchema.parse({
      ActiveSyncs: [
        { WorkerID: 1, Stage: 4, Height: 100, Target: { Height: 100 }, Base: null },
        { WorkerID: 2, Stage: 3, Height: 50, Target: { Height: 200, Cids: [] } },
      ],
      VMApplied: 0,
    })
    assert.deepEqual(lotusSyncComponent(100, state, 5), {
      status: 'affected', details: { syncing: true, localHeight: 100, targetHeight: 200, behind: 100 },
    })
    // One or two epochs behind is a node following the chain, not a node syncing.
    assert.equal(lotusSyncComponent(198, state, 5).status, 'ready')
    assert.deepEqual(lotusSyncComponent(100, lotusSyncStateSchema.parse({ ActiveSyncs: null }), 5), {
      status: 'ready', details: { syncing: false, localHeight: 100, targetHeight: 100 },
    })
    // Idle, complete and errored workers do not count.
    const idle = lotusSyncStateSchema.parse({ ActiveSyncs: [{ Stage: 5, Height: 0, Target: { Height: 999 } }, { Stage: 0, Height: 0, Target: null }] })
    assert.equal(lotusSyncComponent(10, idle, 5).status, 'ready')
  })
})
