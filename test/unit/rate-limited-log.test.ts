import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RateLimitedLog } from '../../shared/rate-limited-log.ts'

describe('RateLimitedLog', () => {
  it('lets `limit` lines through per window and reports how many it skipped', () => {
    const log = new RateLimitedLog({ limit: 2, windowMs: 1000 })
    assert.deepEqual(log.admit(0), { log: true, suppressed: 0 })
    assert.deepEqual(log.admit(1), { log: true, suppressed: 0 })
    assert.equal(log.admit(2).log, false)
    assert.equal(log.admit(999).log, false)
    assert.equal(log.pending, 2)
    assert.deepEqual(log.admit(1000), { log: true, suppressed: 2 })
    assert.equal(log.pending, 0)
  })

  it('writes a bounded number of lines under a flood', () => {
    const log = new RateLimitedLog({ limit: 10, windowMs: 60_000 })
    let written = 0
    let reported = 0
    for (let t = 0; t < 120_000; t += 1) {
      const a = log.admit(t)
      if (a.log) { written++; reported += a.suppressed }
    }
    assert.equal(written, 20)
    assert.equal(reported + log.pending + written, 120_000, 'every event is either written, reported as skipped, or pending')
  })

  it('refuses nonsense options', () => {
    assert.throws(() => new RateLimitedLog({ limit: 0, windowMs: 1 }), RangeError)
    assert.throws(() => new RateLimitedLog({ limit: 1, windowMs: 0 }), RangeError)
  })
})
