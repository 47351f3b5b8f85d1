import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Alerting } from '../../aggregator/alerts/alerting.ts'
import { AlertEngine } from '../../aggregator/alerts/engine.ts'
import { createLogger } from '../../shared/log.ts'
import { alertInputFromSnapshot } from '../../aggregator/alerts/input.ts'
import { agentMaintenance, MaintenanceBook } from '../../aggregator/alerts/maintenance.ts'
import { type AlertRule, builtInRules } from '../../aggregator/alerts/rules.ts'
import { parseRulesDocument } from '../../aggregator/alerts/rules-file.ts'
import type { AlertInput, AlertNotification, MaintenanceWindow } from '../../aggregator/alerts/types.ts'
import { at } from '../support/instant.ts'

const FOR = 60_000
const PEER_A = '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc'
const PEER_B = '12D3KooWGRUVh8q3JqjFdEXEuZEsQ6yUg5anWjNDW4BDFT6b7Dc8'
const PEER_C = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'

/** A node as the fleet's JSON view shows it; only what the rules read. */
function view (peerId: string, nickname: string, status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    peerId,
    nickname,
    status,
    reason: status === 'healthy' ? '' : `it is ${status}`,
    network: 'demo',
    health: { status: 'ready', components: { chain_source: { status: 'ready' } } },
    ...extra,
  }
}

interface World {
  nodes: Array<Record<string, unknown>>
  summary?: Record<string, unknown>
  maintenance?: Record<string, MaintenanceWindow>
  fleetMaintenance?: MaintenanceWindow
}

function input (world: World): AlertInput {
  return alertInputFromSnapshot({ nodes: world.nodes, summary: world.summary }, {
    nodeMaintenance: (peerId) => world.maintenance?.[peerId],
    fleetMaintenance: world.fleetMaintenance,
  })
}

function only (rules: AlertRule[], ...names: string[]): AlertRule[] {
  return rules.filter((r) => names.includes(r.name))
}

/** Runs the engine over [time, world] steps; returns the notifications of each step. */
function walk (engine: AlertEngine, steps: Array<[number, World]>): AlertNotification[][] {
  return steps.map(([t, world]) => engine.evaluate(input(world), at(t)))
}

const brief = (ns: AlertNotification[]): string[] => ns.map((n) => `${n.status}${n.repeat ? '(repeat)' : ''} ${n.alert.name} ${n.alert.subject.kind === 'node' ? n.alert.subject.nickname : n.alert.subject.kind}`)

test('a node down for the rule\'s `for` fires once, repeats after the repeat interval, resolves once when back', () => {
  const rules = only(builtInRules(FOR), 'NodeDown').map((r) => ({ ...r, repeatInterval: 10 * 60_000 }))
  const engine = new AlertEngine(rules)
  const up: World = { nodes: [view(PEER_A, 'alpha', 'healthy')] }
  const down: World = { nodes: [view(PEER_A, 'alpha', 'down')] }
  const out = walk(engine, [
    [0, up],
    [1_000, down], // pending from here
    [30_000, down],
    [60_999, down], // 59.999 s: not yet
    [61_000, down], // 60 s held: fires
    [62_000, down],
    [61_000 + 10 * 60_000 - 1, down],
    [61_000 + 10 * 60_000, down], // repeat interval later
    [700_000, up],
    [701_000, up],
  ])
  assert.deepEqual(out.map(brief), [[], [], [], [], ['firing NodeDown alpha'], [], [], ['firing(repeat) NodeDown alpha'], ['resolved NodeDown alpha'], []])
  const fired = out[4]![0]!.alert
  assert.equal(fired.state, 'firing')
  assert.equal(fired.activeSince, 1_000)
  assert.equal(fired.firedAt, 61_000)
  assert.deepEqual(fired.labels, { alertname: 'NodeDown', severity: 'critical', peer_id: PEER_A, nickname: 'alpha' })
  assert.match(fired.summary, /alpha/)
  assert.ok(fired.summary.includes(PEER_A), 'the summary names the peer id')
  const resolved = out[8]![0]!.alert
  assert.equal(resolved.state, 'resolved')
  assert.equal(resolved.resolvedAt, 700_000)
  assert.equal(resolved.id, fired.id, 'the same alert resolves')
  assert.deepEqual(engine.active(), [])
  assert.equal(engine.recentlyResolved()[0]?.id, fired.id)
})

