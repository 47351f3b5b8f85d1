import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { alertAge, alertSubject, maintenanceLine, maintenanceUntil, nodeMaintenance, readAlerts, severityLook, sortAlerts, summaryAfterSubject } from '../../aggregator/web/src/alerts-model.ts'
import { alertsVerdict } from '../../aggregator/web/src/alerts-view.ts'
import { FleetModel } from '../../aggregator/web/src/fleet-model.ts'
import { matchesFilter } from '../../aggregator/web/src/table-model.ts'
import type { AlertView, FleetDocument, MaintenanceView, PageNode } from '../../aggregator/web/src/types.ts'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const iso = (ms: number): string => new Date(ms).toISOString()
const PEER = '12D3KooWCK82VLCSqWFRQGQf6NUkB1NuF4N4m6Zb9WhYuP4DqU9b'

function alert (id: string, fields: Partial<AlertView> = {}): AlertView {
  return {
    id, name: id.split('/')[0] ?? id, state: 'firing', severity: 'warning', summary: `${id} summary`, description: '', labels: {},
    node: null, network: null, component: null, activeSince: iso(T0 - 60_000), firedAt: iso(T0 - 30_000), resolvedAt: null, silenced: false, ...fields,
  }
}
const agentWindow: MaintenanceView = { until: iso(T0 + 3_600_000), reason: 'kernel upgrade', source: 'agent', since: null }

function doc (extra: Partial<FleetDocument>): FleetDocument {
  return { aggregator: { peerId: 'agg', multiaddrs: [], version: '0', startedAt: iso(T0) }, generatedAt: iso(T0), summary: {}, nodes: [], ...extra }
}

