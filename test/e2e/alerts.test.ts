import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startAlertmanager } from '../support/alertmanager.ts'
import { AGENT_BIN, AGGREGATOR_BIN, fetchJson, Spawned, startAggregatorProcess, tempDir } from '../support/processes.ts'
import { freePort } from '../support/ports.ts'
import { waitFor } from '../support/wait.ts'
import { startWebhookSink } from '../support/webhook-sink.ts'

const ALERT_FOR_MS = 2_000

/**
 * go-filecoin's FIL_HEARTBEAT_ALERTS, end to end: agents send to their
 * primary aggregator and, through FIL_HEARTBEAT_ALERTS, to an alerting
 * aggregator with rules and receivers (a webhook and a real Alertmanager).
 */
test('an agent killed -> firing at the webhook and Alertmanager after the rule\'s `for`; back with the same key -> resolved', async (t) => {
  const am = await startAlertmanager()
  const sink = await startWebhookSink()
  const rules = join(tempDir('hb-rules-'), 'rules.json')
  writeFileSync(rules, JSON.stringify({
    rules: [{ name: 'NodeDown', kind: 'node_status', statuses: ['down', 'stale'], severity: 'critical', labels: { team: 'storage' } }],
  }))
  const primary = await startAggregatorProcess()
  const alerting = await startAggregatorProcess({
    args: ['--alert-for', `${ALERT_FOR_MS}ms`, '--alert-rules', rules, '--alert-webhook', sink.url, '--alertmanager', am.url],
  })
  const keys = tempDir('hb-agent-keys-')
  const startAgent = (nickname: string): Spawned => new Spawned(AGENT_BIN,
    ['--target', primary.multiaddr, '--nickname', nickname, '--beat-period', '1s', '--key-file', join(keys, `${nickname}.key`)],
    { FIL_HEARTBEAT_ALERTS: alerting.multiaddr })
  const agents = new Map([['alpha', startAgent('alpha')], ['bravo', startAgent('bravo')]])
  t.after(async () => {
    await Promise.all([...agents.values()].map(async (a) => { await a.stop() }))
    await Promise.all([primary.process.stop(), alerting.process.stop()])
    await am.stop()
    await sink.close()
  })

  const nodesOf = async (url: string): Promise<any[]> => (await fetchJson(`${url}/api/v1/fleet`)).nodes
  const healthy = async (url: string): Promise<boolean> => {
    const nodes = await nodesOf(url)
    return nodes.length === 2 && nodes.every((n) => n.status === 'healthy')
  }
  await waitFor(async () => await healthy(primary.url) && await healthy(alerting.url), { timeoutMs: 30_000, what: 'both agents healthy at both aggregators' })
  const alphaPeer = (await nodesOf(alerting.url)).find((n) => n.nickname === 'alpha').peerId as string

  // SIGUSR1 puts a running agent in maintenance and takes it out again.
  const bravo = agents.get('bravo')!
  bravo.proc.kill('SIGUSR1')
  const inMaintenance = await waitFor(async () => (await nodesOf(primary.url)).find((n) => n.nickname === 'bravo' && n.maintenance !== null), { what: 'bravo in maintenance' })
  assert.equal(inMaintenance.maintenance.source, 'agent')
  assert.ok(Date.parse(inMaintenance.maintenance.until) > Date.now() + 50 * 60_000, 'for --maintenance-for (1h)')
  bravo.proc.kill('SIGUSR1')
  await waitFor(async () => (await nodesOf(primary.url)).find((n) => n.nickname === 'bravo' && n.maintenance === null), { what: 'bravo out of maintenance' })

  // kill -9: no goodbye.
  const killedAt = Date.now()
  agents.get('alpha')!.kill('SIGKILL')
  await agents.get('alpha')!.exited
  const isNodeDown = (r: { body: any }): boolean => r.body.alert?.name === 'NodeDown'
  const fired = await waitFor(() => sink.received.find((r) => isNodeDown(r) && r.body.status === 'firing'), { timeoutMs: 45_000, intervalMs: 100, what: 'a firing NodeDown at the webhook' })
  assert.ok(fired.at - killedAt >= ALERT_FOR_MS, `fired ${fired.at - killedAt} ms after the kill: not before the rule's for`)
  assert.deepEqual(fired.body.alert.node, { peerId: alphaPeer, nickname: 'alpha' })
  assert.equal(fired.body.alert.severity, 'critical')
  assert.equal(fired.body.alert.labels.team, 'storage')
  assert.match(fired.body.text, /^\[FIRING\] NodeDown \(critical\): alpha \(12D3KooW/)
  assert.equal(fired.body.aggregator.peerId, alerting.peerId)

  const inAm = await waitFor(async () => (await am.alerts()).find((a) => a.labels.alertname === 'NodeDown'), { what: 'NodeDown in Alertmanager' })
  assert.deepEqual(inAm.labels, { alertname: 'NodeDown', severity: 'critical', team: 'storage', peer_id: alphaPeer, nickname: 'alpha' })
  assert.equal(inAm.status.state, 'active')
  assert.equal(inAm.generatorURL, `${alerting.url}/api/v1/alerts`)
  assert.match(inAm.annotations.summary ?? '', /alpha .* is (down|stale)/)
  // The alerting aggregator's fleet document (what its page shows) carries it.
  const shown = await fetchJson(`${alerting.url}/api/v1/fleet`)
  assert.deepEqual(shown.alerts.firing.map((a: any) => [a.name, a.severity]), [['NodeDown', 'critical']])

  // Back, with the same key file: the same peer id, so the same alert resolves.
  agents.set('alpha', startAgent('alpha'))
  const resolved = await waitFor(() => sink.received.find((r) => isNodeDown(r) && r.body.status === 'resolved'), { timeoutMs: 30_000, intervalMs: 100, what: 'the resolved NodeDown at the webhook' })
  assert.equal(resolved.body.alert.id, fired.body.alert.id)
  assert.deepEqual(resolved.body.alert.node, { peerId: alphaPeer, nickname: 'alpha' })
  assert.ok(resolved.body.alert.endsAt !== null)
  await waitFor(async () => (await am.alerts()).every((a) => a.labels.alertname !== 'NodeDown'), { what: 'Alertmanager to drop the resolved alert' })

  // One firing and one resolved NodeDown in all, about alpha only; the primary aggregator (no receivers) sent nothing.
  assert.deepEqual(sink.received.filter(isNodeDown).map((r) => `${r.body.status} ${r.body.alert.node.nickname}`), ['firing alpha', 'resolved alpha'])
  const alerts = await fetchJson(`${alerting.url}/api/v1/alerts`)
  assert.equal(alerts.resolved[0].name, 'NodeDown')
  assert.deepEqual(alerts.receivers.map((r: any) => r.kind), ['log', 'webhook', 'alertmanager'])
  assert.ok(alerts.receivers.every((r: any) => r.failed === 0 && r.dropped === 0))
  const logged = await alerting.process.waitForLog((l) => l.msg.startsWith('alert firing: NodeDown'))
  assert.equal(logged.level, 'warn')
})

test('bad alerting input is exit 2 with one clear line naming the flag or the field', () => {
  const dir = tempDir('hb-bad-alerts-')
  const rules = join(dir, 'rules.json')
  writeFileSync(rules, JSON.stringify({ rules: [{ name: 'Lag', kind: 'node_lag', maxLag: 'ten' }] }))
  const notJson = join(dir, 'rules.txt')
  writeFileSync(notJson, 'rules: yes')
  const shortToken = join(dir, 'token')
  writeFileSync(shortToken, 'secret\n')
  const receiversFile = (name: string, receivers: unknown): string => { const f = join(dir, name); writeFileSync(f, JSON.stringify({ receivers })); return f }
  const cases: Array<[string[], RegExp]> = [
    [['--alert-rules', receiversFile('tg-none.json', { telegram: [{ chatId: 1 }] })], /invalid receivers\.telegram\[0\] in .*tg-none\.json: botTokenFile \/ botTokenEnv: give exactly one of the file, the environment variable$/m],
    [['--alert-rules', receiversFile('tg-missing.json', { telegram: [{ chatId: 1, botTokenFile: join(dir, 'no-such-token') }] })], /cannot read receivers\.telegram\[0\] in .*: botTokenFile \/ botTokenEnv .*no-such-token: ENOENT/],
    [['--alert-rules', receiversFile('discord-bad.json', { discord: [{ url: 'ftp://discord.example/api/webhooks/1/SECRETPART' }] })], /invalid receivers\.discord\[0\] in .*: the webhook URL: expected an http:\/\/ or https:\/\/ URL/],
    [['--alert-rules', receiversFile('quiet-bad.json', { slack: [{ url: 'https://hooks.example/x', quietHours: { from: '22:00', to: '07:00', timezone: 'Mars/Olympus' } }] })], /receivers\.slack\[0\]\.quietHours\.timezone: not a time zone/],
    [['--alert-rules', receiversFile('route-bad.json', { webhooks: [{ url: 'https://hooks.example/x', route: { severities: ['urgent'] } }] })], /receivers\.webhooks\[0\]\.route\.severities\[0\]: /],
    [['--alert-rules', receiversFile('names.json', { webhooks: [{ url: 'https://a.example/x', name: 'ops' }, { url: 'https://b.example/x', name: 'ops' }] })], /two alert receivers are named "ops"/],
    [['--alert-rules', receiversFile('email-bad.json', { email: [{ smtp: { host: 'mail.example', user: 'u' }, from: 'a@b.example', to: 'c@d.example' }] })], /smtp\.user and smtp\.passwordFile \(or passwordEnv\) go together/],
    [['--deadman-url', 'hc-ping.com/uuid'], /invalid --deadman-url: expected an http:\/\/ or https:\/\/ URL/],
    [['--deadman-interval', '0s', '--deadman-url', 'https://hc-ping.com/x'], /invalid --deadman-interval/],
    [['--alert-rules', rules], /invalid --alert-rules file .*rules\.json: rules\[0\]\.maxLag: .*expected number, received string/],
    [['--alert-rules', notJson], /invalid --alert-rules file .*rules\.txt: not JSON/],
    [['--alert-rules', join(dir, 'missing.json')], /cannot read --alert-rules file/],
    [['--alert-for', 'soon'], /invalid --alert-for "soon"/],
    [['--alert-webhook', 'ftp://example.com/x'], /invalid --alert-webhook "ftp:\/\/example.com\/x": expected an http:\/\/ or https:\/\/ URL/],
    [['--alertmanager', 'not a url'], /invalid --alertmanager "not a url"/],
    [['--admin-token-file', shortToken], /must hold one token of at least 16 characters/],
    [['--admin-token-file', join(dir, 'none')], /cannot read --admin-token-file/],
  ]
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [AGGREGATOR_BIN, '--data-dir', dir, '--http', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', ...args], { encoding: 'utf8', timeout: 20_000 })
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
    assert.doesNotMatch(r.stderr, /SECRETPART/, 'a webhook URL (its own credential) is not echoed')
  }
})

test('a restart, crash or clean, neither re-fires a firing alert nor forgets a maintenance window (SQLite)', async (t) => {
  const sink = await startWebhookSink()
  const dataDir = tempDir('hb-agg-alert-state-')
  const port = await freePort()
  const tokenFile = join(tempDir('hb-token-'), 'token')
  writeFileSync(tokenFile, 'restart-admin-token-0123456789\n', { mode: 0o600 })
  const args = ['--alert-for', '1s', '--alert-webhook', sink.url, '--admin-token-file', tokenFile]
  let aggregator = await startAggregatorProcess({ dataDir, port, args })
  const keys = tempDir('hb-agent-keys-')
  const startAgent = (nickname: string): Spawned => new Spawned(AGENT_BIN,
    ['--target', aggregator.multiaddr, '--nickname', nickname, '--beat-period', '500ms', '--reconnect-period', '1s', '--key-file', join(keys, `${nickname}.key`)])
  const agents = new Map([['alpha', startAgent('alpha')], ['bravo', startAgent('bravo')], ['charlie', startAgent('charlie')]])
  t.after(async () => {
    await Promise.all([...agents.values()].map(async (a) => { await a.stop() }))
    await aggregator.process.stop()
    await sink.close()
  })
  const nodes = await waitFor(async () => {
    const fleet = await fetchJson(`${aggregator.url}/api/v1/fleet`)
    return fleet.nodes.length === 3 && fleet.nodes.every((n: any) => n.status === 'healthy') ? fleet.nodes as any[] : undefined
  }, { timeoutMs: 30_000, what: 'three healthy agents' })
  const peer = (nickname: string): string => nodes.find((n) => n.nickname === nickname).peerId
  const firing = (nickname: string): number => sink.received.filter((r) => r.body.status === 'firing' && r.body.alert?.node?.nickname === nickname).length

  agents.get('alpha')!.kill('SIGKILL')
  await waitFor(() => firing('alpha') === 1, { timeoutMs: 30_000, what: 'NodeDown for alpha' })
  const set = await fetch(`${aggregator.url}/api/v1/maintenance`, {
    method: 'POST',
    headers: { authorization: 'Bearer restart-admin-token-0123456789', 'content-type': 'application/json' },
    body: JSON.stringify({ peerId: peer('bravo'), duration: '2h', reason: 'disk swap' }),
  })
  assert.equal(set.status, 201)

  for (const how of ['SIGKILL', 'SIGTERM'] as const) {
    const before = sink.received.length
    if (how === 'SIGKILL') {
      aggregator.process.kill('SIGKILL')
      await aggregator.process.exited
    } else {
      await aggregator.process.stop()
    }
    aggregator = await startAggregatorProcess({ dataDir, port, args })
    await waitFor(async () => {
      const fleet = await fetchJson(`${aggregator.url}/api/v1/fleet`)
      return fleet.nodes.filter((n: any) => n.status === 'healthy').map((n: any) => n.nickname).sort().join() === 'bravo,charlie'
    }, { timeoutMs: 30_000, what: `bravo and charlie back after the ${how}` })
    const windows = await fetchJson(`${aggregator.url}/api/v1/maintenance`)
    assert.deepEqual(windows.nodes.map((w: any) => [w.peerId, w.reason]), [[peer('bravo'), 'disk swap']], `the window survived the ${how}`)
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    assert.deepEqual(sink.received.slice(before).filter((r) => r.body.status === 'firing').map((r) => r.body.alert.node?.nickname), [], `nothing fired again after the ${how}`)
    const alerts = await fetchJson(`${aggregator.url}/api/v1/alerts`)
    assert.deepEqual(alerts.alerts.map((a: any) => [a.node.nickname, a.state]), [['alpha', 'firing']], `alpha still firing after the ${how}`)
  }

  // alpha comes back: the alert that fired before both restarts resolves, once.
  agents.set('alpha', startAgent('alpha'))
  await waitFor(() => sink.received.some((r) => r.body.status === 'resolved' && r.body.alert?.node?.nickname === 'alpha'), { timeoutMs: 30_000, what: 'alpha resolved' })
  assert.equal(firing('alpha'), 1)
  assert.equal(sink.received.filter((r) => r.body.status === 'resolved' && r.body.alert?.node?.nickname === 'alpha').length, 1)
})
