import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startFakeDiscord } from '../support/fakes/discord.ts'
import { startFakeMatrix } from '../support/fakes/matrix.ts'
import { startFakePagerDuty } from '../support/fakes/pagerduty.ts'
import { startFakeSlack } from '../support/fakes/slack.ts'
import { startSmtpSink } from '../support/fakes/smtp.ts'
import { startFakeTelegram } from '../support/fakes/telegram.ts'
import type { Recorded } from '../support/fakes/service.ts'
import { AGENT_BIN, AGGREGATOR_BIN, fetchJson, Spawned, startAggregatorProcess, tempDir } from '../support/processes.ts'
import { refusedPort } from '../support/servers.ts'
import { waitFor } from '../support/wait.ts'
import { startWebhookSink } from '../support/webhook-sink.ts'

const TOKEN = '7000001:AAH-telegram-secret'
const ROUTING_KEY = 'R0UT1NGKEYPAGERDUTY00000000000001'
const MATRIX_TOKEN = 'syt_matrix_secret'
const SMTP_PASSWORD = 'smtp-secret-pa55'
const ADMIN_TOKEN = 'admin-token-0123456789abcdef'
const PUBLIC_URL = 'http://heartbeat.test:8080'

/** Runs the aggregator's CLI without blocking this process (the fake services live here and must answer). */
async function cli (args: string[]): Promise<{ status: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolve) => {
    execFile(process.execPath, [AGGREGATOR_BIN, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr })
    })
  })
}

/**
 * Issue 20's "done when", through the executables: an aggregator with
 * --alert-for 1s and one receiver of every kind, each pointed at a local
 * server that speaks its service's API; a kill -9 of an agent gives one
 * firing message at each, naming the node and the cause, and its restart one
 * resolved; PagerDuty's dedup key is the same for both; test-alert and POST
 * /api/v1/alerts/test reach them all; no secret shows in the API, the info
 * endpoint or the log.
 */
