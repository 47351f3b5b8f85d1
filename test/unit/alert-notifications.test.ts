import { test } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { AlertEngine } from '../../aggregator/alerts/engine.ts'
import { alertInputFromSnapshot } from '../../aggregator/alerts/input.ts'
import { alertMessage, messageText } from '../../aggregator/alerts/message.ts'
import { nextSendAt } from '../../aggregator/alerts/receivers/pacer.ts'
import { pagerDutyDedupKey, pagerDutyEvent } from '../../aggregator/alerts/receivers/pagerduty.ts'
import { RoutedReceiver } from '../../aggregator/alerts/receivers/routed.ts'
import { Secret } from '../../aggregator/alerts/receivers/secret.ts'
import type { AlertReceiver } from '../../aggregator/alerts/receivers/receiver.ts'
import { builtInRules } from '../../aggregator/alerts/rules.ts'
import { isQuietAt, LocalClock, quietHoursSchema } from '../../aggregator/alerts/routing.ts'
import type { AlertNotification } from '../../aggregator/alerts/types.ts'
import { redactConfig } from '../../shared/config-redaction.ts'
import { ALERT_PEER, firingOf, nodeDownAlert, resolvedOf } from '../support/alerts.ts'
import { ManualClock } from '../support/manual-clock.ts'
import { at } from '../support/instant.ts'

const PEER_B = '12D3KooWGRUVh8q3JqjFdEXEuZEsQ6yUg5anWjNDW4BDFT6b7Dc8'
const source = { publicUrl: 'https://heartbeat.example', peerId: '12D3KooWAgg' }

/** A node as the fleet view shows it, with its components. */
function node (peerId: string, nickname: string, status: string, components: Record<string, { status: string, details?: unknown }> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const failing = Object.entries(components).filter(([, c]) => c.status !== 'ready').map(([n, c]) => `${n} ${c.status}`)
  return {
    peerId, nickname, status, network: 'calibnet', head: 'bafyHEAD', lastHeadChange: 0,
    reason: status === 'unhealthy' ? `reports not_ready: ${failing.join(', ')}` : status === 'down' ? 'disconnected at 12:00:03Z and not back within 3s; last heartbeat 12:00:02Z' : '',
    health: { status: failing.length > 0 ? 'not_ready' : 'ready', components },
    ...extra,
  }
}

function evaluate (engine: AlertEngine, nodes: Array<Record<string, unknown>>, t: number, summary?: unknown): AlertNotification[] {
  // As the view measures it at the evaluation (on the aggregator's monotonic clock; here both clocks are t).
  const viewed = nodes.map((n) => typeof n.lastHeadChange === 'number' ? { ...n, headUnchangedForMs: t - n.lastHeadChange } : n)
  return engine.evaluate(alertInputFromSnapshot({ nodes: viewed, summary }, { nodeMaintenance: () => undefined, fleetMaintenance: undefined }), at(t))
}

const unreachableLotus = {
  chain_source: { status: 'not_ready', details: { error: 'connect ECONNREFUSED 127.0.0.1:1234' } },
  'lotus-api': { status: 'not_ready', details: { error: 'GET http://127.0.0.1:1234/health: connect ECONNREFUSED 127.0.0.1:1234' } },
  'market': { status: 'not_ready', details: { error: 'tcp 127.0.0.1:24001: connect ECONNREFUSED' } },
}

