import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CheckRunner } from '../../agent/checks/runner.ts'
import type { Probe, RunnableCheck } from '../../agent/checks/types.ts'
import { ErrorCodes } from '../../shared/errors.ts'
import { createLogger } from '../../shared/log.ts'
import { ManualClock } from '../support/manual-clock.ts'

function check (name: string, probe: Probe, overrides: Partial<RunnableCheck> = {}): RunnableCheck {
  return { name, description: `test ${name}`, level: 'core', timeoutMs: 300, slowMs: 100, intervalMs: 100, probe, ...overrides }
}

const never: Probe = async () => await new Promise(() => {})
const ready: Probe = async () => ({ status: 'ready' })

function capturingLogger (): { logger: ReturnType<typeof createLogger>, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({ name: 'test', level: 'debug', destination: { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } } })
  return { logger, lines }
}

describe('CheckRunner', () => {
  it('runs checks concurrently: a hanging one only delays itself, by exactly its timeout', async () => {
    const clock = new ManualClock()
    const runner = new CheckRunner([check('fast', ready), check('hang', never, { timeoutMs: 300 })], { clock })
    let started = false
    const starting = runner.start().then(() => { started = true })
    try {
      await clock.advanceAsync(0)
      assert.equal(runner.components().fast?.status, 'ready', 'the fast check has its result at once')
      await clock.advanceAsync(299)
      assert.equal(started, false, 'the first round waits for the hanging check...')
      await clock.advanceAsync(1)
      await starting
      assert.equal(started, true, '...until its timeout, not longer')
      const components = runner.components()
      assert.equal(components.hang?.status, 'not_ready')
      const details = components.hang?.details as Record<string, unknown>
      assert.equal(details.code, ErrorCodes.TIMEOUT)
      assert.match(String(details.error), /no answer within 300 ms/)
    } finally {
      await runner.stop()
    }
  })

  it('reads components without waiting, whatever the checks are doing', async () => {
    const runner = new CheckRunner([check('hang', never, { timeoutMs: 5_000 })])
    void runner.start()
    const t0 = performance.now()
    const components = runner.components()
    assert.ok(performance.now() - t0 < 50)
    assert.deepEqual(components.hang, { status: 'not_ready', details: { error: 'not checked yet' } })
    await runner.stop()
  })

  it('runs each check on its own interval and keeps the latest result', async () => {
    const clock = new ManualClock()
    let calls = 0
    const runner = new CheckRunner([check('counter', async () => ({ status: 'ready', details: { call: ++calls } }), { intervalMs: 100 })], { clock })
    await runner.start()
    assert.equal(calls, 1, 'the first run at start')
    await clock.advanceAsync(550)
    assert.equal(calls, 6, 'one run per 100 ms: at 0, 100, 200, 300, 400 and 500 ms')
    // The wall clock steps back 10 minutes, then forward 10 minutes: the schedule does not notice.
    clock.stepWall(-600_000)
    await clock.advanceAsync(100)
    clock.stepWall(+600_000)
    await clock.advanceAsync(100)
    assert.equal(calls, 8, 'still one run per 100 ms across wall clock steps')
    await runner.stop()
    assert.equal((runner.components().counter?.details as { call: number }).call, calls, 'the latest result is the one reported')
  })

  it('an auxiliary failure makes its component affected, not not_ready', async () => {
    const runner = new CheckRunner([check('aux', async () => { throw new Error('refused') }, { level: 'auxiliary' })])
    await runner.start()
    await runner.stop()
    assert.equal(runner.components().aux?.status, 'affected')
    assert.equal((runner.components().aux?.details as Record<string, unknown>).error, 'refused')
  })

  it('stop() ends a check in the middle of a hanging run', async () => {
    const clock = new ManualClock()
    const runner = new CheckRunner([check('hang', never, { timeoutMs: 60_000 })], { clock })
    void runner.start()
    await clock.advanceAsync(10)
    await runner.stop() // no time passes: stop does not wait for the deadline
    assert.equal(clock.pendingTimers, 0, 'no timer left behind')
  })

  it('logs status changes and slowness once, not every run', async () => {
    const { logger, lines } = capturingLogger()
    let mode: 'slow' | 'fail' | 'ok' = 'slow'
    const clock = new ManualClock()
    const probe: Probe = async () => {
      if (mode === 'fail') throw new Error('down')
      if (mode === 'slow') await clock.sleep(600)
      return { status: 'ready' }
    }
    const runner = new CheckRunner([check('svc', probe, { intervalMs: 20, slowMs: 300, timeoutMs: 2_000 })], { logger, clock })
    const starting = runner.start()
    await clock.advanceAsync(600)
    await starting
    assert.ok(lines.some((l) => String(l.msg).startsWith('check svc is slow: 600 ms')))
    await clock.advanceAsync(2 * 600) // two more slow runs (each starts when the last ended: a 600 ms run outlasts the interval)
    mode = 'fail'
    await clock.advanceAsync(600)
    assert.equal(runner.components().svc?.status, 'not_ready')
    await clock.advanceAsync(20 * 3) // more failed runs
    mode = 'ok'
    await clock.advanceAsync(20)
    assert.equal(runner.components().svc?.status, 'ready')
    await runner.stop()
    const msgs = lines.map((l) => String(l.msg))
    assert.equal(msgs.filter((m) => m.startsWith('check svc is slow')).length, 1, `one slow warning for several slow runs: ${msgs.join(' | ')}`)
    assert.equal(msgs.filter((m) => m === 'check svc is not_ready').length, 1, 'one warning for several failed runs')
    assert.equal(msgs.filter((m) => m === 'check svc is ready').length, 2, 'ready at start (debug) and on recovery (info)')
    assert.equal(lines.find((l) => l.msg === 'check svc is not_ready')?.level, 'warn')
  })
})
