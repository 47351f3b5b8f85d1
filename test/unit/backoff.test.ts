import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Backoff, backoffCeiling, fullJitterDelay, type BackoffPolicy } from '../../agent/backoff.ts'
import { BACKOFF_BASE, BACKOFF_INITIAL_MS } from '../../agent/constants.ts'
import { seededRandom } from '../support/random.ts'

const policy: BackoffPolicy = { initialMs: BACKOFF_INITIAL_MS, base: BACKOFF_BASE, capMs: 10_000 }

describe('backoff ceiling', () => {
  it('starts at 250 ms, doubles per failure, and stops at the reconnect period', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffCeiling(policy, n))
    assert.deepEqual(ceilings, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000])
  })

  it('is zero before any failure', () => {
    assert.equal(backoffCeiling(policy, 0), 0)
  })

  it('stays at the cap after thousands of failures (no overflow to Infinity or NaN)', () => {
    assert.equal(backoffCeiling(policy, 5000), 10_000)
    assert.equal(fullJitterDelay(policy, 5000, () => 0.5), 5000)
  })

  it('uses the cap when the reconnect period is shorter than the initial delay', () => {
    assert.equal(backoffCeiling({ ...policy, capMs: 100 }, 1), 100)
  })
})

describe('full jitter', () => {
  it('draws uniformly below the ceiling: 0 for a draw of 0, half for 0.5, just under the ceiling for ~1', () => {
    assert.equal(fullJitterDelay(policy, 3, () => 0), 0)
    assert.equal(fullJitterDelay(policy, 3, () => 0.5), 500)
    assert.equal(fullJitterDelay(policy, 3, () => 0.9999999), 999)
  })

  it('never leaves [0, ceiling) for any failure count and any draw (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 200 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.integer({ min: 1, max: 600_000 }),
      (failures, draw, capMs) => {
        const p = { ...policy, capMs }
        const delay = fullJitterDelay(p, failures, () => draw)
        const ceiling = backoffCeiling(p, failures)
        return delay >= 0 && delay < Math.max(ceiling, 1) && delay <= capMs
      },
    ))
  })

  it('clamps a misbehaving random source instead of producing a negative or over-cap delay', () => {
    for (const draw of [-1, 1, 7, Number.NaN, Number.POSITIVE_INFINITY]) {
      const delay = fullJitterDelay(policy, 10, () => draw)
      assert.ok(delay >= 0 && delay < 10_000, `draw ${draw} gave ${delay}`)
    }
  })

  it('spreads a crowd over the whole window (what keeps a restart from being a stampede)', () => {
    const random = seededRandom(7)
    const draws = 20_000
    const ceiling = backoffCeiling(policy, 3)
    const buckets = new Array<number>(10).fill(0)
    let sum = 0
    for (let i = 0; i < draws; i++) {
      const d = fullJitterDelay(policy, 3, random)
      sum += d
      buckets[Math.floor((d / ceiling) * 10)]!++
    }
    const mean = sum / draws
    assert.ok(Math.abs(mean - ceiling / 2) < ceiling * 0.02, `mean ${mean} should be about ${ceiling / 2}`)
    for (const [i, count] of buckets.entries()) {
      const share = count / draws
      assert.ok(share > 0.08 && share < 0.12, `bucket ${i} holds ${(share * 100).toFixed(1)}% (expected ~10%)`)
    }
  })
})

describe('Backoff state', () => {
  it('escalates per consecutive failure and schedules the next attempt from the given time', () => {
    const b = new Backoff(policy, () => 0.5)
    assert.equal(b.notBefore, Number.NEGATIVE_INFINITY, 'a fresh target may be tried at once')
    assert.equal(b.onFailure(1000), 125)
    assert.equal(b.notBefore, 1125)
    assert.equal(b.onFailure(2000), 250)
    assert.equal(b.onFailure(3000), 500)
    assert.equal(b.consecutiveFailures, 3)
    assert.equal(b.notBefore, 3500)
  })

  it('starts over from the initial ceiling after a success', () => {
    const b = new Backoff(policy, () => 0.5)
    for (let i = 0; i < 10; i++) b.onFailure(i)
    assert.equal(b.onFailure(100), 5000, 'capped at the reconnect period')
    b.reset()
    assert.equal(b.consecutiveFailures, 0)
    assert.equal(b.notBefore, Number.NEGATIVE_INFINITY)
    assert.equal(b.onFailure(200), 125, 'back to half of 250 ms')
  })

  it('takes a new cap on reload without forgetting how many failures it has seen', () => {
    const b = new Backoff(policy, () => 0.5)
    for (let i = 0; i < 10; i++) b.onFailure(i)
    b.setPolicy({ ...policy, capMs: 2000 })
    assert.equal(b.onFailure(100), 1000)
    assert.equal(b.consecutiveFailures, 11)
  })
})
