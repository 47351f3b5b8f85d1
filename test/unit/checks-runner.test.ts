import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CheckRunner } from '../../agent/checks/runner.ts'
import type { Probe, RunnableCheck } from '../../agent/checks/types.ts'
import { ErrorCodes } from '../../shared/errors.ts'
import { createLogger } from '../../shared/log.ts'
import { waitFor } from '../support/wait.ts'

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
  it('runs checks concurrently: a hanging one only delays itself, by its timeout', async () => {
    const runner = new CheckRunner([check('fast', ready), check('hang', never, { timeoutMs: 300 })])
    const started = Date.now()
    await runner.start()
    const took = Date.now() - started
    try {
      assert.ok(took >= 250 && took < 2_000, `the first round ends at the hanging check's timeout (${took} ms)`)
      const components = runner.components()
      assert.equal(components.fast?.status, 'ready')
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
    let calls = 0
    const runner = new CheckRunner([check('counter', async () => ({ status: 'ready', details: { call: ++calls } }), { intervalMs: 100 })])
    await runner.start()
    await new Promise((resolve) => setTimeout(resolve, 550))
    await runner.stop()
    assert.ok(calls >= 3 && calls <= 8, `about one run per 100 ms (${calls} runs in 550 ms)`)
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
    const runner = new CheckRunner([check('hang', never, { timeoutMs: 60_000 })])
    void runner.start()
    const t0 = Date.now()
    await runner.stop()
    assert.ok(Date.now() - t0 < 1_000)
  })

  it('logs status changes and slowness once, not every run', async () => {
    const { logger, lines } = capturingLogger()
    let mode: 'slow' | 'fail' | 'ok' = 'slow'
    const probe: Probe = async () => {
      if (mode === 'fail') throw new Error('down')
      if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 600))
      return { status: 'ready' }
    }
    const runner = new CheckRunner([check('svc', probe, { intervalMs: 20, slowMs: 300, timeoutMs: 2_000 })], { logger })
    await runner.start()
    await waitFor(() => lines.some((l) => String(l.msg).startsWith('check svc is slow')), { what: 'slow log' })
    await new Promise((resolve) => setTimeout(resolve, 1_300)) // two more slow runs
    mode = 'fail'
    await waitFor(() => runner.components().svc?.status === 'not_ready', { what: 'failure' })
    await new Promise((resolve) => setTimeout(resolve, 200))
    mode = 'ok'
    await waitFor(() => runner.components().svc?.status === 'ready', { what: 'recovery' })
    await runner.stop()
    const msgs = lines.map((l) => String(l.msg))
    assert.equal(msgs.filter((m) => m.startsWith('check svc is slow')).length, 1, `one slow warning for several slow runs: ${msgs.join(' | ')}`)
    assert.equal(msgs.filter((m) => m === 'check svc is not_ready').length, 1, 'one warning for several failed runs')
    assert.equal(msgs.filter((m) => m === 'check svc is ready').length, 2, 'ready at start (debug) and on recovery (info)')
    assert.equal(lines.find((l) => l.msg === 'check svc is not_ready')?.level, 'warn')
  })
})