test('a condition that stops holding before `for` is dropped without a word; stale then down is one alert', () => {
  const engine = new AlertEngine(only(builtInRules(FOR), 'NodeDown'))
  const out = walk(engine, [
    [0, { nodes: [view(PEER_A, 'alpha', 'stale')] }],
    [59_000, { nodes: [view(PEER_A, 'alpha', 'healthy')] }], // back before `for`
    [100_000, { nodes: [view(PEER_A, 'alpha', 'stale')] }], // pending again, from 100 s
    [130_000, { nodes: [view(PEER_A, 'alpha', 'down')] }], // stale -> down: still the same condition
    [159_000, { nodes: [view(PEER_A, 'alpha', 'down')] }],
    [160_000, { nodes: [view(PEER_A, 'alpha', 'down')] }],
  ])
  assert.deepEqual(out.map(brief), [[], [], [], [], [], ['firing NodeDown alpha']])
  assert.equal(out[5]![0]!.alert.activeSince, 100_000)
  assert.match(out[5]![0]!.alert.summary, /is down: it is down/)
})

test('nodes that announced a stop never fire, and an alert about a node that then stops resolves', () => {
  const engine = new AlertEngine(builtInRules(0))
  const out = walk(engine, [
    [0, { nodes: [view(PEER_A, 'alpha', 'stopped'), view(PEER_B, 'bravo', 'unhealthy', { health: { status: 'panicked', components: { chain_source: { status: 'panicked' } } } })] }],
    [10_000, { nodes: [view(PEER_A, 'alpha', 'stopped'), view(PEER_B, 'bravo', 'stopped')] }],
    [3_600_000, { nodes: [view(PEER_A, 'alpha', 'stopped'), view(PEER_B, 'bravo', 'stopped')] }],
  ])
  // bravo fires; alpha (stopped) does not, and is not counted by the fleet minimum (0 of 1 healthy).
  // bravo's panicked component is its NodeUnhealthy's cause: held back (inhibited), and named by it.
  assert.deepEqual(brief(out[0]!).sort(), ['firing FleetBelowMinimum fleet', 'firing NodeUnhealthy bravo'])
  assert.match(out[0]!.find((n) => n.alert.name === 'FleetBelowMinimum')!.alert.summary, /^0 of 1 nodes are healthy or degraded, fewer than the minimum of 1: bravo unhealthy$/)
  assert.deepEqual(out[0]!.find((n) => n.alert.name === 'NodeUnhealthy')!.holdsBack?.map((a) => a.id), [`ComponentPanicked/node/${PEER_B}/component/chain_source`])
  assert.deepEqual(brief(out[1]!).sort(), ['resolved FleetBelowMinimum fleet', 'resolved NodeUnhealthy bravo'], 'what was never announced never resolves')
  assert.deepEqual(out[2], [], 'a fleet of stopped nodes is not below its minimum')
})

test('components: one alert per node and component, only for nodes whose reports are current', () => {
  const engine = new AlertEngine(only(builtInRules(0), 'ComponentPanicked', 'ComponentNotReady'))
  const sick = { health: { status: 'panicked', components: { chain_source: { status: 'panicked' }, sync: { status: 'not_ready' }, rpc: { status: 'ready' } } } }
  const [first, second] = walk(engine, [
    [0, { nodes: [view(PEER_A, 'alpha', 'unhealthy', sick), view(PEER_B, 'bravo', 'down', sick)] }],
    [1_000, { nodes: [view(PEER_A, 'alpha', 'unhealthy', sick), view(PEER_B, 'bravo', 'down', sick)] }],
  ])
  assert.deepEqual(first!.map((n) => `${n.alert.name} ${n.alert.labels.component} ${n.alert.labels.nickname}`).sort(),
    ['ComponentNotReady sync alpha', 'ComponentPanicked chain_source alpha'], 'bravo is down: its last components are not current')
  assert.deepEqual(second, [], 'de-duplicated')
})

test('lag: unknown lag never fires; more than maxLag blocks behind fires', () => {
  const engine = new AlertEngine(only(builtInRules(0), 'NodeLagging'))
  const out = walk(engine, [
    [0, { nodes: [view(PEER_A, 'alpha', 'healthy'), view(PEER_B, 'bravo', 'degraded', { lag: null }), view(PEER_C, 'charlie', 'degraded', { lag: 10 })] }],
    [1_000, { nodes: [view(PEER_A, 'alpha', 'healthy'), view(PEER_B, 'bravo', 'degraded', { lag: 'lots' }), view(PEER_C, 'charlie', 'degraded', { lag: 11 })] }],
    [2_000, { nodes: [view(PEER_C, 'charlie', 'healthy', { lag: 0 })] }],
  ])
  assert.deepEqual(out.map(brief), [[], ['firing NodeLagging charlie'], ['resolved NodeLagging charlie']])
  assert.match(out[1]![0]!.alert.summary, /11 blocks behind/)
})