test('one cause, one notification: a node unreachable on three components fires NodeUnhealthy once, carrying the error texts; the rest are inhibited', () => {
  const engine = new AlertEngine(builtInRules(60_000))
  const sick = [node(ALERT_PEER, 'alpha', 'unhealthy', unreachableLotus), node(PEER_B, 'bravo', 'healthy')]
  assert.deepEqual(evaluate(engine, sick, 0), [], 'pending first')
  const fired = evaluate(engine, sick, 60_000)
  assert.deepEqual(fired.map((n) => `${n.status} ${n.alert.name}`), ['firing NodeUnhealthy'])
  const [n] = fired
  assert.match(n!.alert.summary, /^alpha \(12D3KooW\w+\) is unhealthy: reports not_ready: chain_source not_ready, lotus-api not_ready, market not_ready \(chain_source: connect ECONNREFUSED 127\.0\.0\.1:1234; lotus-api: GET http:\/\/127\.0\.0\.1:1234\/health: connect ECONNREFUSED 127\.0\.0\.1:1234; market: tcp 127\.0\.0\.1:24001: connect ECONNREFUSED\)$/)
  assert.deepEqual(n!.holdsBack?.map((a) => a.name).sort(), ['ComponentNotReady', 'ComponentNotReady', 'ComponentNotReady'])
  // The inhibited alerts are there (the API and the page show them), marked, and not announced.
  const active = engine.active()
  assert.equal(active.length, 4)
  for (const a of active.filter((x) => x.name === 'ComponentNotReady')) {
    assert.equal(a.state, 'firing')
    assert.equal(a.inhibitedBy, n!.alert.id)
  }
  assert.deepEqual(engine.announcedFiring().map((a) => a.name), ['NodeUnhealthy'], 'Alertmanager is not re-sent inhibited alerts')

  // The message says it all: the cause, for how long, and what it holds back with each error text.
  const text = messageText(alertMessage(n!, source))
  assert.match(text, /^\[FIRING\] NodeUnhealthy \(warning\): alpha\n/)
  assert.match(text, /\nFiring for 1m0s \(since 1970-01-01T00:00:00\.000Z\)\n/)
  assert.match(text, /\nHeld back \(same cause\): ComponentNotReady chain_source; ComponentNotReady lotus-api; ComponentNotReady market\n/)
  assert.match(text, new RegExp(`\\nThe node's page: https://heartbeat\\.example/#/node/${ALERT_PEER}$`))

  // Five minutes on, the head is stuck too: inhibited as well, no new notification.
  assert.deepEqual(evaluate(engine, sick, 6 * 60_000 + 1_000), [])
  assert.ok(engine.active().some((a) => a.name === 'HeadStuck' && a.inhibitedBy === n!.alert.id))

  // Back: one resolved, for the one alert that was announced.
  const healthy = [node(ALERT_PEER, 'alpha', 'healthy', {}, { lastHeadChange: 7 * 60_000 }), node(PEER_B, 'bravo', 'healthy', {}, { lastHeadChange: 7 * 60_000 })]
  assert.deepEqual(evaluate(engine, healthy, 7 * 60_000).map((x) => `${x.status} ${x.alert.name}`), ['resolved NodeUnhealthy'])
})

test('one cause, one notification: two agents on one key fire IdentityConflict once; the NodeUnhealthy it causes is inhibited by it', () => {
  const engine = new AlertEngine(builtInRules(60_000))
  const conflict = { identityConflict: { agents: 2, addresses: ['/ip4/10.0.0.1/tcp/4001', '/ip4/10.0.0.2/tcp/4001'], since: new Date(0).toISOString() } }
  const cloned = [{ ...node(ALERT_PEER, 'alpha', 'unhealthy', {}, conflict), reason: 'this identity is used by two agents' }, node(PEER_B, 'bravo', 'healthy')]
  assert.deepEqual(evaluate(engine, cloned, 0), [], 'pending first')
  const fired = evaluate(engine, cloned, 60_000)
  assert.deepEqual(fired.map((n) => `${n.status} ${n.alert.name}`), ['firing IdentityConflict'])
  const unhealthy = engine.active().find((a) => a.name === 'NodeUnhealthy')
  assert.equal(unhealthy?.inhibitedBy, fired[0]!.alert.id, 'the status alert is a symptom of the shared key')
  assert.deepEqual(engine.announcedFiring().map((a) => a.name), ['IdentityConflict'])
})

