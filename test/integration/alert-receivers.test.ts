import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { Agent } from '../../agent/agent.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import { defaultAlertingConfig } from '../../aggregator/alerts/config.ts'
import { AlertmanagerReceiver, alertmanagerReceiver } from '../../aggregator/alerts/receivers/alertmanager.ts'
import type { RetryPolicy } from '../../aggregator/alerts/receivers/retry.ts'
import { WebhookReceiver, webhookReceiver } from '../../aggregator/alerts/receivers/webhook.ts'
import type { AlertRecord } from '../../aggregator/alerts/types.ts'
import { systemClock } from '../../shared/clock.ts'
import type { ComponentHealth } from '../../shared/health.ts'
import { createLogger } from '../../shared/log.ts'
import { parseTarget } from '../../shared/target.ts'
import { type AmAlert, startAlertmanager } from '../support/alertmanager.ts'
import { freePort } from '../support/ports.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { fetchJson } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'
import { startWebhookSink } from '../support/webhook-sink.ts'

const quiet = createLogger({ name: 'test', level: 'silent' })
const fast: RetryPolicy = { initialMs: 20, base: 2, capMs: 100, jitter: { kind: 'down', share: 0.5 }, maxAttempts: 5, retryAfterCapMs: 1000 }
const source = { peerId: () => '12D3KooWTestAggregator', publicUrl: () => 'http://127.0.0.1:9/' }
const PEER = '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc'

function alert (overrides: Partial<AlertRecord> = {}): AlertRecord {
  const now = Date.now()
  return {
    id: `NodeDown/node/${PEER}`,
    name: 'NodeDown',
    severity: 'critical',
    labels: { alertname: 'NodeDown', severity: 'critical', peer_id: PEER, nickname: 'alpha', team: 'storage' },
    summary: `alpha (${PEER}) is down`,
    description: 'A node has been down or stale for 1m0s.',
    subject: { kind: 'node', peerId: PEER, nickname: 'alpha' },
    state: 'firing',
    activeSince: now - 60_000,
    firedAt: now - 1_000,
    resolvedAt: undefined,
    silenced: false,
    ...overrides,
  }
}

test('webhook: a JSON POST per notification; 503s are retried with backoff until it is delivered', async (t) => {
  const sink = await startWebhookSink()
  const receiver = new WebhookReceiver({ url: sink.url, headers: { authorization: 'Bearer hook-secret' }, source, logger: quiet, policy: fast })
  t.after(async () => { await receiver.stop(100); await sink.close() })
  sink.failNext(2, 503)
  const firing = alert()
  receiver.notify({ status: 'firing', alert: firing, repeat: false, at: Date.now() })
  // The sink records a request before its 200 reaches the receiver: wait for the receiver to count it too.
  const [first] = await waitFor(() => sink.received.length >= 1 && receiver.stats().sent === 1 && sink.received, { what: 'the webhook to receive the firing alert and the receiver to see its 200' })
  assert.equal(sink.refused, 2)
  assert.equal(first!.headers.authorization, 'Bearer hook-secret')
  assert.equal(first!.headers['content-type'], 'application/json')
  assert.equal(first!.body.status, 'firing')
  assert.deepEqual(first!.body.alert.node, { peerId: PEER, nickname: 'alpha' })
  assert.equal(first!.body.aggregator.peerId, '12D3KooWTestAggregator')
  assert.deepEqual(receiver.stats(), { sent: 1, failed: 0, dropped: 0, retries: 2, queued: 0 })

  receiver.notify({ status: 'resolved', alert: { ...firing, state: 'resolved', resolvedAt: Date.now() }, repeat: false, at: Date.now() })
  await waitFor(() => sink.received.length >= 2, { what: 'the resolved notice' })
  assert.equal(sink.received[1]!.body.status, 'resolved')
  assert.equal(sink.received[1]!.body.alert.id, firing.id)

  // A 400 is a refusal: not retried.
  sink.failNext(1, 400)
  receiver.notify({ status: 'firing', alert: alert({ id: 'other' }), repeat: false, at: Date.now() })
  await waitFor(() => receiver.stats().failed === 1, { what: 'the refusal to be counted' })
  assert.equal(sink.refused, 3)
  assert.equal(receiver.stats().retries, 2)
})