test('head stuck: the head of a live node unchanged for longer than `after`', () => {
  const rules = only(builtInRules(30_000), 'HeadStuck').map((r) => ({ ...r, after: 120_000 }))
  const engine = new AlertEngine(rules)
  const changed = new Date(1_000_000).toISOString()
  // headUnchangedForMs is the view's monotonic measure at the moment of the view.
  const still = (t: number): Record<string, unknown> => ({ lastHeadChange: changed, headUnchangedForMs: t - 1_000_000 })
  const out = walk(engine, [
    [1_100_000, { nodes: [view(PEER_A, 'alpha', 'healthy', still(1_100_000))] }],
    [1_120_001, { nodes: [view(PEER_A, 'alpha', 'degraded', still(1_120_001))] }], // pending: unchanged 120.001 s
    [1_150_001, { nodes: [view(PEER_A, 'alpha', 'degraded', still(1_150_001))] }], // + for 30 s
    [1_160_000, { nodes: [view(PEER_A, 'alpha', 'down', still(1_160_000))] }], // down: NodeDown's business, not this rule's
  ])
  assert.deepEqual(out.map(brief), [[], [], ['firing HeadStuck alpha'], ['resolved HeadStuck alpha']])
  assert.match(out[2]![0]!.alert.summary, /head unchanged for 2m30s/)
  // No measure at all: unknown, never fires, however old lastHeadChange looks on the wall clock.
  const blind = new AlertEngine(rules)
  const wallOnly = { nodes: [view(PEER_A, 'alpha', 'healthy', { lastHeadChange: changed })] }
  assert.deepEqual(walk(blind, [[0, wallOnly], [10_000_000, wallOnly]]).flat(), [])
})

test('fleet minimum: fewer healthy nodes than the minimum fires once for the fleet; an empty fleet does not', () => {
  const doc = parseRulesDocument({ builtins: false, rules: [{ name: 'ClusterShort', kind: 'fleet_min_healthy', min: 3, for: '10s', severity: 'critical' }] }, { forMs: FOR })
  const engine = new AlertEngine(doc.rules)
  const three = (s: string): World => ({ nodes: [view(PEER_A, 'alpha', 'healthy'), view(PEER_B, 'bravo', 'degraded'), view(PEER_C, 'charlie', s)] })
  const out = walk(engine, [
    [0, { nodes: [] }],
    [20_000, { nodes: [] }],
    [30_000, three('healthy')],
    [40_000, three('down')],
    [49_000, three('down')],
    [50_000, three('down')],
    [51_000, three('stale')],
    [52_000, three('healthy')],
  ])
  assert.deepEqual(out.map(brief), [[], [], [], [], [], ['firing ClusterShort fleet'], [], ['resolved ClusterShort fleet']])
  assert.match(out[5]![0]!.alert.summary, /2 of 3 nodes are healthy or degraded, fewer than the minimum of 3/)
  assert.deepEqual(out[5]![0]!.alert.labels, { alertname: 'ClusterShort', severity: 'critical' })
})

test('dispute: without a per-network summary nothing fires; nodes in dispute longer than `for` fire per network', () => {
  const engine = new AlertEngine(only(builtInRules(20_000), 'NetworkInDispute'))
  const nodes = [view(PEER_A, 'alpha', 'healthy')]
  const disputed = { networks: [{ network: 'mainnet', heaviestHead: 'bafy', height: 10, inConsensus: 2, inDispute: 1, nodes: 3 }, { network: 'calibnet', inConsensus: 1, inDispute: 0, nodes: 1 }] }
  const out = walk(engine, [
    [0, { nodes, summary: { total: 1 } }],
    [100_000, { nodes, summary: { total: 1 } }],
    [200_000, { nodes, summary: disputed }],
    [219_999, { nodes, summary: disputed }],
    [220_000, { nodes, summary: disputed }],
    [230_000, { nodes, summary: { networks: [{ network: 'mainnet', inDispute: [] }] } }], // a list of disputing nodes, now empty
  ])
  assert.deepEqual(out.map(brief), [[], [], [], [], ['firing NetworkInDispute network'], ['resolved NetworkInDispute network']])
  assert.equal(out[4]![0]!.alert.labels.network, 'mainnet')
  assert.match(out[4]![0]!.alert.summary, /1 node\(s\) of network mainnet disagree/)
})

