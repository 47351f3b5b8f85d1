import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { IngestRejectWindow } from '../../aggregator/health/ingest-window.ts'

const options = { windowMs: 60_000, affectedRatio: 0.5, minAttempts: 20, minSampleSpacingMs: 1_000 }

describe('IngestRejectWindow', () => {
  it('walks ready -> affected -> ready as rejections come and age out of the window', () => {
    const w = new IngestRejectWindow(options)
    let t = 0
    const totals = { accepted: 0, rejected: 0 }
    const step = (ms: number, accepted: number, rejected: number): string => {
      t += ms
      totals.accepted += accepted
      totals.rejected += rejected
      w.sample(t, totals)
      return w.evaluate(t, totals).status
    }
    assert.equal(step(0, 0, 0), 'ready')
    // Good traffic.
    assert.equal(step(5_000, 100, 0), 'ready')
    // A burst of bad streams: 60 of 160 -> 37.5 %, under the threshold.
    assert.equal(step(5_000, 0, 60), 'ready')
    // More: 120 of 220 -> 54.5 % within the window.
    assert.equal(step(5_000, 0, 60), 'affected')
    const details = w.evaluate(t, totals).details as Record<string, unknown>
    assert.equal(details.rejected, 120)
    assert.equal(details.accepted, 100)
    assert.equal(details.rejectRatio, 0.545)
    assert.match(String(details.error), /rejected 120 of 220/)
    // Good traffic only, sampled every 5 s: after a full window the burst has aged out.
    for (let i = 0; i < 10; i++) step(5_000, 10, 0)
    assert.equal(t, 65_000)
    assert.equal(w.evaluate(t, totals).status, 'affected', 'both bursts are still inside the window')
    // At 70 s the first burst (at 10 s) is a full window old: 60 of 170 left.
    assert.equal(step(5_000, 10, 0), 'ready')
    assert.equal((w.evaluate(t, totals).details as Record<string, unknown>).rejected, 60)
    step(5_000, 10, 0)
    const after = w.evaluate(t, totals)
    assert.equal(after.status, 'ready')
    assert.equal((after.details as Record<string, unknown>).rejected, 0)
  })

  it('a few bad frames prove nothing: below the minimum attempts it stays ready', () => {
    const w = new IngestRejectWindow(options)
    w.sample(0, { accepted: 0, rejected: 0 })
    assert.equal(w.evaluate(1_000, { accepted: 0, rejected: 19 }).status, 'ready')
    assert.equal(w.evaluate(2_000, { accepted: 0, rejected: 20 }).status, 'affected')
  })

  it('keeps a bounded number of samples however often it is asked', () => {
    const w = new IngestRejectWindow(options)
    for (let t = 0; t < 10 * 60_000; t += 10) w.evaluate(t, { accepted: t, rejected: 0 })
    assert.ok(w.size <= 62, `kept ${w.size} samples`)
  })

  it('reports the span actually covered when sampled sparsely', () => {
    const w = new IngestRejectWindow(options)
    w.sample(0, { accepted: 0, rejected: 0 })
    const health = w.evaluate(90_000, { accepted: 10, rejected: 30 })
    assert.equal((health.details as Record<string, unknown>).window, '1m30s')
    assert.equal(health.status, 'affected')
  })
})
