import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { chipsThatFit, errorText, rowReason, summarizeComponents } from '../../aggregator/web/src/components.ts'
import { formatTick, formatUptime } from '../../aggregator/web/src/format.ts'
import { parseNodeHistory, StatusTimeline } from '../../aggregator/web/src/history.ts'
import type { PageNode } from '../../aggregator/web/src/types.ts'

function node (components: Record<string, { status: string, details?: unknown }>, reason = ''): PageNode {
  return { peerId: 'p', nickname: 'n', reason, health: { status: 'ready', components } } as unknown as PageNode
}

describe('components in a row', () => {
  it('puts the failing ones first, worst first, and counts the ready ones', () => {
    const summary = summarizeComponents(node({
      zeta: { status: 'ready' },
      disk: { status: 'affected' },
      chain: { status: 'not_ready', details: { error: 'connection refused' } },
      alpha: { status: 'panicked', details: { message: 'boom' } },
      beta: { status: 'ready' },
    }))
    assert.deepEqual(summary.failing.map((c) => `${c.name}:${c.status}:${c.error ?? ''}`), ['alpha:panicked:boom', 'chain:not_ready:connection refused', 'disk:affected:'])
    assert.deepEqual(summary.ready, ['beta', 'zeta'])
  })

  it('adds the first error text to the reason: the why at a glance', () => {
    const n = node({ chain: { status: 'not_ready', details: { error: 'connection refused' } } }, 'reports not_ready')
    assert.equal(rowReason(n, summarizeComponents(n)), 'reports not_ready · chain: connection refused')
    const stranger = node({ chain: { status: 'not_ready' } }, 'reports not_ready')
    assert.equal(rowReason(stranger, summarizeComponents(stranger)), 'reports not_ready')
    assert.equal(errorText({ error: '  ' }), undefined)
    assert.equal(errorText('text'), undefined)
  })

  it('fits whole chips in the lines there are, keeping room for "+N more" or the ready count', () => {
    const more = { more: () => 60, ready: 50 }
    // Two lines of 200 px: 120 + 70 on the first, 150 on the second, the ready chip does not fit beside it.
    assert.equal(chipsThatFit([120, 70, 150], more, 200, 2, 4), 2)
    assert.equal(chipsThatFit([120, 70, 100], more, 200, 2, 4), 3)
    assert.equal(chipsThatFit([80, 80], { more: () => 60, ready: 0 }, 200, 1, 4), 2)
    assert.equal(chipsThatFit([80, 80, 80], more, 200, 1, 4), 1, 'one chip and "+2 more"')
    assert.equal(chipsThatFit([500], more, 200, 1, 4), 1, 'the worst is always named, even cut')
    assert.equal(chipsThatFit([], more, 200, 1, 4), 0)
  })
})

describe('detail view helpers', () => {
  it('formats uptime and axis ticks readably', () => {
    assert.equal(formatUptime(1), '100%')
    assert.equal(formatUptime(0.99954), '99.95%')
    assert.equal(formatUptime(0.5), '50.0%')
    assert.equal(formatUptime(null), '—')
    const t = new Date(2025, 0, 5, 14, 5, 30).getTime() / 1000
    assert.equal(formatTick(t, 10), '14:05:30')
    assert.equal(formatTick(t, 300), '14:05')
    assert.equal(formatTick(t, 86_400), 'Jan 5')
    assert.equal(formatTick(new Date(2025, 0, 6).getTime() / 1000, 3_600), 'Jan 6', 'midnight says the date')
  })

  it('merges history pages and live changes into one timeline, each change once', () => {
    const first = parseNodeHistory({
      statuses: [{ at: '2025-01-31T12:00:00.000Z', from: 'healthy', to: 'down', reason: 'gone' }],
      statusesTruncated: false,
      statusAtSince: { status: 'healthy', reason: '', since: '2025-01-30T08:00:00.000Z' },
      uptime: { hour: 0.5, day: 0.9, week: null },
      heights: [{ at: '2025-01-31T11:00:00.000Z', height: 10 }],
    })
    assert.deepEqual(first.uptime, { hour: 0.5, day: 0.9, week: null })
    assert.equal(first.heights.length, 1)
    const timeline = new StatusTimeline()
    timeline.addFirstPage(first)
    assert.equal(timeline.size, 2)
    assert.equal(timeline.hasOlder, true, 'something was in force before the window: there may be more')
    assert.equal(timeline.oldest, Date.parse('2025-01-30T08:00:00.000Z'))
    // The same change seen live adds nothing.
    assert.equal(timeline.add([{ at: Date.parse('2025-01-31T12:00:00.000Z'), from: 'healthy', to: 'down', reason: 'gone' }]), 0)
    // An older page repeats the oldest (now with its `from`) and adds one more; not truncated: the start of the record.
    timeline.addOlderPage(parseNodeHistory({
      statuses: [
        { at: '2025-01-29T08:00:00.000Z', from: null, to: 'degraded', reason: 'lagging' },
        { at: '2025-01-30T08:00:00.000Z', from: 'degraded', to: 'healthy', reason: '' },
      ],
      statusesTruncated: false,
    }))
    assert.equal(timeline.hasOlder, false)
    assert.deepEqual(timeline.newestFirst().map((c) => `${c.to}<${String(c.from)}`), ['down<healthy', 'healthy<degraded', 'degraded<null'])
  })
})
