import assert from 'node:assert/strict'
import { test } from 'node:test'
import { systemClock } from '../../shared/clock.ts'
import { ManualClock } from '../support/manual-clock.ts'

test('ManualClock: advance fires timers in due order and moves both clocks', () => {
  const clock = new ManualClock({ wallStart: 1_000_000, monoStart: 0 })
  const fired: string[] = []
  clock.every(100, () => { fired.push(`every@${clock.monotonic()}`) })
  clock.timeout(150, () => { fired.push(`once@${clock.monotonic()}`) })
  clock.advance(250)
  assert.deepEqual(fired, ['every@100', 'once@150', 'every@200'])
  assert.equal(clock.monotonic(), 250)
  assert.equal(clock.wall(), 1_000_250)
  assert.equal(clock.pendingTimers, 1)
})

test('ManualClock: a wall step moves neither monotonic time nor timers', () => {
  const clock = new ManualClock({ wallStart: 1_000_000, monoStart: 0 })
  let runs = 0
  clock.every(1_000, () => { runs++ })
  clock.stepWall(-600_000)
  assert.equal(clock.monotonic(), 0)
  assert.equal(clock.wall(), 400_000)
  clock.advance(999)
  assert.equal(runs, 0)
  clock.advance(1)
  assert.equal(runs, 1)
})

test('ManualClock: cancelled timers never fire; sleep resolves on advance or abort', async () => {
  const clock = new ManualClock()
  let fired = false
  clock.timeout(10, () => { fired = true }).cancel()
  clock.advance(20)
  assert.equal(fired, false)
  let slept = false
  const sleeping = clock.sleep(50).then(() => { slept = true })
  await clock.advanceAsync(49)
  assert.equal(slept, false)
  await clock.advanceAsync(1)
  await sleeping
  assert.equal(slept, true)
  const controller = new AbortController()
  const aborted = clock.sleep(1_000_000, controller.signal)
  controller.abort()
  await aborted
  assert.equal(clock.pendingTimers, 0)
})

test('systemClock: monotonic is performance.now, wall is Date.now, timers fire and cancel', async () => {
  const before = performance.now()
  assert.ok(systemClock.monotonic() >= before)
  assert.ok(Math.abs(systemClock.wall() - Date.now()) < 50)
  await new Promise<void>((resolve) => { systemClock.timeout(1, resolve) })
  let fired = false
  systemClock.timeout(1, () => { fired = true }).cancel()
  await systemClock.sleep(5)
  assert.equal(fired, false)
})