describe('page alerts model', () => {
  it('reads the alerting fields of a snapshot or an alerts event; none from an aggregator without alerting', () => {
    assert.equal(readAlerts(doc({})), undefined)
    assert.equal(readAlerts(null), undefined)
    const read = readAlerts({
      alerts: { firing: [alert('A'), { id: 1 }, 'junk', alert('B', { severity: 'critical' })], pending: 2 },
      maintenance: { fleet: { until: null, reason: 'upgrade', source: 'admin', since: iso(T0) }, nodes: [{ peerId: PEER, ...agentWindow }] },
    })
    assert.deepEqual(read?.firing.map((a) => a.id), ['B', 'A'], 'unreadable entries left out, critical first')
    assert.equal(read?.pending, 2)
    assert.equal(read?.fleetMaintenance?.reason, 'upgrade')
    assert.equal(read?.nodesInMaintenance, 1)
    assert.deepEqual(readAlerts({ alerts: { firing: 'x', pending: 'y' }, maintenance: { fleet: 7 } }), { firing: [], pending: 0, fleetMaintenance: null, nodesInMaintenance: 0 })
  })

  it('sorts worst severity first, then the longest firing, then by id', () => {
    const sorted = sortAlerts([
      alert('new-warning', { firedAt: iso(T0 - 1_000) }),
      alert('info', { severity: 'info', firedAt: iso(T0 - 99_000) }),
      alert('old-warning', { firedAt: iso(T0 - 50_000) }),
      alert('odd', { severity: 'page-someone' }),
      alert('critical', { severity: 'critical' }),
    ])
    assert.deepEqual(sorted.map((a) => a.id), ['critical', 'old-warning', 'new-warning', 'info', 'odd'])
    assert.deepEqual(severityLook('page-someone'), { label: 'page-someone', glyph: '?', rank: 3, tone: 'off' })
    assert.equal(severityLook('critical').label, 'Critical')
  })

  it('names the subject: nickname (or short peer id) and component, a network, or the fleet', () => {
    assert.deepEqual(alertSubject(alert('A', { node: { peerId: PEER, nickname: 'alpha' } })), { text: 'alpha', title: PEER, peerId: PEER })
    assert.deepEqual(alertSubject(alert('A', { node: { peerId: PEER, nickname: '' }, component: 'chain' })), { text: '…uP4DqU9b · chain', title: PEER, peerId: PEER })
    assert.equal(alertSubject(alert('A', { network: 'calibnet' })).text, 'network calibnet')
    assert.equal(alertSubject(alert('A')).text, 'whole fleet')
  })

  it('drops the subject\'s name from the start of a summary shown beside it', () => {
    const node = { peerId: PEER, nickname: 'alpha' }
    assert.equal(summaryAfterSubject(alert('A', { node, summary: `alpha (${PEER}) is down: gone` })), 'is down: gone')
    assert.equal(summaryAfterSubject(alert('A', { node, summary: `alpha (${PEER}): head unchanged for 6m` })), 'head unchanged for 6m')
    assert.equal(summaryAfterSubject(alert('A', { node: { peerId: PEER, nickname: '' }, summary: `${PEER} is stale` })), 'is stale')
    assert.equal(summaryAfterSubject(alert('A', { node, summary: 'something else' })), 'something else')
    assert.equal(summaryAfterSubject(alert('A', { summary: '1 of 3 nodes are healthy' })), '1 of 3 nodes are healthy')
  })

  it('says how long an alert fires and how long a window lasts, in words', () => {
    assert.equal(alertAge(alert('A'), T0).text, 'for 30s')
    assert.equal(alertAge(alert('A', { firedAt: null }), T0).text, 'for 1m 00s', 'from activeSince when firedAt is missing')
    assert.match(maintenanceUntil(agentWindow, T0), /^until .+ \(in 1h 00m\)$/)
    assert.equal(maintenanceUntil({ ...agentWindow, until: null }, T0), 'until further notice')
    assert.match(maintenanceLine(agentWindow, T0), /^In maintenance until .+ \(in 1h 00m\): kernel upgrade \(announced by the node's agent\)$/)
    assert.match(maintenanceLine({ ...agentWindow, reason: '', source: 'admin' }, T0), /\(in 1h 00m\) \(set by an operator\)$/)
  })

  it('sums up the alerts for the tile: the count, what is pending, what is in maintenance', () => {
    const base = { firing: [], pending: 0, fleetMaintenance: null, nodesInMaintenance: 0 }
    assert.deepEqual(alertsVerdict(base), { text: '✓ None firing', sub: '', tone: 'ok' })
    assert.deepEqual(alertsVerdict({ ...base, firing: [alert('A')], pending: 1, nodesInMaintenance: 2 }), { text: '⚑ 1 firing', sub: '1 pending · 2 nodes in maintenance', tone: 'warn' })
    assert.equal(alertsVerdict({ ...base, firing: [alert('A'), alert('B', { severity: 'critical' })] }).tone, 'bad')
    assert.equal(alertsVerdict({ ...base, fleetMaintenance: agentWindow }).sub, 'fleet in maintenance')
  })
})

describe('fleet model: alerts and maintenance', () => {
  it('takes alerts from the snapshot and from alerts events, and flags the change', () => {
    const model = new FleetModel()
    model.applySnapshot(doc({ alerts: { firing: [], pending: 0 }, maintenance: { fleet: null, nodes: [] } }), T0)
    assert.deepEqual(model.alerts?.firing, [])
    assert.equal(model.takeChanges().alerts, true)
    assert.equal(model.hasChanges(), false)
    model.applyAlerts({ alerts: { firing: [alert('NodeDown/x', { node: { peerId: PEER, nickname: 'alpha' } })], pending: 0 }, maintenance: { fleet: null, nodes: [] } })
    assert.equal(model.hasChanges(), true)
    assert.equal(model.takeChanges().alerts, true)
    assert.deepEqual(model.alertsOf(PEER).map((a) => a.id), ['NodeDown/x'])
    assert.deepEqual(model.alertsOf('other'), [])
    // Something unreadable changes nothing.
    model.applyAlerts(null as never)
    assert.equal(model.hasChanges(), false)
    assert.equal(model.alerts?.firing.length, 1)
  })

  it('finds nodes in maintenance with the text filter, by the word or by the reason', () => {
    const node = { peerId: PEER, nickname: 'alpha', status: 'healthy', head: '', minerAddress: '', reason: '', network: '' } as unknown as PageNode
    const maintained = { ...node, maintenance: agentWindow } as PageNode
    const filter = (text: string) => ({ text, statuses: new Set<never>() })
    assert.equal(matchesFilter(maintained, filter('maintenance')), true)
    assert.equal(matchesFilter(maintained, filter('kernel')), true)
    assert.equal(matchesFilter({ ...node, maintenance: null } as PageNode, filter('maintenance')), false)
    assert.equal(matchesFilter(node, filter('maintenance')), false)
    assert.equal(nodeMaintenance({ maintenance: null }), undefined)
    assert.equal(nodeMaintenance({}), undefined)
  })
})