test('inhibition holds while the cause is active only: a component alert left after its node recovers is announced then', () => {
  const rules = builtInRules(0).filter((r) => r.name === 'NodeUnhealthy' || r.name === 'ComponentNotReady')
  const engine = new AlertEngine(rules)
  const sick = node(ALERT_PEER, 'alpha', 'unhealthy', { sync: { status: 'not_ready', details: { error: 'behind by 400 epochs' } } })
  assert.deepEqual(evaluate(engine, [sick], 0).map((n) => n.alert.name), ['NodeUnhealthy'])
  // The node is degraded now (its reason changed) but the component still reports not_ready.
  const degraded = { ...sick, status: 'degraded', reason: 'lags 400 behind' }
  const out = evaluate(engine, [degraded], 1_000)
  assert.deepEqual(out.map((n) => `${n.status} ${n.alert.name}`).sort(), ['firing ComponentNotReady', 'resolved NodeUnhealthy'])
  assert.match(out.find((n) => n.alert.name === 'ComponentNotReady')!.alert.summary, /component sync is not_ready: behind by 400 epochs$/)
})

test('an alert already announced and then inhibited is not repeated, and its resolution still goes out', () => {
  const rules = builtInRules(0).filter((r) => r.name === 'NodeDown' || r.name === 'HeadStuck').map((r) => ({ ...r, repeatInterval: 60_000 }))
  const engine = new AlertEngine(rules)
  const stuck = node(ALERT_PEER, 'alpha', 'degraded', {}, { lastHeadChange: 0 })
  assert.deepEqual(evaluate(engine, [stuck], 6 * 60_000).map((n) => n.alert.name), ['HeadStuck'])
  // The node goes down: HeadStuck is for live nodes, so it resolves (announced, so said), NodeDown fires.
  const out = evaluate(engine, [node(ALERT_PEER, 'alpha', 'down')], 7 * 60_000)
  assert.deepEqual(out.map((n) => `${n.status} ${n.alert.name}`), ['firing NodeDown', 'resolved HeadStuck'])
})

test('fleet alerts name their nodes (a bound, then "and N more"); a dispute names who disagrees', () => {
  const engine = new AlertEngine(builtInRules(0).filter((r) => r.name === 'FleetBelowMinimum' || r.name === 'NetworkInDispute').map((r) => r.kind === 'fleet_min_healthy' ? { ...r, min: 8 } : r))
  const nodes = Array.from({ length: 7 }, (_, i) => node(`12D3KooWPeer${i}`, `n${i}`, i < 2 ? 'down' : 'healthy', {}, { head: i === 6 ? 'bafyFORK' : 'bafyHEAD' }))
  const out = evaluate(engine, nodes, 0, { networks: [{ network: 'calibnet', heaviestHead: 'bafyHEAD', inDispute: 1, inConsensus: 4, nodes: 7 }] })
  const fleet = out.find((n) => n.alert.name === 'FleetBelowMinimum')!
  assert.equal(fleet.alert.summary, '5 of 7 nodes are healthy or degraded, fewer than the minimum of 8: n0 down, n1 down')
  const dispute = out.find((n) => n.alert.name === 'NetworkInDispute')!
  assert.equal(dispute.alert.summary, '1 node(s) of network calibnet disagree with its heaviest head (of 7): n6')
  const many = new AlertEngine(builtInRules(0).filter((r) => r.name === 'FleetBelowMinimum'))
  const down = Array.from({ length: 9 }, (_, i) => node(`12D3KooWDown${i}`, `d${i}`, 'down'))
  assert.match(evaluate(many, down, 0)[0]!.alert.summary, /: d0 down, d1 down, d2 down, d3 down, d4 down and 4 more$/)
})

