import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_DIAL_TIMEOUT_MS } from '../../agent/constants.ts'
import { AGENT_DIAL_TIMEOUT_MS, HANDSHAKE_WAIT_BUDGET_MS } from '../../aggregator/constants.ts'
import { HandshakeAdmission } from '../../aggregator/ingest/handshake-admission.ts'

const options = { waitBudgetMs: 2_500, minInFlight: 4, maxInFlight: 50, rateWindowMs: 1_000 }

describe('handshake admission', () => {
  it('admits the floor before anything completed, then refuses', () => {
    const a = new HandshakeAdmission(options)
    assert.deepEqual(Array.from({ length: 5 }, () => a.tryBegin(0)), [true, true, true, true, false])
    assert.equal(a.underWay, 4)
    assert.equal(a.snapshot(0).refused, 1)
  })

  it('admits what completes within the budget at the measured rate (Little\'s law), up to the cap', () => {
    const a = new HandshakeAdmission(options)
    // 8 completions in the last second: 8/s x 2.5 s = 20 may be under way.
    for (let i = 0; i < 8; i++) {
      assert.ok(a.tryBegin(i * 100))
      a.complete(i * 100)
    }
    assert.equal(a.limit(800), 20)
    let admitted = 0
    while (a.tryBegin(800)) admitted++
    assert.equal(admitted, 20)
    // A fast host: 100 completions a second would allow 250, the cap says 50.
    const fast = new HandshakeAdmission(options)
    for (let i = 0; i < 100; i++) { fast.tryBegin(i * 5); fast.complete(i * 5) }
    assert.equal(fast.limit(500), 50)
  })

  it('forgets completions older than the window', () => {
    const a = new HandshakeAdmission(options)
    for (let i = 0; i < 8; i++) { a.tryBegin(0); a.complete(0) }
    assert.equal(a.limit(0), 20)
    assert.equal(a.limit(999), 20)
    assert.equal(a.limit(1_000), 4, 'a window later nothing counts: the floor')
    // A bucket reused a full turn later starts from zero.
    a.tryBegin(8_000); a.complete(8_000)
    assert.equal(a.snapshot(8_000).completedPerSecond, 1)
  })

  it('frees a slot for each end, abandoned or completed; an end without a beginning counts for nothing', () => {
    const a = new HandshakeAdmission({ ...options, minInFlight: 1, maxInFlight: 1 })
    assert.ok(a.tryBegin(0))
    assert.equal(a.tryBegin(0), false)
    a.abandon()
    assert.ok(a.tryBegin(0))
    a.complete(0)
    a.abandon()
    assert.equal(a.underWay, 0)
    assert.deepEqual({ ...a.snapshot(0), completedPerSecond: 0 }, { admitted: 2, completed: 1, abandoned: 1, refused: 1, underWay: 0, limit: 1, completedPerSecond: 0 })
  })

  it('refuses nonsense bounds', () => {
    assert.throws(() => new HandshakeAdmission({ ...options, minInFlight: 0 }), RangeError)
    assert.throws(() => new HandshakeAdmission({ ...options, maxInFlight: 3 }), RangeError)
  })

  it('sizes the budget from the agents\' dial timeout', () => {
    assert.equal(AGENT_DIAL_TIMEOUT_MS, DEFAULT_DIAL_TIMEOUT_MS, 'aggregator/constants.ts mirrors agent/constants.ts')
    assert.ok(HANDSHAKE_WAIT_BUDGET_MS <= DEFAULT_DIAL_TIMEOUT_MS / 2)
  })
})