test('webhook: a receiver that never answers does not hold anyone up', async (t) => {
  const hanging = createServer(() => { /* never answers */ })
  await new Promise<void>((resolve) => { hanging.listen(0, '127.0.0.1', resolve) })
  const port = (hanging.address() as { port: number }).port
  const receiver = new WebhookReceiver({ url: `http://127.0.0.1:${port}/`, source, logger: quiet, policy: fast, timeoutMs: 200, capacity: 5 })
  t.after(async () => { hanging.closeAllConnections(); hanging.close() })
  // notify is synchronous: it returns nothing to await, and what it queued and dropped is counted before any
  // answer could have come (this server never answers). A stopwatch here would measure the machine's load instead.
  const returned = Array.from({ length: 20 }, (_, i) => receiver.notify({ status: 'firing', alert: alert({ id: `a${i}` }), repeat: false, at: Date.now() }) as unknown)
  assert.ok(returned.every((r) => r === undefined), 'notify returns at once, with nothing to wait for')
  const stats = receiver.stats()
  assert.equal(stats.queued, 6, 'one in flight, five waiting')
  assert.equal(stats.dropped, 14, 'the rest dropped and counted')
  await waitFor(() => receiver.stats().retries >= 1, { what: 'a timed-out attempt to be retried' })
  await receiver.stop(0)
  assert.equal(receiver.stats().queued, 0)
})

test('alertmanager: a real Alertmanager gets the alert with labels and annotations, keeps it through re-sends, drops it once resolved', async (t) => {
  const am = await startAlertmanager()
  // Real timers, but the re-send pace (an interval, on the monotonic clock) moves when the test says.
  let mono = 0
  const clock = { ...systemClock, monotonic: () => mono }
  const receiver = new AlertmanagerReceiver({ url: am.url, source, logger: quiet, policy: fast, resendMs: 1_000, clock })
  t.after(async () => { await receiver.stop(100); await am.stop() })
  const firing = alert()
  const now = Date.now()
  receiver.notify({ status: 'firing', alert: firing, repeat: false, at: now })
  const find = (alerts: AmAlert[]): AmAlert | undefined => alerts.find((a) => a.labels.alertname === 'NodeDown' && a.labels.peer_id === PEER)
  const got = await waitFor(async () => find(await am.alerts()), { what: 'Alertmanager to list the alert' })
  assert.deepEqual(got.labels, firing.labels)
  assert.equal(got.annotations.summary, firing.summary)
  assert.equal(got.annotations.description, firing.description)
  assert.equal(got.status.state, 'active')
  assert.equal(got.generatorURL, 'http://127.0.0.1:9/api/v1/alerts')
  assert.equal(Date.parse(got.startsAt), firing.firedAt)
  assert.equal(Date.parse(got.endsAt), now + 4_000, 'firing: endsAt four re-send intervals ahead')

  // The first evaluation's tick sends the always-firing Watchdog (what was firing was just sent by notify).
  receiver.tick(now, [firing])
  const watchdog = await waitFor(async () => (await am.alerts()).find((a) => a.labels.alertname === 'Watchdog'), { what: 'the Watchdog in Alertmanager' })
  assert.deepEqual(watchdog.labels, { alertname: 'Watchdog', severity: 'none', aggregator: '12D3KooWTestAggregator' }, 'named as Prometheus\'s Watchdog, kept apart by the aggregator label')
  assert.equal(watchdog.status.state, 'active')
  await waitFor(() => receiver.stats().sent === 2, { what: 'the receiver to see Alertmanager\'s answer' })
  // Re-sends (the evaluation's tick) push endsAt on, so Alertmanager does not time the alert out.
  mono += 500
  receiver.tick(now + 500, [firing]) // within the re-send interval: nothing
  mono += 499
  receiver.tick(now + 1_000, [firing])
  assert.equal(receiver.stats().sent, 2, 'not yet: the re-send interval is monotonic, whatever the wall clock says')
  mono += 1
  receiver.tick(now + 1_000, [firing])
  const resent = await waitFor(async () => {
    const a = find(await am.alerts())
    return a !== undefined && Date.parse(a.endsAt) === now + 5_000 ? a : undefined
  }, { what: 'the re-send to move endsAt' })
  assert.equal(resent.status.state, 'active')
  await waitFor(() => receiver.stats().sent === 3, { what: 'the re-send (alert and Watchdog in one batch) to be counted' })

  receiver.notify({ status: 'resolved', alert: { ...firing, state: 'resolved', resolvedAt: Date.now() }, repeat: false, at: Date.now() })
  await waitFor(async () => find(await am.alerts()) === undefined, { what: 'Alertmanager to drop the resolved alert' })
  await waitFor(() => receiver.stats().sent === 4, { what: 'the resolved alert to be counted' })
  assert.ok((await am.alerts()).some((a) => a.labels.alertname === 'Watchdog'), 'the Watchdog keeps firing')

  // A test alert (test-alert, POST /api/v1/alerts/test): Alertmanager takes it, and it ends by itself.
  const tested = await receiver.test({ at: Date.now(), signal: AbortSignal.timeout(10_000) })
  assert.deepEqual([tested.delivered, tested.last.status], [true, 200])
  const testAlert = await waitFor(async () => (await am.alerts()).find((a) => a.labels.alertname === 'HeartbeatTest'), { what: 'the test alert in Alertmanager' })
  assert.deepEqual(testAlert.labels, { alertname: 'HeartbeatTest', severity: 'info', aggregator: '12D3KooWTestAggregator' })
  assert.equal(Date.parse(testAlert.endsAt) - Date.parse(testAlert.startsAt), 1_000, 'it ends after one re-send interval')
})