test('component error texts are one line and bounded', () => {
  const long = 'x'.repeat(1_000)
  const input = alertInputFromSnapshot({ nodes: [node(ALERT_PEER, 'alpha', 'unhealthy', { a: { status: 'panicked', details: { error: `line one\n  line two ${long}` } }, b: { status: 'not_ready', details: { error: 42 } } })] },
    { nodeMaintenance: () => undefined, fleetMaintenance: undefined })
  const a = input.nodes[0]!.components.a!
  assert.ok(a.error!.startsWith('line one line two xxx'))
  assert.equal(a.error!.length, 300)
  assert.equal(input.nodes[0]!.components.b!.error, undefined, 'not a string: no error text')
})

test('PagerDuty: the dedup key is the alert id for trigger and resolve (hashed past 255 characters)', () => {
  const at = Date.parse('2026-01-01T00:00:00Z')
  const alert = nodeDownAlert(at)
  const trigger = pagerDutyEvent(alertMessage(firingOf(alert, at), source), source.publicUrl)
  const resolve = pagerDutyEvent(alertMessage(resolvedOf(alert, at + 1_000), source), source.publicUrl)
  assert.equal(trigger.dedup_key, alert.id)
  assert.deepEqual(resolve, { event_action: 'resolve', dedup_key: alert.id })
  assert.equal(trigger.payload?.custom_details.peer_id, ALERT_PEER)
  const long = `X/${'y'.repeat(300)}`
  assert.match(pagerDutyDedupKey(long), /^sha256:[0-9a-f]{64}$/)
  assert.equal(pagerDutyDedupKey(long), pagerDutyDedupKey(long))
})

test('pacing: a send waits until every window has room and the service\'s hold is over', () => {
  const limits = [{ count: 1, perMs: 1_000 }, { count: 3, perMs: 10_000 }]
  assert.equal(nextSendAt([], limits, 100, -Infinity), 100)
  assert.equal(nextSendAt([0], limits, 100, -Infinity), 1_000, 'one a second')
  assert.equal(nextSendAt([0, 1_000, 2_000], limits, 2_500, -Infinity), 10_000, 'three in ten seconds')
  assert.equal(nextSendAt([0], limits, 5_000, 7_000), 7_000, 'held by the service')
})

test('secrets show as [redacted] in JSON, inspect, strings and /actuator/info', () => {
  const s = new Secret('xoxb-very-secret', 'env X')
  assert.equal(JSON.stringify({ token: s, nested: [s] }), '{"token":"[redacted]","nested":["[redacted]"]}')
  assert.equal(`${String(s)}`, '[redacted]')
  assert.ok(!inspect({ s }).includes('very-secret'))
  assert.ok(!JSON.stringify(redactConfig({ receivers: [{ kind: 'slack', settings: { url: s } }] })).includes('very-secret'))
  assert.equal(s.reveal(), 'xoxb-very-secret')
})

test('quiet hours: local time in a named zone, over midnight; critical gets through by default', () => {
  const q = quietHoursSchema.parse({ from: '22:00', to: '07:00', timezone: 'Europe/Berlin' })
  assert.deepEqual(q, { from: 22 * 60, to: 7 * 60, timezone: 'Europe/Berlin', except: ['critical'] })
  const berlin = new LocalClock('Europe/Berlin')
  // 21:30 UTC in January is 22:30 in Berlin (UTC+1); in July 23:30 (UTC+2).
  assert.equal(berlin.minutesOfDay(Date.parse('2026-01-15T21:30:00Z')), 22 * 60 + 30)
  assert.equal(berlin.minutesOfDay(Date.parse('2026-07-15T21:30:00Z')), 23 * 60 + 30)
  assert.equal(isQuietAt(q, 22 * 60 + 30), true)
  assert.equal(isQuietAt(q, 6 * 60 + 59), true)
  assert.equal(isQuietAt(q, 7 * 60), false)
  assert.equal(isQuietAt({ from: 9 * 60, to: 17 * 60 }, 12 * 60), true)
  assert.throws(() => quietHoursSchema.parse({ from: '22:00', to: '07:00', timezone: 'Mars/Olympus' }), /not a time zone/)
  assert.throws(() => quietHoursSchema.parse({ from: '25:00', to: '07:00', timezone: 'UTC' }), /local time of day/)
})

