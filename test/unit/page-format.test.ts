import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { reconnectDelay, type BackoffPolicy } from '../../aggregator/web/src/backoff.ts'
import { formatAgo, formatCount, formatDetails, formatSpan, formatValue, shortHead, shortPeerId } from '../../aggregator/web/src/format.ts'
import { parseHeightHistory } from '../../aggregator/web/src/history.ts'
import { healthStatusLook, NODE_STATUS_LOOK, nodeStatusLook, STATUSES_BY_RANK } from '../../aggregator/web/src/status.ts'

describe('page formatting', () => {
  it('formats spans compactly', () => {
    assert.equal(formatSpan(0), '0s')
    assert.equal(formatSpan(999), '0s')
    assert.equal(formatSpan(42_000), '42s')
    assert.equal(formatSpan(185_000), '3m 05s')
    assert.equal(formatSpan(2 * 3600_000 + 4 * 60_000), '2h 04m')
    assert.equal(formatSpan(3 * 86_400_000 + 4 * 3600_000), '3d 4h')
    assert.equal(formatSpan(-5_000), '0s', 'clock noise never shows a negative time')
    assert.equal(formatSpan(Number.NaN), '—')
  })

  it('says "just now" under a second, then "... ago"', () => {
    assert.equal(formatAgo(200), 'just now')
    assert.equal(formatAgo(-300), 'just now')
    assert.equal(formatAgo(3_400), '3s ago')
    assert.equal(formatAgo(Number.NaN), '—')
  })

  it('shortens peer ids to their distinctive end and heads to both ends', () => {
    assert.equal(shortPeerId('12D3KooWCDt3DEgbFPYijeTsBKHRR29kDzq3fxcsWXTvSy2VApWW'), '…Sy2VApWW')
    assert.equal(shortPeerId('short'), 'short')
    assert.equal(shortHead('{bafyreicyow32vikqsikievt4k7vojvbprhidgz43lgsix3lnqhybjcbiby}'), 'bafy…ybjcbiby')
    assert.equal(shortHead('{short}'), 'short')
    assert.equal(shortHead(''), '')
  })

  it('formats counts and arbitrary values as text', () => {
    assert.equal(formatCount(1234567), '1,234,567')
    assert.equal(formatCount(undefined), '—')
    assert.equal(formatValue(''), '(empty)')
    assert.equal(formatValue(true), 'yes')
    assert.equal(formatValue(null), '—')
    assert.equal(formatValue({ a: 1 }), '{"a":1}')
    assert.equal(formatValue('<b>x</b>'), '<b>x</b>', 'text stays text')
    assert.equal(formatDetails(undefined), '')
    assert.equal(formatDetails({ behind: 3 }), '{\n  "behind": 3\n}')
    assert.equal(formatDetails('plain'), 'plain')
  })
})

describe('page status looks', () => {
  it('gives every status a word and a glyph, problems first', () => {
    for (const look of Object.values(NODE_STATUS_LOOK)) {
      assert.ok(look.label.length > 0 && look.glyph.length > 0)
    }
    assert.deepEqual(STATUSES_BY_RANK, ['unhealthy', 'down', 'stale', 'degraded', 'stopped', 'healthy'])
    assert.equal(new Set(Object.values(NODE_STATUS_LOOK).map((l) => l.glyph)).size, STATUSES_BY_RANK.length, 'glyphs tell statuses apart without colour')
  })

  it('shows an unknown status by its own name', () => {
    assert.equal(nodeStatusLook('exploded').label, 'exploded')
    assert.equal(nodeStatusLook('__proto__').label, '__proto__')
    assert.equal(healthStatusLook('not_ready').label, 'not ready')
    assert.equal(healthStatusLook('toString').label, 'toString')
  })
})

describe('reconnect backoff', () => {
  const policy: BackoffPolicy = { initialMs: 500, base: 2, capMs: 30_000, jitter: { kind: 'around', share: 0.2 } }

  it('doubles from the minimum up to the cap', () => {
    const middle = (): number => 0.5
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 20, 1000].map((a) => reconnectDelay(a, middle, policy)), [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000])
  })

  it('spreads attempts by the jitter, within bounds', () => {
    assert.equal(reconnectDelay(3, () => 0, policy), 3200)
    assert.equal(reconnectDelay(3, () => 0.999999, policy), 4800)
    assert.equal(reconnectDelay(10, () => 0.999999, policy), 30_000, 'never above the cap')
    assert.equal(reconnectDelay(0, () => 0, policy), 400, 'never below the minimum less its jitter')
  })
})

describe('height history from the API', () => {
  it('reads the plain shapes and skips what it cannot read', () => {
    assert.deepEqual(parseHeightHistory([{ at: '2026-01-01T00:00:00.000Z', height: 5 }]), [{ time: Date.parse('2026-01-01T00:00:00.000Z'), height: 5 }])
    assert.deepEqual(parseHeightHistory({ heights: [{ t: 1000, height: 1 }, { time: 2000, height: 2 }] }), [{ time: 1000, height: 1 }, { time: 2000, height: 2 }])
    assert.deepEqual(parseHeightHistory({ samples: [{ timestamp: 3, height: 3 }, { at: 'nope', height: 4 }, { at: 5 }, null, 'x'] }), [{ time: 3, height: 3 }])
    assert.deepEqual(parseHeightHistory({ error: { code: 'ERR_NOT_FOUND' } }), [])
    assert.deepEqual(parseHeightHistory(null), [])
  })
})
