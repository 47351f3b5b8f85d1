import { test } from 'node:test'
import assert from 'node:assert/strict'
import { aggregateHealth, HEALTH_STATUSES, httpStatusFor, isHealthy, worstStatus } from '../../shared/health.ts'

test('worst wins in the order ready < affected < shutting_down < shut_down < not_ready < panicked', () => {
  const order = ['ready', 'affected', 'shutting_down', 'shut_down', 'not_ready', 'panicked'] as const
  for (let i = 0; i < order.length; i++) {
    for (let j = 0; j < order.length; j++) {
      assert.equal(worstStatus([order[i]!, order[j]!]), order[Math.max(i, j)])
    }
  }
  assert.deepEqual([...HEALTH_STATUSES], [...order])
})

test('an app with no components is ready; app status is its worst component', () => {
  assert.equal(aggregateHealth({}).status, 'ready')
  const app = aggregateHealth({ db: { status: 'ready' }, cache: { status: 'affected', details: { slow: true } } })
  assert.equal(app.status, 'affected')
  assert.equal(aggregateHealth({ a: { status: 'affected' }, b: { status: 'panicked' }, c: { status: 'not_ready' } }).status, 'panicked')
})

test('healthy is ready or affected; HTTP 200 for healthy, 503 otherwise', () => {
  assert.deepEqual(HEALTH_STATUSES.filter(isHealthy), ['ready', 'affected'])
  assert.equal(httpStatusFor('ready'), 200)
  assert.equal(httpStatusFor('affected'), 200)
  for (const s of ['shutting_down', 'shut_down', 'not_ready', 'panicked'] as const) assert.equal(httpStatusFor(s), 503)
})
