import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FakeLotus, LOTUS_TOKEN } from '../support/fake-lotus.ts'
import { freePort } from '../support/ports.ts'
import { AGENT_BIN, fetchJson, Spawned, startAggregatorProcess, tempDir } from '../support/processes.ts'
import { type RunningServer, startTcpServer } from '../support/servers.ts'
import { waitFor } from '../support/wait.ts'
import { startWebhookSink } from '../support/webhook-sink.ts'

/**
 * Issue 15's "one cause, one notification", through the executables: an
 * agent whose Lotus is unreachable (a closed port) and whose two checks
 * fail (closed ports too) makes its node unhealthy with three components
 * not ready. The webhook hears one firing notification, naming the node and
 * carrying each component's error text, and one resolved once the node is
 * back; the component alerts are on the API, inhibited, and never sent.
 */
test('one unreachable node with three failing components: one notification per state change, carrying the error text', async (t) => {
  const sink = await startWebhookSink()
  const [lotusPort, apiPort, marketPort] = [await freePort(), await freePort(), await freePort()]
  const aggregator = await startAggregatorProcess({ args: ['--alert-for', '1s', '--alert-webhook', sink.url, '--public-url', 'http://heartbeat.test:8080'] })
  const keys = tempDir('hb-grouping-')
  const tokenFile = join(keys, 'lotus-token')
  writeFileSync(tokenFile, LOTUS_TOKEN)
  const alpha = new Spawned(AGENT_BIN, [
    '--target', aggregator.multiaddr, '--nickname', 'alpha', '--beat-period', '1s', '--key-file', join(keys, 'alpha.key'),
    '--source', 'lotus', '--source-url', `http://127.0.0.1:${lotusPort}/rpc/v1`, '--source-token-file', tokenFile, '--source-timeout', '1s',
    '--check', `lotus-api=tcp:127.0.0.1:${apiPort}`, '--check', `market=tcp:127.0.0.1:${marketPort}`,
  ])
  // A healthy node beside it, so the fleet stays above its minimum: the one cause is alpha's.
  const bravo = new Spawned(AGENT_BIN, ['--target', aggregator.multiaddr, '--nickname', 'bravo', '--beat-period', '1s', '--key-file', join(keys, 'bravo.key'), '--source', 'demo', '--demo-block-time', '1h'])
  const lotus = new FakeLotus()
  const servers: RunningServer[] = []
  t.after(async () => {
    await Promise.all([alpha.stop(), bravo.stop()])
    await aggregator.process.stop()
    await lotus.server?.close()
    await Promise.all(servers.map(async (s) => { await s.close() }))
    await sink.close()
  })

  const fired = await waitFor(() => sink.received.find((r) => r.body.status === 'firing'), { timeoutMs: 45_000, intervalMs: 100, what: 'the firing notification' })
  assert.equal(fired.body.alert.name, 'NodeUnhealthy')
  assert.equal(fired.body.alert.node.nickname, 'alpha')
  const summary: string = fired.body.alert.summary
  assert.match(summary, /^alpha \(12D3KooW\w+\) is unhealthy: /)
  assert.match(summary, new RegExp(`chain_source: .*ECONNREFUSED 127\\.0\\.0\\.1:${lotusPort}`), 'the source\'s error text')
  assert.match(summary, new RegExp(`lotus-api: .*ECONNREFUSED.*${apiPort}`), 'the first check\'s error text')
  assert.match(summary, new RegExp(`market: .*ECONNREFUSED.*${marketPort}`), 'the second check\'s error text')
  assert.deepEqual([...fired.body.holdsBack].map((id: string) => id.replace(/\/node\/[^/]+/, '')).sort(),
    ['ComponentNotReady/component/chain_source', 'ComponentNotReady/component/lotus-api', 'ComponentNotReady/component/market'])
  assert.match(fired.body.message, /\nFiring for \d+(\.\d+)?s \(since /, 'for how long')
  assert.match(fired.body.message, /\nHeld back \(same cause\): ComponentNotReady chain_source; ComponentNotReady lotus-api; ComponentNotReady market\n/)
  assert.ok(fired.body.message.includes(`http://heartbeat.test:8080/#/node/${fired.body.alert.node.peerId}`))

  // The API shows the component alerts, inhibited by the node's.
  const doc = await fetchJson(`${aggregator.url}/api/v1/alerts`)
  const components = doc.alerts.filter((a: any) => a.name === 'ComponentNotReady')
  assert.equal(components.length, 3)
  assert.ok(components.every((a: any) => a.inhibitedBy === fired.body.alert.id && a.state === 'firing'))

  // The node comes back: Lotus answers, both checks' ports listen.
  await lotus.start(lotusPort)
  servers.push(await startTcpServer(apiPort), await startTcpServer(marketPort))
  const resolved = await waitFor(() => sink.received.find((r) => r.body.status === 'resolved'), { timeoutMs: 45_000, intervalMs: 100, what: 'the resolved notification' })
  assert.equal(resolved.body.alert.id, fired.body.alert.id)
  // Once nothing about alpha is active, nothing more can be sent: count then.
  await waitFor(async () => {
    const now = await fetchJson(`${aggregator.url}/api/v1/alerts`)
    const webhook = now.receivers.find((r: any) => r.kind === 'webhook')
    return now.alerts.length === 0 && webhook.sent === 2 && webhook.queued === 0
  }, { timeoutMs: 20_000, what: 'every alert about alpha gone and the webhook receiver done' })
  assert.deepEqual(sink.received.map((r) => `${r.body.status} ${r.body.alert.name} ${r.body.alert.node?.nickname}`), ['firing NodeUnhealthy alpha', 'resolved NodeUnhealthy alpha'])
})