test('kill -9 -> one firing, restart -> one resolved at every receiver; test-alert reaches all; secrets stay hidden', async (t) => {
  const dir = tempDir('hb-receivers-')
  const secret = (name: string, value: string): string => { const f = join(dir, name); writeFileSync(f, `${value}\n`, { mode: 0o600 }); return f }
  const tg = await startFakeTelegram({ token: TOKEN })
  const dc = await startFakeDiscord({ id: '123', token: 'discord-secret' })
  const pd = await startFakePagerDuty({ routingKey: ROUTING_KEY })
  const slack = await startFakeSlack({ path: '/services/T1/B1/slack-secret' })
  const roomId = '!ops:fake.example'
  const mx = await startFakeMatrix({ roomId, accessToken: MATRIX_TOKEN })
  const smtp = await startSmtpSink({ user: 'alerts', password: SMTP_PASSWORD })
  const hook = await startWebhookSink()
  const rules = join(dir, 'rules.json')
  const receivers = {
    webhooks: [hook.url],
    telegram: [
      { botTokenFile: secret('telegram-token', TOKEN), chatId: '-100200300', apiUrl: tg.url },
      // Routed to info alerts only: a node down (critical) never reaches it.
      { name: 'info-chat', botTokenFile: secret('telegram-token', TOKEN), chatId: '777', apiUrl: tg.url, route: { severities: ['info'] } },
    ],
    discord: [{ urlFile: secret('discord-url', dc.webhookUrl) }],
    slack: [{ urlFile: secret('slack-url', slack.webhookUrl) }],
    pagerduty: [{ routingKeyFile: secret('pd-key', ROUTING_KEY), url: pd.enqueueUrl }],
    matrix: [{ homeserver: mx.url, roomId, accessTokenFile: secret('matrix-token', MATRIX_TOKEN) }],
    email: [{ smtp: { host: smtp.host, port: smtp.port, user: 'alerts', passwordFile: secret('smtp-password', SMTP_PASSWORD), caFile: smtp.certFile }, from: 'Heartbeat <alerts@heartbeat.test>', to: 'ops@example.org' }],
  }
  writeFileSync(rules, JSON.stringify({ receivers }))
  const aggregator = await startAggregatorProcess({
    args: ['--alert-for', '1s', '--alert-rules', rules, '--public-url', PUBLIC_URL, '--admin-token-file', secret('admin-token', ADMIN_TOKEN)],
  })
  const keys = tempDir('hb-receivers-keys-')
  // A block time of an hour: the demo chains do not move during the test, so no node lags or disputes.
  const startAgent = (nickname: string): Spawned => new Spawned(AGENT_BIN, ['--target', aggregator.multiaddr, '--nickname', nickname, '--beat-period', '1s', '--demo-block-time', '1h', '--key-file', join(keys, `${nickname}.key`)])
  const agents = new Map([['alpha', startAgent('alpha')], ['bravo', startAgent('bravo')]])
  t.after(async () => {
    await Promise.all([...agents.values()].map(async (a) => { await a.stop() }))
    await aggregator.process.stop()
    await Promise.all([tg.close(), dc.close(), pd.close(), slack.close(), mx.close(), smtp.close(), hook.close()])
  })

  const alerts = async (): Promise<any> => await fetchJson(`${aggregator.url}/api/v1/alerts`)
  const fleet = async (): Promise<any[]> => (await fetchJson(`${aggregator.url}/api/v1/fleet`)).nodes
  await waitFor(async () => { const n = await fleet(); return n.length === 2 && n.every((x) => x.status === 'healthy') }, { timeoutMs: 30_000, what: 'two healthy nodes' })
  const alphaPeer = (await fleet()).find((n) => n.nickname === 'alpha').peerId as string
  const names = (await alerts()).receivers.map((r: any) => r.name)
  assert.deepEqual(names, ['log', 'webhook', 'telegram', 'info-chat', 'discord', 'slack', 'pagerduty', 'matrix', 'email'])

  // What each service got, as text, one entry per message (PagerDuty: per event).
  const chat = (r: Recorded): boolean => r.json?.chat_id === '-100200300'
  const texts = {
    telegram: (): string[] => tg.accepted.filter(chat).map((r) => r.json.text),
    discord: (): string[] => dc.accepted.map((r) => `${r.json.embeds[0].title}\n${r.json.embeds[0].description}`),
    slack: (): string[] => slack.accepted.map((r) => r.json.text),
    pagerduty: (): string[] => pd.accepted.map((r) => r.json.event_action === 'trigger' ? `${r.json.payload.summary}\n${r.json.payload.custom_details.details}` : `resolve ${r.json.dedup_key}`),
    matrix: (): string[] => mx.accepted.map((r) => r.json.body),
    email: (): string[] => smtp.mails.map((m) => `${m.parsed.subject}\n${m.parsed.text}`),
    webhook: (): string[] => hook.received.map((r) => r.body.message),
  }
  const delivered = async (count: number): Promise<boolean> => {
    const doc = await alerts()
    return doc.receivers.filter((r: any) => r.kind !== 'log' && r.name !== 'info-chat').every((r: any) => r.sent === count && r.queued === 0)
  }

  // kill -9: no goodbye.
  agents.get('alpha')!.kill('SIGKILL')
  await agents.get('alpha')!.exited
  await waitFor(async () => await delivered(1), { timeoutMs: 45_000, intervalMs: 200, what: 'every receiver to deliver the firing message and see the service\'s answer' })
  for (const [kind, read] of Object.entries(texts)) {
    const got = read()
    assert.equal(got.length, 1, `${kind}: one firing message (${got.join(' | ')})`)
    const text = got[0]!.replace(/<[^>]+>/g, '')
    assert.match(text, /\[FIRING\] NodeDown \(critical\): alpha/, `${kind}: firing, severity, nickname`)
    assert.ok(text.includes(alphaPeer), `${kind}: the peer id`)
    assert.match(text, /is down: disconnected at \d\d:\d\d:\d\dZ and not back within /, `${kind}: the cause in words`)
    if (kind !== 'pagerduty' || text.includes('Firing for')) assert.match(text, /Firing for \d+(\.\d+)?s/, `${kind}: for how long`)
    assert.ok(text.includes(`${PUBLIC_URL}/#/node/${alphaPeer}`), `${kind}: the node's page`)
  }
  assert.deepEqual(pd.accepted[0]!.json.links, [{ href: `${PUBLIC_URL}/#/node/${alphaPeer}`, text: 'Open the node\'s page' }])
  assert.deepEqual([...pd.open], [`NodeDown/node/${alphaPeer}`], 'PagerDuty has an open incident for it')

  // Back with the same key: the same alert resolves, once, everywhere.
  agents.set('alpha', startAgent('alpha'))
  await waitFor(async () => await delivered(2), { timeoutMs: 45_000, intervalMs: 200, what: 'every receiver to deliver the resolved message' })
  await waitFor(async () => (await alerts()).alerts.length === 0, { what: 'nothing active any more' })
  for (const [kind, read] of Object.entries(texts)) {
    const got = read()
    assert.equal(got.length, 2, `${kind}: one firing and one resolved (${got.join(' | ')})`)
    if (kind === 'pagerduty') continue
    assert.match(got[1]!.replace(/<[^>]+>/g, ''), /\[RESOLVED\] NodeDown \(critical\): alpha[\s\S]*Resolved after/, `${kind}: resolved`)
  }
  assert.deepEqual(pd.accepted.map((r) => [r.json.event_action, r.json.dedup_key]), [['trigger', `NodeDown/node/${alphaPeer}`], ['resolve', `NodeDown/node/${alphaPeer}`]], 'one dedup key: the resolve closes the incident')
  assert.deepEqual([...pd.open], [])
  assert.equal(smtp.mails[1]!.parsed.inReplyTo, smtp.mails[0]!.parsed.messageId, 'the resolved mail answers the firing one')
  assert.equal(tg.accepted.filter((r) => r.json.chat_id === '777').length, 0, 'the info-only route took nothing')

  // Delivery shows in /metrics.
  const metrics = await (await fetch(`${aggregator.url}/metrics`)).text()
  assert.match(metrics, /heartbeat_alert_notifications_total\{receiver="pagerduty",kind="pagerduty",outcome="sent"\} 2/)
  assert.match(metrics, /heartbeat_alert_receiver_failing\{receiver="telegram",kind="telegram"\} 0/)

  // test-alert: the same rules file, a message to each receiver, what each answered; exit 0.
  const tested = await cli(['test-alert', '--alert-rules', rules, '--public-url', PUBLIC_URL])
  assert.equal(tested.status, 0, tested.stdout + tested.stderr)
  for (const name of ['webhook', 'telegram', 'info-chat', 'discord', 'slack', 'pagerduty', 'matrix', 'email']) {
    assert.match(tested.stdout, new RegExp(`^delivered  ${name} \\(`, 'm'), `${name} in the output`)
  }
  assert.match(tested.stdout, /telegram \(telegram, .* chat -100200300\)  status 200: ok, message_id \d+/)
  assert.match(tested.stdout, /pagerduty \(pagerduty, .*\)  status 202: success, Event processed, dedup_key HeartbeatTest\/\d+/)
  assert.match(tested.stdout, /email \(email, smtp:\/\/127\.0\.0\.1:\d+ to 1 recipient\)  status 250: 250 /)
  assert.match(tested.stdout, /^all 8 receivers delivered the test message$/m)
  assert.match(texts.telegram().at(-1)!, /\[TEST\] fil-heartbeat: this receiver works/)
  assert.deepEqual(pd.accepted.slice(-2).map((r) => r.json.event_action), ['trigger', 'resolve'], 'a test incident is opened and closed')
  assert.deepEqual([...pd.open], [])
  assert.equal(smtp.mails.at(-1)!.parsed.subject, '[TEST] fil-heartbeat: this receiver works')

  // One that cannot be reached: named as failed, exit 1.
  const dead = await refusedPort()
  const failing = await cli(['test-alert', '--alert-rules', rules, '--alert-webhook', `http://127.0.0.1:${dead}/hook`, '--receiver', 'webhook-2', '--receiver', 'slack'])
  assert.equal(failing.status, 1, failing.stdout + failing.stderr)
  assert.match(failing.stdout, /^FAILED     webhook-2 \(webhook, http:\/\/127\.0\.0\.1:\d+\/…\)  fetch failed \(ECONNREFUSED\)  \[3 attempts/m)
  assert.match(failing.stdout, /^delivered  slack /m)
  assert.match(failing.stdout, /^1 of 2 receivers did not deliver$/m)
  const unknown = await cli(['test-alert', '--alert-rules', rules, '--receiver', 'nope'])
  assert.equal(unknown.status, 2)
  assert.match(unknown.stderr, /no alert receiver named "nope"/)

  // The admin route does the same from the running aggregator.
  const refused = await fetch(`${aggregator.url}/api/v1/alerts/test`, { method: 'POST' })
  assert.equal(refused.status, 401)
  const res = await fetch(`${aggregator.url}/api/v1/alerts/test`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ receivers: ['telegram', 'discord', 'pagerduty'] }) })
  const answered = await res.json() as any
  assert.equal(res.status, 200)
  assert.deepEqual(answered.results.map((r: any) => [r.name, r.delivered, r.status]), [['telegram', true, 200], ['discord', true, 200], ['pagerduty', true, 202]])

  // No secret in the API, /actuator/info or the log.
  const shown = JSON.stringify([await alerts(), await fetchJson(`${aggregator.url}/actuator/info`), await fetchJson(`${aggregator.url}/api/v1/fleet`)])
  for (const s of [TOKEN, ROUTING_KEY, MATRIX_TOKEN, SMTP_PASSWORD, 'discord-secret', 'slack-secret', ADMIN_TOKEN]) {
    assert.ok(!shown.includes(s), `${s} is shown`)
    assert.ok(!aggregator.process.stderr.includes(s), `${s} is logged`)
    assert.ok(!tested.stdout.includes(s) && !failing.stdout.includes(s), `${s} printed by test-alert`)
  }
})
