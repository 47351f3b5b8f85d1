import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EscalatingFailureLog } from '../../agent/failure-log.ts'

test('first failure warns, later ones debug, an error once per error period, success resets', () => {
  const log = new EscalatingFailureLog(10_000)
  const walk: Array<[number, 'fail' | 'ok', string | undefined, number | undefined]> = [
    [0, 'fail', 'warn', 0],
    [1_000, 'fail', 'debug', 1_000],
    [9_999, 'fail', 'debug', 9_999],
    [10_000, 'fail', 'error', 10_000],
    [15_000, 'fail', 'debug', 15_000],
    [19_999, 'fail', 'debug', 19_999],
    [20_000, 'fail', 'error', 20_000],
    [21_000, 'ok', undefined, undefined],
    [22_000, 'fail', 'warn', 0],
    [23_000, 'fail', 'debug', 1_000],
    [32_000, 'fail', 'error', 10_000],
  ]
  for (const [now, what, level, failingFor] of walk) {
    if (what === 'ok') {
      log.onSuccess()
      assert.equal(log.failing, false)
      continue
    }
    const decision = log.onFailure(now)
    assert.equal(decision.level, level, `at ${now}`)
    assert.equal(decision.failingForMs, failingFor, `at ${now}`)
    assert.equal(log.failing, true)
  }
})
