import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Agent } from '../../agent/agent.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import { defaultAlertingConfig } from '../../aggregator/alerts/config.ts'
import { EVALUATE_EVERY_MS } from '../../aggregator/alerts/constants.ts'
import { webhookReceiver } from '../../aggregator/alerts/receivers/webhook.ts'
import { STATUS_TICK_MS } from '../../aggregator/constants.ts'
import { createLogger } from '../../shared/log.ts'
import { parseTarget } from '../../shared/target.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { ManualClock } from '../support/manual-clock.ts'
import { fetchJson } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'
import { startWebhookSink } from '../support/webhook-sink.ts'

const quiet = createLogger({ name: 'test', level: 'silent' })
const TOKEN = 'a-long-enough-admin-token-0123456789'
const PEER = '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc'

async function call (url: string, method: string, body?: unknown, token?: string): Promise<{ status: number, body: any, headers: Headers }> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token !== undefined) headers.authorization = token
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000) })
  return { status: res.status, body: await res.json(), headers: res.headers }
}

test('admin API: a bearer token guards maintenance; bad requests are 400 naming what is wrong', async (t) => {
  const aggregator = await startTestAggregator({ adminToken: TOKEN })
  const off = await startTestAggregator()
  t.after(async () => { await aggregator.stop(); await off.stop() })
  const url = `${aggregator.url}/api/v1/maintenance`

  const anonymous = await call(url, 'POST', { fleet: true, duration: '10m' })
  assert.equal(anonymous.status, 401)
  assert.equal(anonymous.body.error.code, 'ERR_UNAUTHORIZED')
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/)
  assert.equal((await call(url, 'POST', { fleet: true, duration: '10m' }, `Bearer ${TOKEN}x`)).status, 401)
  assert.equal((await call(url, 'POST', { fleet: true, duration: '10m' }, TOKEN)).status, 401, 'the scheme is required')
  assert.equal((await call(url, 'DELETE', { fleet: true })).status, 401)
  const disabled = await call(`${off.url}/api/v1/maintenance`, 'POST', { fleet: true, duration: '10m' }, `Bearer ${TOKEN}`)
  assert.equal(disabled.status, 403)
  assert.match(disabled.body.error.message, /--admin-token-file/)

  const auth = `bearer ${TOKEN}`
  const bad: Array<[unknown, RegExp]> = [
    [{ duration: '10m' }, /either peerId .* or fleet/],
    [{ fleet: true, peerId: PEER, duration: '10m' }, /either peerId .* or fleet/],
    [{ peerId: 'not-a-peer', duration: '10m' }, /invalid peerId "not-a-peer"/],
    [{ fleet: true, duration: 'ten minutes' }, /invalid duration "ten minutes"/],
    [{ fleet: true, duration: '0s' }, /more than 0s/],
    [{ fleet: true, duration: '1000h' }, /at most 720h0m0s/],
    [{ fleet: true }, /duration: /],
    [{ fleet: true, duration: '1m', colour: 'red' }, /Unrecognized key: "colour"/],
  ]
  for (const [body, message] of bad) {
    const r = await call(url, 'POST', body, auth)
    assert.equal(r.status, 400, JSON.stringify(body))
    assert.equal(r.body.error.code, 'ERR_INVALID_ARGUMENT')
    assert.match(r.body.error.message, message)
  }
  assert.deepEqual((await fetchJson(url)).nodes, [], 'nothing changed')

  const before = Date.now()
  const started = await call(url, 'POST', { peerId: PEER, duration: '30m', reason: 'disk swap' }, auth)
  assert.equal(started.status, 201)
  assert.equal(started.body.peerId, PEER)
  assert.equal(started.body.reason, 'disk swap')
  assert.equal(started.body.source, 'admin')
  const until = Date.parse(started.body.until)
  assert.ok(until >= before + 30 * 60_000 && until <= Date.now() + 30 * 60_000)
  assert.equal((await call(url, 'POST', { fleet: true, duration: '5m', reason: 'upgrade' }, auth)).status, 201)

  const listed = await fetchJson(url)
  assert.equal(listed.fleet.reason, 'upgrade')
  assert.deepEqual(listed.nodes.map((n: any) => [n.peerId, n.reason]), [[PEER, 'disk swap']])
  assert.equal((await fetchJson(`${aggregator.url}/api/v1/alerts`)).maintenance.fleet.reason, 'upgrade')
  assert.equal((await fetchJson(`${aggregator.url}/api/v1/fleet`)).maintenance.fleet.reason, 'upgrade')

  assert.deepEqual((await call(url, 'DELETE', { peerId: PEER }, auth)).body, { ended: true })
  assert.deepEqual((await call(`${url}?fleet=true`, 'DELETE', undefined, auth)).body, { ended: true })
  assert.deepEqual((await call(`${url}?fleet=true`, 'DELETE', undefined, auth)).body, { ended: false })
  const after = await fetchJson(url)
  assert.equal(after.fleet, null)
  assert.deepEqual(after.nodes, [])
})

test('an agent in maintenance: shown on the node, and its alerts are held back from the receivers', async (t) => {
  const sink = await startWebhookSink()
  const config = defaultAlertingConfig(200)
  config.rules = config.rules.filter((r) => r.name === 'NodeDown')
  config.receivers.push(webhookReceiver.configure({ url: sink.url, headers: {} }))
  // The aggregator's time moves only when the test says: the evaluations below are counted, not waited for.
  const clock = new ManualClock({ wallStart: Date.now() })
  const aggregator = await startTestAggregator({ alerting: config, adminToken: TOKEN, clock })
  const agent = await Agent.create({
    services: [{ name: 'alerts', targets: [{ target: parseTarget(aggregator.multiaddrs()[0]!), weight: 100 }], beatPeriodMs: 200, reconnectPeriodMs: 60_000 }],
    source: new DemoChainSource({ blockTimeMs: 300 }),
    nickname: 'alpha',
    maintenance: { until: Date.now() + 60_000, reason: 'kernel upgrade' },
    logger: quiet,
  })
  await agent.start()
  t.after(async () => { await agent.stop(); await aggregator.stop(); await sink.close() })

  const node = await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/fleet`)).nodes[0], { what: 'the node' })
  assert.equal(node.maintenance.source, 'agent')
  assert.equal(node.maintenance.reason, 'kernel upgrade')
  assert.ok(Math.abs(Date.parse(node.maintenance.until) - (Date.now() + 60_000)) < 5_000)

  // The node vanishes without a goodbye (its host stops): down, the alert fires, silenced.
  await agent.libp2p.stop()
  const silenced = await waitFor(async () => {
    // A status tick of aggregator time per look: the disconnect settles, the node goes down, the rule's `for` passes.
    await clock.advanceAsync(STATUS_TICK_MS)
    return (await fetchJson(`${aggregator.url}/api/v1/alerts`)).alerts.find((a: any) => a.name === 'NodeDown' && a.state === 'firing')
  }, { timeoutMs: 10_000, what: 'NodeDown to fire' })
  assert.equal(silenced.silenced, true)
  assert.equal(silenced.node.nickname, 'alpha')
  // Two more evaluations: still nothing at the receiver.
  await clock.advanceAsync(2.5 * EVALUATE_EVERY_MS)
  assert.deepEqual(sink.received, [])

  // Neither the webhook nor the log heard of it.
  const doc = await fetchJson(`${aggregator.url}/api/v1/alerts`)
  assert.equal(doc.receivers.find((r: any) => r.kind === 'webhook').sent, 0)
  assert.equal(doc.receivers.find((r: any) => r.kind === 'log').sent, 0)
})