test('maintenance holds notifications back, never the resolution of an announced alert, and announces when it ends', () => {
  const engine = new AlertEngine(only(builtInRules(FOR), 'NodeDown'))
  const window: MaintenanceWindow = { until: undefined, untilMono: undefined, reason: 'disk swap', source: 'admin', since: 0 }
  const down = (m?: MaintenanceWindow): World => ({ nodes: [view(PEER_A, 'alpha', 'down')], maintenance: m === undefined ? {} : { [PEER_A]: m } })
  const out = walk(engine, [
    [0, down(window)],
    [60_000, down(window)], // fires, silenced: shown, not sent
    [120_000, down(window)],
    [130_000, down()], // window over, still down: announced now
    [140_000, down(window)], // silenced again
    [150_000, { nodes: [view(PEER_A, 'alpha', 'healthy')], maintenance: { [PEER_A]: window } }], // resolves under maintenance: receivers were told it fired, so they hear it resolved
  ])
  assert.deepEqual(out.map(brief), [[], [], [], ['firing NodeDown alpha'], [], ['resolved NodeDown alpha']])
  // While silenced, the API still shows it firing.
  const e2 = new AlertEngine(only(builtInRules(0), 'NodeDown'))
  assert.deepEqual(e2.evaluate(input(down(window)), at(0)), [])
  assert.deepEqual(e2.active().map((a) => [a.state, a.silenced]), [['firing', true]])
  assert.deepEqual(e2.announcedFiring(), [], 'Alertmanager is not re-sent silenced alerts')
  // Resolved while silenced and never announced: nobody hears of it.
  assert.deepEqual(e2.evaluate(input({ nodes: [view(PEER_A, 'alpha', 'healthy')] }), at(1_000)), [])
})

test('fleet maintenance silences every alert, fleet-wide ones included', () => {
  const engine = new AlertEngine(builtInRules(0))
  const fleetMaintenance: MaintenanceWindow = { until: 10_000, untilMono: 10_000, reason: 'upgrade', source: 'admin', since: 0 }
  assert.deepEqual(engine.evaluate(input({ nodes: [view(PEER_A, 'alpha', 'down')], fleetMaintenance }), at(0)), [])
  assert.deepEqual(engine.active().map((a) => a.name).sort(), ['FleetBelowMinimum', 'NodeDown'])
  assert.ok(engine.active().every((a) => a.silenced))
  assert.deepEqual(brief(engine.evaluate(input({ nodes: [view(PEER_A, 'alpha', 'down')] }), at(10_000))).sort(), ['firing FleetBelowMinimum fleet', 'firing NodeDown alpha'])
})

test('labels: the rule\'s free labels, never overriding the alert\'s identity; labels fixed when the alert starts', () => {
  const doc = parseRulesDocument({ rules: [{ name: 'NodeDown', kind: 'node_status', statuses: ['down'], for: '0s', severity: 'info', labels: { team: 'storage', tier: '1' } }] }, { forMs: FOR })
  const engine = new AlertEngine(only(doc.rules, 'NodeDown'))
  const [fired] = engine.evaluate(input({ nodes: [view(PEER_A, 'alpha', 'down')] }), at(0))
  assert.deepEqual(fired?.alert.labels, { team: 'storage', tier: '1', alertname: 'NodeDown', severity: 'info', peer_id: PEER_A, nickname: 'alpha' })
  engine.evaluate(input({ nodes: [view(PEER_A, 'alpha-renamed', 'down')] }), at(1_000))
  const [resolved] = engine.evaluate(input({ nodes: [view(PEER_A, 'alpha-renamed', 'healthy')] }), at(2_000))
  assert.equal(resolved?.alert.labels.nickname, 'alpha', 'resolved carries the labels it fired with, so Alertmanager matches it')
})