test('alertmanager: an Alertmanager that is down is retried, then the alert gets through', async (t) => {
  const port = await freePort()
  const receiver = new AlertmanagerReceiver({ url: `http://127.0.0.1:${port}`, source, logger: quiet, policy: { ...fast, maxAttempts: 100, capMs: 200 } })
  receiver.notify({ status: 'firing', alert: alert(), repeat: false, at: Date.now() })
  await waitFor(() => receiver.stats().retries >= 2, { what: 'connection refusals to be retried' })
  assert.equal(receiver.stats().sent, 0)
  // The receiver comes up on that port: the same notice, still queued, gets through.
  const sink = createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200).end() }) })
  await new Promise<void>((resolve) => { sink.listen(port, '127.0.0.1', resolve) })
  t.after(async () => { await receiver.stop(100); sink.closeAllConnections(); sink.close() })
  await waitFor(() => receiver.stats().sent === 1, { what: 'delivery once the receiver is up' })
})

test('through the aggregator: a panicked component fires to the webhook and Alertmanager, resolves when ready again; a graceful stop never fires', async (t) => {
  const sink = await startWebhookSink()
  const am = await startAlertmanager()
  const hanging = createServer(() => {})
  await new Promise<void>((resolve) => { hanging.listen(0, '127.0.0.1', resolve) })
  const hangingUrl = `http://127.0.0.1:${(hanging.address() as { port: number }).port}/`
  // Two rules, so the notices are exactly the ones this test is about (a panicked component also makes the node unhealthy).
  const config = defaultAlertingConfig(300)
  config.rules = config.rules.filter((r) => r.name === 'ComponentPanicked' || r.name === 'NodeDown')
  config.receivers.push(webhookReceiver.configure({ url: sink.url, headers: {} }), webhookReceiver.configure({ url: hangingUrl, headers: {} }))
  config.receivers.push(alertmanagerReceiver.configure({ url: am.url }))
  const aggregator = await startTestAggregator({ alerting: config })
  let component: ComponentHealth = { status: 'ready' }
  const agents: Agent[] = []
  for (const nickname of ['alpha', 'bravo']) {
    const agent = await Agent.create({
      services: [{ name: 'alerts', targets: [{ target: parseTarget(aggregator.multiaddrs()[0]!), weight: 100 }], beatPeriodMs: 200, reconnectPeriodMs: 500 }],
      source: new DemoChainSource({ blockTimeMs: 300 }),
      nickname,
      components: nickname === 'alpha' ? () => ({ storage: component }) : undefined,
      logger: quiet,
    })
    await agent.start()
    agents.push(agent)
  }
  const [alpha, bravo] = agents as [Agent, Agent]
  t.after(async () => {
    await alpha.stop()
    await aggregator.stop()
    await am.stop()
    await sink.close()
    hanging.closeAllConnections()
    hanging.close()
  })
  await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/fleet`)).summary.byStatus.healthy === 2, { what: 'two healthy nodes' })

  // bravo stops gracefully: "stopped", which never fires.
  await bravo.stop()
  await waitFor(() => aggregator.inspect().fleet.verdict(bravo.peerId)?.status === 'stopped', { what: 'bravo to be stopped' })

  const brokeAt = Date.now()
  component = { status: 'panicked', details: { error: 'disk full' } }
  const fired = await waitFor(() => sink.received.find((r) => r.body.status === 'firing'), { timeoutMs: 10_000, what: 'the firing alert at the webhook' })
  assert.equal(fired.body.alert.name, 'ComponentPanicked')
  assert.deepEqual(fired.body.alert.node, { peerId: alpha.peerId, nickname: 'alpha' })
  assert.equal(fired.body.alert.component, 'storage')
  assert.ok(fired.at - brokeAt >= 300, 'not before the rule\'s `for`')
  const inAm = await waitFor(async () => (await am.alerts()).find((a) => a.labels.alertname === 'ComponentPanicked'), { what: 'the alert in Alertmanager' })
  assert.equal(inAm.labels.peer_id, alpha.peerId)
  assert.equal(inAm.labels.component, 'storage')
  assert.equal(inAm.generatorURL, `${aggregator.url}/api/v1/alerts`)

  // The API shows it (the page reads the same fleet document).
  const doc = await fetchJson(`${aggregator.url}/api/v1/alerts`)
  assert.deepEqual(doc.alerts.filter((a: any) => a.state === 'firing').map((a: any) => a.name), ['ComponentPanicked'])
  const fleet = await fetchJson(`${aggregator.url}/api/v1/fleet`)
  assert.deepEqual(fleet.alerts.firing.map((a: any) => a.name), ['ComponentPanicked'])

  component = { status: 'ready' }
  const resolved = await waitFor(() => sink.received.find((r) => r.body.status === 'resolved'), { timeoutMs: 10_000, what: 'the resolved notice' })
  assert.equal(resolved.body.alert.id, fired.body.alert.id)
  await waitFor(async () => (await am.alerts()).every((a) => a.labels.alertname !== 'ComponentPanicked'), { what: 'Alertmanager to drop it' })

  // Exactly one firing and one resolved: de-duplicated, and nothing about bravo.
  assert.deepEqual(sink.received.map((r) => `${r.body.status} ${r.body.alert.name} ${r.body.alert.node?.nickname}`), ['firing ComponentPanicked alpha', 'resolved ComponentPanicked alpha'])
  // The receiver that never answers held nobody up, and is still trying.
  const receivers = (await fetchJson(`${aggregator.url}/api/v1/alerts`)).receivers
  const stuck = receivers.find((r: any) => r.kind === 'webhook' && r.sent === 0)
  assert.ok(stuck.queued >= 1, 'the hanging receiver has its notices queued')
  assert.equal(receivers.find((r: any) => r.kind === 'alertmanager').failed, 0)
})
