import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isUp, uptimeRatio, uptimeWindows } from '../../aggregator/store/uptime.ts'
import { NODE_STATUSES } from '../../aggregator/fleet/types.ts'

const H = 3_600_000
const always = [{ start: 0, end: 100 * H }]

test('up means healthy or degraded; every other status is down', () => {
  assert.deepEqual(NODE_STATUSES.filter(isUp), ['healthy', 'degraded'])
})

test('a node healthy the whole window is up 100%, and one stale the whole window 0%', () => {
  assert.equal(uptimeRatio({ from: 10 * H, to: 11 * H, initial: 'healthy', changes: [], observed: always }), 1)
  assert.equal(uptimeRatio({ from: 10 * H, to: 11 * H, initial: 'stale', changes: [], observed: always }), 0)
})

test('changes split the window: 15 minutes down out of 60 is 75%', () => {
  const ratio = uptimeRatio({
    from: 0,
    to: H,
    initial: 'healthy',
    changes: [{ at: H / 4, status: 'down' }, { at: H / 2, status: 'degraded' }],
    observed: always,
  })
  assert.equal(ratio, 0.75)
})

test('time before the node was first seen counts neither way', () => {
  // Seen for the last 10 minutes of the hour, healthy for 5 of them.
  const ratio = uptimeRatio({
    from: 0,
    to: 60,
    initial: undefined,
    changes: [{ at: 50, status: 'healthy' }, { at: 55, status: 'unhealthy' }],
    observed: always,
  })
  assert.equal(ratio, 0.5)
})

test('time the aggregator was not running counts neither way', () => {
  // Healthy all along per the log, but the aggregator watched only [0,20) and [40,60); stale from 50.
  const ratio = uptimeRatio({
    from: 0,
    to: 60,
    initial: 'healthy',
    changes: [{ at: 50, status: 'stale' }],
    observed: [{ start: 0, end: 20 }, { start: 40, end: 60 }],
  })
  assert.equal(ratio, 30 / 40)
})

test('changes before the window only set the starting status; changes after it are ignored', () => {
  const ratio = uptimeRatio({
    from: 100,
    to: 200,
    initial: 'healthy',
    changes: [{ at: 50, status: 'down' }, { at: 150, status: 'healthy' }, { at: 250, status: 'down' }],
    observed: always,
  })
  assert.equal(ratio, 0.5)
})

test('never watched in the window: null, not a made-up number', () => {
  assert.equal(uptimeRatio({ from: 0, to: 60, initial: undefined, changes: [], observed: always }), null)
  assert.equal(uptimeRatio({ from: 0, to: 60, initial: 'healthy', changes: [], observed: [{ start: 70, end: 80 }] }), null)
})

test('hour, day and week windows each start from the status in force at their own start', () => {
  const now = 30 * 24 * H
  // Down for a day, two days ago; healthy otherwise; a 30-minute outage ending now.
  const changes = [
    { at: now - 3 * 24 * H, status: 'down' as const },
    { at: now - 2 * 24 * H, status: 'healthy' as const },
    { at: now - H / 2, status: 'stale' as const },
  ]
  const uptime = uptimeWindows({ now, before: 'healthy', changes, observed: [{ start: 0, end: now }] })
  assert.equal(uptime.hour, 0.5)
  assert.equal(uptime.day, Math.round((1 - 0.5 / 24) * 10_000) / 10_000)
  assert.equal(uptime.week, Math.round((1 - (24 + 0.5) / (7 * 24)) * 10_000) / 10_000)
})