test('rules file: merged with the built-ins; errors name the field', () => {
  const doc = parseRulesDocument({
    repeatInterval: '1h',
    disable: ['HeadStuck'],
    rules: [
      { name: 'NodeLagging', kind: 'node_lag', maxLag: 50, severity: 'critical' },
      { name: 'SyncNotReady', kind: 'component', components: ['sync'], statuses: ['not_ready'], for: '5m' },
    ],
    receivers: { webhooks: ['http://hooks.example/x', { url: 'http://hooks.example/y', headers: { authorization: 'Bearer t' } }], alertmanagers: ['http://am:9093'] },
  }, { forMs: 30_000 })
  const byName = new Map(doc.rules.map((r) => [r.name, r]))
  assert.equal(byName.has('HeadStuck'), false)
  assert.equal(byName.get('NodeDown')?.for, 30_000, 'built-ins take --alert-for')
  assert.equal(byName.get('NodeDown')?.repeatInterval, 3_600_000)
  const lag = byName.get('NodeLagging')
  assert.ok(lag?.kind === 'node_lag' && lag.maxLag === 50 && lag.severity === 'critical', 'a file rule replaces the built-in of the same name')
  assert.equal(byName.get('SyncNotReady')?.for, 300_000)
  assert.equal(byName.get('SyncNotReady')?.severity, 'warning')
  assert.equal(doc.rules.filter((r) => r.name === 'NodeLagging').length, 1)
  assert.deepEqual(doc.receivers.webhooks[1]?.entry, { url: 'http://hooks.example/y', headers: { authorization: 'Bearer t' } })
  assert.deepEqual(doc.receivers.alertmanagers, [{ entry: { url: 'http://am:9093', watchdog: true } }])

  const bad: Array<[unknown, RegExp]> = [
    [{ rules: [{ name: 'X', kind: 'node_lag', maxLag: '5' }] }, /^rules\[0\]\.maxLag: .*expected number/],
    [{ rules: [{ name: 'X', kind: 'nope' }] }, /^rules\[0\]\.kind: /],
    [{ rules: [{ name: 'X', kind: 'node_status', statuses: ['stopped'] }] }, /^rules\[0\]\.statuses\[0\]: /],
    [{ rules: [{ name: 'X', kind: 'node_status', statuses: ['down'], for: '5 minutes' }] }, /^rules\[0\]\.for: "5 minutes" is not a duration/],
    [{ rules: [{ name: 'X', kind: 'node_status', statuses: ['down'], labels: { 'bad-name': 'x' } }] }, /^rules\[0\]\.labels\.bad-name: label names are/],
    [{ rules: [{ name: 'X', kind: 'node_status', statuses: ['down'], labels: { peer_id: 'x' } }] }, /^rules\[0\]\.labels\.peer_id: is set by the alert itself/],
    [{ rules: [{ name: 'X', kind: 'node_status', statuses: ['down'], colour: 'red' }] }, /^rules\[0\]: Unrecognized key: "colour"/],
    [{ rules: [{ name: 'X', kind: 'node_lag', maxLag: 1 }, { name: 'X', kind: 'node_lag', maxLag: 2 }] }, /^rules\[1\]\.name: "X" is used by another rule/],
    [{ disable: ['NodeDwn'] }, /^disable\[0\]: "NodeDwn" is not a built-in rule/],
    [{ repeatInterval: '0s' }, /^repeatInterval: must be greater than zero/],
    [{ rulez: [] }, /^\(top level\): Unrecognized key: "rulez"/],
    [[], /^\(top level\): .*expected object/],
  ]
  for (const [value, message] of bad) {
    assert.throws(() => parseRulesDocument(value, { forMs: FOR }), (err: Error) => { assert.match(err.message, message); return err.name === 'RulesFileError' }, JSON.stringify(value))
  }
})

test('the adapter reads what the views have and treats the rest as unknown', () => {
  const got = alertInputFromSnapshot({
    nodes: [
      view(PEER_A, 'alpha', 'healthy', { lag: 3, lastHeadChange: '2024-01-01T00:00:00.000Z' }),
      { peerId: PEER_B, status: 'sleeping' }, // unknown status: left out
      'garbage',
      { peerId: PEER_C, status: 'down' }, // minimal
    ],
    summary: { networks: [{ network: 'demo', inDispute: 2, inConsensus: 1, nodes: 3 }, { nope: true }] },
  }, { nodeMaintenance: () => undefined, fleetMaintenance: undefined })
  assert.deepEqual(got.nodes.map((n) => n.peerId), [PEER_A, PEER_C])
  assert.equal(got.nodes[0]?.lag, 3)
  assert.equal(got.nodes[0]?.lastHeadChange, Date.parse('2024-01-01T00:00:00.000Z'))
  assert.deepEqual(got.nodes[1], { peerId: PEER_C, nickname: '', status: 'down', reason: '', network: '', lag: undefined, lastHeadChange: undefined, headUnchangedForMs: undefined, head: '', components: {}, maintenance: undefined })
  assert.deepEqual(got.networks, [{ network: 'demo', inDispute: 2, inConsensus: 1, nodes: 3 }])
  assert.equal(alertInputFromSnapshot({ nodes: [] }, { nodeMaintenance: () => undefined, fleetMaintenance: undefined }).networks, undefined)
})

