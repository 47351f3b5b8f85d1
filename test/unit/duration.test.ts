import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatDuration, parseDuration, parsePositiveDuration } from '../../shared/duration.ts'
import { ErrorCodes, UsageError } from '../../shared/errors.ts'

test('parses Go durations to milliseconds', () => {
  assert.equal(parseDuration('3s'), 3000)
  assert.equal(parseDuration('1m30s'), 90_000)
  assert.equal(parseDuration('250ms'), 250)
  assert.equal(parseDuration('1.5h'), 5_400_000)
  assert.equal(parseDuration('1h2m3s4ms'), 3_723_004)
  assert.equal(parseDuration('500us'), 0.5)
  assert.equal(parseDuration('0'), 0)
  assert.equal(parseDuration('.5s'), 500)
})

test('refuses anything that is not a Go duration, with a clear typed error', () => {
  for (const bad of ['', '3', 's', '3x', '3 s', '-1s', '1d', '1m30', 'ten seconds', '3s ms']) {
    assert.throws(() => parseDuration(bad, '--beat-period'), (err: unknown) => {
      assert.ok(err instanceof UsageError)
      assert.equal(err.code, ErrorCodes.INVALID_DURATION)
      assert.match(err.message, /--beat-period/)
      return true
    }, `"${bad}" should be refused`)
  }
})

test('positive durations refuse zero', () => {
  assert.throws(() => parsePositiveDuration('0s', '--reconnect-period'), /greater than zero/)
  assert.equal(parsePositiveDuration('10s'), 10_000)
})

test('formats like Go prints durations, and round-trips', () => {
  assert.equal(formatDuration(0), '0s')
  assert.equal(formatDuration(250), '250ms')
  assert.equal(formatDuration(3000), '3s')
  assert.equal(formatDuration(90_000), '1m30s')
  assert.equal(formatDuration(3_723_000), '1h2m3s')
  for (const ms of [1000, 61_000, 3_600_000, 4_000_500]) assert.equal(parseDuration(formatDuration(ms)), ms)
})