/** A receiver that records what reaches it. */
function recorder (): AlertReceiver & { got: string[], ticks: string[][] } {
  const got: string[] = []
  const ticks: string[][] = []
  return {
    kind: 'test', target: 'test', got, ticks,
    notify: (n) => { got.push(`${n.status}${n.repeat ? '(repeat)' : ''} ${n.alert.name}`) },
    tick: (_now, firing) => { ticks.push(firing.map((a) => a.id)) },
    stats: () => ({ sent: got.length, failed: 0, dropped: 0, retries: 0, queued: 0 }),
    stop: async () => {},
  }
}

test('routing: a route takes rules, severities and labels; the resolved notice follows its firing notice, never alone', () => {
  const inner = recorder()
  const routed = new RoutedReceiver(inner, { name: 'pager', route: { severities: ['critical'], labels: { team: 'storage' } } })
  const at = 0
  const critical = nodeDownAlert(at, { labels: { alertname: 'NodeDown', severity: 'critical', team: 'storage' } })
  const other = nodeDownAlert(at, { id: 'w', name: 'NodeLagging', severity: 'warning', labels: { team: 'storage' } })
  const otherTeam = nodeDownAlert(at, { id: 'o', labels: { team: 'network' } })
  for (const a of [critical, other, otherTeam]) routed.notify(firingOf(a, at))
  for (const a of [critical, other, otherTeam]) routed.notify(resolvedOf(a, at + 1))
  assert.deepEqual(inner.got, ['firing NodeDown', 'resolved NodeDown'])
  // A warning that holds back a critical alert stands for it.
  const unhealthy = nodeDownAlert(at, { id: 'u', name: 'NodeUnhealthy', severity: 'warning', labels: { team: 'storage' } })
  routed.notify(firingOf(unhealthy, at, { holdsBack: [nodeDownAlert(at, { id: 'p', name: 'ComponentPanicked', severity: 'critical', labels: { team: 'storage' } })] }))
  assert.deepEqual(inner.got.at(-1), 'firing NodeUnhealthy')
  // Alertmanager-style re-sends see only what this receiver was told of.
  routed.tick(at, [unhealthy, other])
  assert.deepEqual(inner.ticks.at(-1), ['u'])
})

test('quiet hours hold what is not excepted and send it when they end; what fired and resolved while held is never sent', () => {
  // 23:00 UTC; quiet 22:00-07:00 UTC.
  const clock = new ManualClock({ wallStart: Date.parse('2026-01-15T23:00:00Z') })
  const inner = recorder()
  const routed = new RoutedReceiver(inner, { name: 'chat', quietHours: quietHoursSchema.parse({ from: '22:00', to: '07:00', timezone: 'UTC' }), clock })
  const critical = nodeDownAlert(0)
  const warning = nodeDownAlert(0, { id: 'w', name: 'HeadStuck', severity: 'warning' })
  const flapping = nodeDownAlert(0, { id: 'f', name: 'NodeLagging', severity: 'warning' })
  routed.notify(firingOf(critical, 0))
  routed.notify(firingOf(warning, 0))
  routed.notify(firingOf(flapping, 0))
  routed.notify(resolvedOf(flapping, 1))
  assert.deepEqual(inner.got, ['firing NodeDown'], 'critical gets through')
  assert.equal(routed.routing().held, 1)
  assert.equal(routed.routing().quietNow, true)
  routed.tick(0, [])
  assert.deepEqual(inner.got, ['firing NodeDown'], 'still quiet')
  clock.advance(8 * 3_600_000) // 07:00
  routed.tick(0, [])
  assert.deepEqual(inner.got, ['firing NodeDown', 'firing HeadStuck'])
  assert.equal(routed.routing().held, 0)
  routed.notify(resolvedOf(warning, 2))
  assert.deepEqual(inner.got.at(-1), 'resolved HeadStuck')
})