test('maintenance book: windows end on time or on request; agent windows map through the beat\'s own clock', () => {
  const book = new MaintenanceBook({ maxEntries: 2 })
  book.start({ peerId: PEER_A }, 60_000, 'disk', at(1_000))
  book.start({ fleet: true }, 10_000, 'upgrade', at(1_000))
  assert.equal(book.node(PEER_A, at(60_999))?.reason, 'disk')
  assert.equal(book.node(PEER_A, at(61_000)), undefined, 'over at until')
  assert.equal(book.fleet(at(5_000))?.reason, 'upgrade')
  assert.equal(book.end({ fleet: true }, at(5_000)), true)
  assert.equal(book.end({ fleet: true }, at(5_000)), false)
  book.start({ peerId: PEER_B }, 60_000, '', at(100_000))
  book.start({ peerId: PEER_C }, 60_000, '', at(100_000))
  assert.throws(() => { book.start({ peerId: PEER_A }, 60_000, '', at(100_000)) }, /too many node maintenance windows/)
  assert.deepEqual(book.list(at(100_000)).map((e) => e.peerId), [PEER_B, PEER_C].sort())

  // The agent's clock is 1 h ahead: until = its sentAt + 5 min means 5 min after we received the beat.
  const skew = 3_600_000
  const w = agentMaintenance({ until: 10_000 + skew + 300_000, reason: 'reboot' }, { sentAt: 10_000 + skew, receivedAtMono: 10_000 }, at(20_000))
  assert.deepEqual(w, { until: 310_000, untilMono: 310_000, reason: 'reboot', source: 'agent', since: undefined })
  assert.equal(agentMaintenance({ until: 10_000 + skew + 300_000 }, { sentAt: 10_000 + skew, receivedAtMono: 10_000 }, at(310_000)), undefined)
  assert.equal(agentMaintenance({}, { sentAt: 0, receivedAtMono: 0 }, at(1e12))?.until, undefined, 'without until: as long as the beats carry it')
  assert.equal(agentMaintenance(undefined, { sentAt: 0, receivedAtMono: 0 }, at(0)), undefined)
  // The aggregator's wall clock stepped 10 min back: the window still ends 5 min after receipt (monotonic), shown in the new wall time.
  const stepped = agentMaintenance({ until: 10_000 + skew + 300_000, reason: 'reboot' }, { sentAt: 10_000 + skew, receivedAtMono: 10_000 }, at(20_000, -600_000))
  assert.deepEqual(stepped, { until: 310_000 - 600_000, untilMono: 310_000, reason: 'reboot', source: 'agent', since: undefined })
  assert.equal(agentMaintenance({ until: 10_000 + skew + 300_000 }, { sentAt: 10_000 + skew, receivedAtMono: 10_000 }, at(309_999, -600_000))?.reason, '')
})

test('evaluation runs on the status tick at most once per interval, and backs off when the fleet is expensive to read', () => {
  let reads = 0
  let costMs = 0
  const alerting = new Alerting({
    config: { rules: only(builtInRules(0), 'NodeDown'), receivers: [] },
    snapshot: () => {
      reads++
      const until = performance.now() + costMs
      while (performance.now() < until) { /* a fleet view this expensive to build */ }
      return { nodes: [view(PEER_A, 'alpha', 'down')] }
    },
    announcedMaintenance: () => undefined,
    source: { peerId: () => 'p', publicUrl: () => 'http://x' },
    logger: createLogger({ name: 'test', level: 'silent' }),
  })
  // Cheap: once per second, whatever the tick rate.
  for (let t = 0; t < 3_000; t += 250) alerting.onTick(at(t))
  assert.equal(reads, 3)
  assert.equal(alerting.engine.active()[0]?.state, 'firing')
  // Expensive (30 ms a read): the interval grows to keep evaluation under a tenth of the time.
  costMs = 30
  alerting.onTick(at(3_000))
  const interval = (alerting.document(at(3_000)).evaluation as { intervalMs: number }).intervalMs
  assert.ok(interval >= 300, `interval ${interval} ms`)
  reads = 0
  alerting.onTick(at(3_000 + interval - 1))
  assert.equal(reads, 0)
  alerting.onTick(at(3_000 + interval))
  assert.equal(reads, 1)
})
