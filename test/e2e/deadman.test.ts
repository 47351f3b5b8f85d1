import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startFakeDeadman } from '../support/fakes/deadman.ts'
import { fetchJson, startAggregatorProcess } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

/**
 * Watching the watcher, through the executable: --deadman-url is pinged
 * every --deadman-interval while the aggregator is healthy, and told /fail
 * while it is not. Made unhealthy deterministically: SIGTERM with a long
 * --shutdown-drain turns its readiness (and GET /health) down while it keeps
 * running, which is when nobody should believe it is watching.
 */
test('the dead man\'s switch is pinged every interval while healthy and gets /fail while the aggregator reports unhealthy', async (t) => {
  const uuid = '0b7e0c1a-5d2f-4c3e-9a8b-7f6e5d4c3b2a'
  const hc = await startFakeDeadman({ uuid })
  const aggregator = await startAggregatorProcess({ args: ['--deadman-url', hc.pingUrl, '--deadman-interval', '1s', '--shutdown-drain', '60s'] })
  t.after(async () => { aggregator.process.kill('SIGKILL'); await aggregator.process.exited; await hc.close() })

  await waitFor(() => hc.signals().filter((s) => s === 'success').length >= 3, { timeoutMs: 15_000, what: 'three pings, a second apart' })
  const pings = hc.accepted.filter((r) => r.path === `/${uuid}`)
  const gaps = pings.slice(1).map((p, i) => p.at - pings[i]!.at)
  assert.ok(gaps.every((g) => g >= 900 && g < 5_000), `pings every --deadman-interval (gaps ${gaps.join(', ')} ms)`)
  assert.match(pings[0]!.text, /^healthy: 0 nodes, 0 alerts firing$/)
  assert.equal(hc.signals().includes('fail'), false)
  assert.equal((await fetch(`${aggregator.url}/health`)).status, 200)

  // Readiness and health go down for the drain; the process keeps running.
  aggregator.process.kill('SIGTERM')
  await waitFor(async () => (await fetch(`${aggregator.url}/health`)).status === 503, { what: 'GET /health to report unhealthy' })
  const failed = await waitFor(() => hc.accepted.find((r) => r.path === `/${uuid}/fail`), { timeoutMs: 10_000, what: '/fail at the switch' })
  assert.match(failed.text, /^unhealthy: lifecycle shutting_down: shutting down: draining before the listeners close$/)
  const metrics = await (await fetch(`${aggregator.url}/metrics`)).text()
  assert.match(metrics, /heartbeat_deadman_pings_total\{signal="fail",outcome="ok"\} [1-9]/)
  assert.match(metrics, /heartbeat_deadman_pings_total\{signal="success",outcome="ok"\} [3-9]/)
  const info = JSON.stringify(await fetchJson(`${aggregator.url}/actuator/info`))
  assert.ok(!info.includes(uuid), 'the check\'s uuid is not shown')
  assert.ok(!aggregator.process.stderr.includes(uuid), 'nor logged')
})
