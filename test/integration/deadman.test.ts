import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_DEADMAN_INTERVAL_MS } from '../../aggregator/alerts/constants.ts'
import { DeadmanSwitch, deadmanUrl } from '../../aggregator/alerts/deadman.ts'
import { captureLogger } from '../support/agents.ts'
import { startFakeDeadman } from '../support/fakes/deadman.ts'
import { ManualClock } from '../support/manual-clock.ts'
import { refusedPort } from '../support/servers.ts'
import { waitFor } from '../support/wait.ts'

test('the dead man\'s switch: a ping at start and every interval (default 1m), /fail as soon as health turns, back to pings when it recovers', async (t) => {
  const clock = new ManualClock()
  const hc = await startFakeDeadman({ uuid: '5f2c8a1e-0000-4000-8000-000000000001' })
  let healthy = true
  const { logger, lines } = captureLogger('aggregator')
  const deadman = new DeadmanSwitch({
    url: hc.pingUrl,
    intervalMs: DEFAULT_DEADMAN_INTERVAL_MS,
    health: () => healthy ? { healthy: true, summary: '3 nodes, 0 alerts firing' } : { healthy: false, summary: 'lifecycle shutting_down: draining' },
    clock,
    logger,
  })
  t.after(async () => { await deadman.stop(); await hc.close() })
  deadman.start()
  await deadman.idle()
  assert.deepEqual(hc.signals(), ['success'])
  assert.equal(hc.requests[0]!.method, 'POST')
  assert.equal(hc.requests[0]!.text, 'healthy: 3 nodes, 0 alerts firing', 'the body says why (Healthchecks keeps it)')

  // Polled every 5 s, pinged once a minute.
  for (let s = 0; s < 55; s += 5) { await clock.advanceAsync(5_000); await deadman.idle() }
  assert.deepEqual(hc.signals(), ['success'], 'not before the interval')
  await clock.advanceAsync(5_000)
  await deadman.idle()
  assert.deepEqual(hc.signals(), ['success', 'success'], 'a minute after the first')

  healthy = false
  await clock.advanceAsync(5_000)
  await deadman.idle()
  assert.deepEqual(hc.signals(), ['success', 'success', 'fail'], '/fail within one poll of the change')
  assert.equal(hc.requests.at(-1)!.path, '/5f2c8a1e-0000-4000-8000-000000000001/fail')
  assert.equal(hc.requests.at(-1)!.text, 'unhealthy: lifecycle shutting_down: draining')
  assert.ok(lines.some((l) => l.msg === 'told the dead man\'s switch that the aggregator is unhealthy'))
  await clock.advanceAsync(60_000)
  await deadman.idle()
  assert.deepEqual(hc.signals().slice(3), ['fail'], 'still failing: /fail again each interval')

  healthy = true
  await clock.advanceAsync(5_000)
  await deadman.idle()
  assert.equal(hc.signals().at(-1), 'success')
  assert.deepEqual(deadman.stats().pings, { success: { ok: 3, error: 0 }, fail: { ok: 2, error: 0 } })
  assert.ok(!lines.some((l) => JSON.stringify(l).includes('5f2c8a1e')), 'the check\'s uuid is never logged')
})

test('a switch that cannot be reached is counted and logged at a bounded rate, never thrown at anyone', async (t) => {
  const clock = new ManualClock()
  const port = await refusedPort()
  const { logger, lines } = captureLogger('aggregator')
  const deadman = new DeadmanSwitch({ url: `http://127.0.0.1:${port}/ping/abc`, intervalMs: 60_000, health: () => ({ healthy: true, summary: 'ok' }), clock, logger })
  t.after(async () => { await deadman.stop() })
  deadman.start()
  await deadman.idle()
  for (let i = 0; i < 30; i++) { await clock.advanceAsync(60_000); await deadman.idle() }
  await waitFor(() => deadman.stats().pings.success.error === 31, { what: 'every failed ping counted' })
  const warned = lines.filter((l) => l.msg === 'cannot reach the dead man\'s switch')
  assert.equal(warned.length, 4, '31 failures over 30 minutes: one line per 10 minutes')
  assert.ok((warned[1]!.suppressed as number) > 0, 'says how many were left out')
  assert.match(String(warned[0]!.err), /ECONNREFUSED/)
})

test('the fail URL is the ping URL plus /fail, query kept', () => {
  assert.equal(deadmanUrl('https://hc-ping.com/abc', 'fail'), 'https://hc-ping.com/abc/fail')
  assert.equal(deadmanUrl('https://hc-ping.com/abc/', 'fail'), 'https://hc-ping.com/abc/fail')
  assert.equal(deadmanUrl('https://hc.example/ping/key/slug?create=1', 'fail'), 'https://hc.example/ping/key/slug/fail?create=1')
  assert.equal(deadmanUrl('https://hc-ping.com/abc', 'success'), 'https://hc-ping.com/abc')
})
