import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BeatRateLimiter, LruMap, PenaltyBox, TokenBucket } from '../../aggregator/ingest/rate-limit.ts'

describe('TokenBucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const bucket = new TokenBucket(2, 3, 0)
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, true, false])
    assert.equal(bucket.take(499), false, 'half a second gives not quite one token at 2/s')
    assert.equal(bucket.take(500), true)
    assert.equal(bucket.take(500), false)
    // Quiet for a long time: refills up to the burst, no more.
    assert.equal(bucket.available(100_000), 3)
  })

  it('never refills when the clock steps back', () => {
    const bucket = new TokenBucket(1, 1, 10_000)
    assert.equal(bucket.take(10_000), true)
    assert.equal(bucket.take(5_000), false)
    assert.equal(bucket.take(10_500), false, 'the step back did not reset the refill base')
    assert.equal(bucket.take(11_000), true)
  })

  it('refuses nonsense parameters', () => {
    assert.throws(() => new TokenBucket(0, 1, 0), RangeError)
    assert.throws(() => new TokenBucket(1, 0, 0), RangeError)
  })
})

describe('LruMap', () => {
  it('forgets the least recently used entry when full', () => {
    const map = new LruMap<string, number>(2)
    map.set('a', 1)
    map.set('b', 2)
    assert.equal(map.get('a'), 1) // a is now the most recent
    map.set('c', 3)
    assert.equal(map.has('b'), false)
    assert.equal(map.get('a'), 1)
    assert.equal(map.get('c'), 3)
    assert.equal(map.size, 2)
  })
})

describe('BeatRateLimiter', () => {
  const limits = { ratePerSecond: 1, burst: 2, floodDrops: 3, floodWindowMs: 10_000, maxTrackedPeers: 100 }

  it('accepts within the budget and drops the excess, per peer', () => {
    const limiter = new BeatRateLimiter(limits)
    assert.deepEqual(['a', 'a', 'a', 'b'].map((p) => limiter.check(p, 0)), ['accept', 'accept', 'drop', 'accept'])
    assert.equal(limiter.check('a', 1000), 'accept', 'one token back after a second')
  })

  it('reports a flooder once when drops pile up within the window', () => {
    const limiter = new BeatRateLimiter(limits)
    const decisions = Array.from({ length: 8 }, () => limiter.check('f', 0))
    assert.deepEqual(decisions, ['accept', 'accept', 'drop', 'drop', 'flood', 'drop', 'drop', 'flood'])
  })

  it('does not call a peer a flooder when its drops are spread over windows', () => {
    const limiter = new BeatRateLimiter({ ...limits, ratePerSecond: 0.001, burst: 1 })
    limiter.check('p', 0)
    const decisions = [limiter.check('p', 1), limiter.check('p', 2), limiter.check('p', 20_000), limiter.check('p', 20_001), limiter.check('p', 40_000)]
    assert.ok(!decisions.includes('flood'), decisions.join(','))
  })

  it('tracks a bounded number of peers', () => {
    const limiter = new BeatRateLimiter({ ...limits, maxTrackedPeers: 10 })
    for (let i = 0; i < 1000; i++) limiter.check(`peer-${i}`, i)
    assert.equal(limiter.size, 10)
  })
})

describe('PenaltyBox', () => {
  it('holds a peer for the duration, then lets it go', () => {
    const box = new PenaltyBox({ durationMs: 1000, capacity: 10 })
    assert.equal(box.add('p', 5000), 6000)
    assert.equal(box.isPenalized('p', 5999), true)
    assert.equal(box.isPenalized('other', 5999), false)
    assert.deepEqual(box.list(5500), [{ peerId: 'p', until: 6000 }])
    assert.equal(box.isPenalized('p', 6000), false)
    assert.equal(box.size, 0, 'served penalties are forgotten')
  })

  it('is bounded: when full the penalty that ends first is released', () => {
    const box = new PenaltyBox({ durationMs: 1000, capacity: 3 })
    for (let i = 0; i < 5; i++) box.add(`p${i}`, i)
    assert.equal(box.size, 3)
    // Reads do not change which one goes next.
    assert.equal(box.isPenalized('p2', 10), true)
    box.add('p5', 10)
    assert.equal(box.isPenalized('p2', 11), false)
    assert.equal(box.isPenalized('p3', 11), true)
  })
})
