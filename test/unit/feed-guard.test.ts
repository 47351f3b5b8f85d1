import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { byteBound, feedClientVerdict, type FeedLimits } from '../../aggregator/http/feed-guard.ts'

const limits: FeedLimits = { maxClients: 10, maxBufferedBytes: 1000, maxBackpressureMs: 10_000 }
const calm = { buffered: 0, backpressureSince: undefined, snapshotBytes: 100 }

describe('feedClientVerdict', () => {
  it('keeps a client that drains', () => {
    assert.equal(feedClientVerdict(calm, 0, limits), 'ok')
    assert.equal(feedClientVerdict({ ...calm, buffered: 1000 }, 0, limits), 'ok')
  })

  it('drops a client when too many bytes wait for it', () => {
    assert.equal(feedClientVerdict({ ...calm, buffered: 1001 }, 0, limits), 'buffer_full')
  })

  it('drops a client whose socket stayed full for the backpressure limit, not before', () => {
    const stuck = { ...calm, backpressureSince: 50_000 }
    assert.equal(feedClientVerdict(stuck, 59_999, limits), 'ok')
    assert.equal(feedClientVerdict(stuck, 60_000, limits), 'stalled')
  })

  it('never drops a client for its own snapshot being large', () => {
    assert.equal(byteBound(100, limits), 1000)
    assert.equal(byteBound(5000, limits), 10_000)
    assert.equal(feedClientVerdict({ ...calm, snapshotBytes: 5000, buffered: 5000 }, 0, limits), 'ok')
    assert.equal(feedClientVerdict({ ...calm, snapshotBytes: 5000, buffered: 10_001 }, 0, limits), 'buffer_full')
  })
})
