import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { countFleet, deriveNetworks, FleetModel, HeightSeries } from '../../aggregator/web/src/fleet-model.ts'
import { fleetVerdictOf } from '../../aggregator/web/src/header-view.ts'
import { DEFAULT_SORT, matchesFilter, RowOrder, naturalKey, sortNodes, tableRows, visibleRange, type SortSpec } from '../../aggregator/web/src/table-model.ts'
import type { FleetDocument, NodeStatus, PageNode } from '../../aggregator/web/src/types.ts'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const iso = (ms: number): string => new Date(ms).toISOString()

function node (peerId: string, fields: Partial<PageNode> = {}): PageNode {
  const nickname = fields.nickname ?? peerId
  return {
    peerId,
    nickname,
    displayName: nickname === '' ? peerId : nickname,
    duplicateNickname: false,
    head: '{bafy-head-100}',
    height: 100,
    lag: 0,
    phi: null,
    minerAddress: 'f01000',
    network: 'net',
    status: 'healthy',
    reason: '',
    statusSince: iso(T0 - 60_000),
    statusUntil: null,
    connected: true,
    lastSeen: iso(T0),
    firstSeen: iso(T0 - 60_000),
    lastHeadChange: iso(T0 - 5_000),
    headUnchangedForMs: 5_000,
    health: { status: 'ready', components: { chain: { status: 'ready' } } },
    period: 3000,
    seq: 1,
    beats: 1,
    seqGaps: 0,
    skewMs: 3,
    protocol: 'v2',
    agent: { version: '0.1.0', startedAt: iso(T0 - 60_000) },
    headTime: null,
    source: null,
    headAgeMs: null,
    expectedHeight: null,
    epochsBehindClock: null,
    identityConflict: null,
    ...fields,
  }
}

function doc (nodes: PageNode[], generatedAt = T0): FleetDocument {
  return {
    aggregator: { peerId: 'agg', multiaddrs: ['/ip4/127.0.0.1/tcp/4100/p2p/agg'], version: '0.1.0', startedAt: iso(T0) },
    generatedAt: iso(generatedAt),
    summary: { total: nodes.length },
    nodes,
  }
}

const noLag = { lagOf: (n: PageNode): number => n.lag ?? 0 }

describe('page fleet model', () => {
  it('replaces the fleet on a snapshot and tracks changes between frames', () => {
    const model = new FleetModel()
    assert.equal(model.loaded, false)
    model.applySnapshot(doc([node('a'), node('b')]), T0 - 250)
    assert.equal(model.loaded, true)
    assert.equal(model.clockOffsetMs, 250, 'relative times follow the aggregator clock')
    let changes = model.takeChanges()
    assert.equal(changes.all, true)
    assert.equal(model.hasChanges(), false)

    model.applyNode(node('b', { height: 101 }))
    model.applyNode(node('c'))
    changes = model.takeChanges()
    assert.deepEqual([...changes.peerIds].sort(), ['b', 'c'])
    assert.equal(changes.membership, true, 'a new node changes the row set')

    model.applyNode(node('b', { height: 102 }))
    assert.equal(model.takeChanges().membership, false, 'an update of a known node does not')

    model.applyRemove('a')
    model.applyRemove('nobody')
    changes = model.takeChanges()
    assert.deepEqual([...changes.peerIds], ['a'])
    assert.equal(model.nodes.has('a'), false)
    assert.equal(model.heights.has('a'), false)

    // A new snapshot (after a reconnect) drops nodes that are gone, with their local history.
    model.applyStatus({ peerId: 'c', from: null, to: 'healthy', reason: '', at: iso(T0) })
    model.applySnapshot(doc([node('b')]), T0)
    assert.deepEqual([...model.nodes.keys()], ['b'])
    assert.equal(model.statusLog.has('c'), false)
    assert.deepEqual(model.heights.get('b')?.heights, [100, 101, 102, 100], 'the height history of a node still there is kept')
  })

  it('ignores feed data it cannot use', () => {
    const model = new FleetModel()
    model.applyNode({ nickname: 'no peer id' } as unknown as PageNode)
    model.applyNode(null as unknown as PageNode)
    model.applyStatus(null as never)
    model.applySnapshot({ ...doc([]), nodes: 'nope' as unknown as PageNode[] }, T0)
    assert.equal(model.nodes.size, 0)
  })

  it('keeps a bounded log of status changes per node', () => {
    const model = new FleetModel()
    for (let i = 0; i < 80; i++) model.applyStatus({ peerId: 'a', from: 'healthy', to: i % 2 === 0 ? 'down' : 'healthy', reason: `r${i}`, at: iso(T0 + i) })
    const log = model.statusLog.get('a') ?? []
    assert.equal(log.length, 50)
    assert.equal(log.at(-1)?.reason, 'r79')
    assert.equal(log[0]?.reason, 'r30')
  })

  it('counts statuses, connections and heights per network', () => {
    const counts = countFleet([
      node('a', { status: 'healthy', height: 10 }),
      node('b', { status: 'down', connected: false, height: 12 }),
      node('c', { status: 'down', height: 7, network: 'other' }),
      node('d', { status: 'mystery' as NodeStatus }),
    ])
    assert.equal(counts.total, 4)
    assert.equal(counts.connected, 3)
    assert.equal(counts.byStatus.down, 2)
    assert.equal(counts.byStatus.healthy, 1)
    assert.equal(counts.maxHeight, 100)
    assert.deepEqual([...counts.maxHeightByNetwork.entries()].sort(), [['net', 100], ['other', 7]])
  })

  it('derives the heaviest head per network: most nodes at the greatest height', () => {
    const networks = deriveNetworks([
      node('a', { height: 10, head: 'h10a' }),
      node('b', { height: 10, head: 'h10b' }),
      node('c', { height: 10, head: 'h10b' }),
      node('d', { height: 9, head: 'h9' }),
      node('e', { height: 9, head: 'h9' }),
      node('f', { height: 9, head: 'h9' }),
      node('x', { height: 3, head: 'x3', network: 'other' }),
    ])
    assert.deepEqual(networks, [
      { network: 'net', heaviestHead: 'h10b', height: 10, inConsensus: 2, inDispute: 4, catchingUp: 0, reporting: 6, nodes: 6 },
      { network: 'other', heaviestHead: 'x3', height: 3, inConsensus: 1, inDispute: 0, catchingUp: 0, reporting: 1, nodes: 1 },
    ])
    // A tie at the top: the smaller head, so every page says the same.
    assert.equal(deriveNetworks([node('a', { head: 'b' }), node('b', { head: 'a' })])[0]?.heaviestHead, 'a')
    assert.deepEqual(deriveNetworks([]), [])
  })

  it('prefers the aggregator\'s consensus when it sends it', () => {
    const model = new FleetModel()
    model.applySnapshot(doc([node('a')]), T0)
    assert.equal(model.networks()[0]?.heaviestHead, '{bafy-head-100}')
    const fromServer = [{ network: 'net', heaviestHead: 'server-head', height: 100, inConsensus: 1, inDispute: 0, catchingUp: 0, reporting: 1, nodes: 1 }]
    model.applySummary({ networks: fromServer })
    assert.deepEqual(model.networks(), fromServer)
    assert.equal(model.takeChanges().header, true)
  })
})

describe('height series', () => {
  it('records changes only, in time order, bounded', () => {
    const series = new HeightSeries(3)
    assert.equal(series.record(1, 10), true)
    assert.equal(series.record(2, 10), false, 'same height: nothing new to draw')
    series.record(3, 11)
    series.record(4, 12)
    series.record(5, 13)
    assert.deepEqual(series.times, [3, 4, 5])
    assert.deepEqual(series.heights, [11, 12, 13])
    assert.equal(series.record(Number.NaN, 1), false)
  })

  it('merges history from the API, keeping time order and dropping duplicates', () => {
    const series = new HeightSeries()
    series.record(10, 5)
    series.record(30, 7)
    assert.equal(series.merge([{ time: 20, height: 6 }, { time: 10, height: 5 }, { time: 5, height: 4 }]), true)
    assert.deepEqual(series.times, [5, 10, 20, 30])
    assert.deepEqual(series.heights, [4, 5, 6, 7])
    assert.equal(series.merge([{ time: 10, height: 5 }]), false)
  })
})

describe('table rows', () => {
  const fleet = [
    node('p1', { nickname: 'node-10', status: 'healthy', height: 5 }),
    node('p2', { nickname: 'node-9', status: 'down', height: 7, reason: 'disconnected 5s ago' }),
    node('p3', { nickname: '', status: 'degraded', height: 6, minerAddress: 'f0999' }),
    node('p4', { nickname: 'Node-2', status: 'unhealthy', height: 7 }),
    node('p5', { nickname: 'alpha', status: 'healthy', height: 5 }),
  ]
  const names = (rows: PageNode[]): string[] => rows.map((n) => n.nickname === '' ? n.peerId : n.nickname)

  it('sorts problems first by default, then by name', () => {
    assert.deepEqual(names(sortNodes(fleet, DEFAULT_SORT, noLag)), ['Node-2', 'node-9', 'p3', 'alpha', 'node-10'])
  })

  it('sorts text in natural order, case ignored, both directions', () => {
    const byName: SortSpec = { column: 'name', direction: 1 }
    assert.deepEqual(names(sortNodes(fleet, byName, noLag)), ['alpha', 'Node-2', 'node-9', 'node-10', 'p3'])
    assert.deepEqual(names(sortNodes(fleet, { column: 'name', direction: -1 }, noLag)), ['p3', 'node-10', 'node-9', 'Node-2', 'alpha'])
    assert.ok(naturalKey('node-9') < naturalKey('node-10'))
    assert.equal(naturalKey('Lotus-01'), naturalKey('lotus-1'))
  })

  it('sorts numbers as numbers, ties by name', () => {
    assert.deepEqual(names(sortNodes(fleet, { column: 'height', direction: -1 }, noLag)), ['Node-2', 'node-9', 'p3', 'alpha', 'node-10'])
    const lagOf = (n: PageNode): number => 7 - n.height
    assert.deepEqual(names(sortNodes(fleet, { column: 'lag', direction: 1 }, { lagOf })), ['Node-2', 'node-9', 'p3', 'alpha', 'node-10'])
  })

  it('sorts by last seen with the most recent first, and missing values last', () => {
    const seen = [
      node('old', { lastSeen: iso(T0 - 10_000) }),
      node('new', { lastSeen: iso(T0) }),
      node('never', { lastSeen: 'garbage' }),
    ]
    assert.deepEqual(sortNodes(seen, { column: 'lastSeen', direction: 1 }, noLag).map((n) => n.peerId), ['new', 'old', 'never'])
  })

  it('sorts by components, worst first', () => {
    const sick = node('sick', { health: { status: 'not_ready', components: { chain: { status: 'not_ready' } } } })
    const fine = node('fine')
    const none = node('none', { health: { status: 'ready', components: {} } })
    assert.deepEqual(sortNodes([fine, none, sick], { column: 'components', direction: 1 }, noLag).map((n) => n.peerId), ['sick', 'fine', 'none'])
  })

  it('filters by words anywhere and by status', () => {
    const all = new Set<NodeStatus>()
    assert.deepEqual(names(tableRows(fleet, { text: 'NODE', statuses: all }, DEFAULT_SORT, noLag)), ['Node-2', 'node-9', 'node-10'])
    assert.deepEqual(names(tableRows(fleet, { text: 'node disconnected', statuses: all }, DEFAULT_SORT, noLag)), ['node-9'], 'every word must match')
    assert.deepEqual(names(tableRows(fleet, { text: 'f0999', statuses: all }, DEFAULT_SORT, noLag)), ['p3'], 'miner address')
    assert.deepEqual(names(tableRows(fleet, { text: '', statuses: new Set(['healthy', 'down']) }, DEFAULT_SORT, noLag)), ['node-9', 'alpha', 'node-10'])
    assert.equal(matchesFilter(fleet[0] as PageNode, { text: '   ', statuses: all }), true)
  })

  it('renders only the rows in view, plus overscan', () => {
    assert.deepEqual(visibleRange(0, 440, 44, 10_000, 5), { start: 0, end: 15 })
    assert.deepEqual(visibleRange(44 * 100, 440, 44, 10_000, 5), { start: 95, end: 115 })
    assert.deepEqual(visibleRange(44 * 9_995, 440, 44, 10_000, 5), { start: 9_990, end: 10_000 })
    assert.deepEqual(visibleRange(0, 440, 44, 0, 5), { start: 0, end: 0 })
    assert.deepEqual(visibleRange(-50, 440, 44, 3, 5), { start: 0, end: 3 })
  })
})

describe('fleet verdict', () => {
  const verdict = (statuses: NodeStatus[]): string => {
    const v = fleetVerdictOf(countFleet(statuses.map((status, i) => node(`p${i}`, { status }))))
    return `${v.tone}: ${v.text}${v.sub === '' ? '' : ` (${v.sub})`}`
  }

  it('says first what needs attention, or that nothing does, its count matching its words', () => {
    assert.equal(verdict([]), 'off: No nodes yet')
    assert.equal(verdict(['healthy', 'healthy']), 'ok: ✓ All healthy')
    assert.equal(verdict(['healthy', 'stopped']), 'ok: ✓ All healthy (1 stopped)')
    assert.equal(verdict(['healthy', 'degraded', 'degraded']), 'warn: ▲ 2 degraded')
    assert.equal(verdict(['healthy', 'degraded', 'stopped']), 'warn: ▲ 1 degraded (1 stopped)')
    assert.equal(verdict(['down', 'stale', 'degraded', 'healthy']), 'bad: ✕ 3 need attention (1 down · 1 stale · 1 degraded)')
    // The issue's case: one unhealthy and one degraded are two that need attention, not one.
    assert.equal(verdict(['unhealthy', 'degraded', 'healthy']), 'bad: ✕ 2 need attention (1 unhealthy · 1 degraded)')
    assert.equal(verdict(['unhealthy']), 'bad: ✕ 1 needs attention (1 unhealthy)')
    assert.equal(verdict(['stopped']), 'off: ■ All stopped')
  })
})

describe('row order between frames', () => {
  const all = { text: '', statuses: new Set<NodeStatus>() }
  const fleet = (): PageNode[] => [node('a', { nickname: 'a' }), node('b', { nickname: 'b', status: 'down' }), node('c', { nickname: 'c' })]

  it('patches updates that keep every row in place', () => {
    const order = new RowOrder()
    order.rebuild(fleet(), all, DEFAULT_SORT, noLag)
    assert.deepEqual(order.rows.map((n) => n.peerId), ['b', 'a', 'c'])
    const newer = node('a', { nickname: 'a', height: 101 })
    assert.equal(order.patch([{ peerId: 'a', node: newer }], all, DEFAULT_SORT, noLag), true)
    assert.equal(order.rows[1], newer)
  })

  it('asks for a rebuild when a row would move, appear or leave', () => {
    const order = new RowOrder()
    order.rebuild(fleet(), all, DEFAULT_SORT, noLag)
    const before = [...order.rows]
    assert.equal(order.patch([{ peerId: 'c', node: node('c', { nickname: 'c', status: 'stale' }) }], all, DEFAULT_SORT, noLag), false, 'status changed: it moves')
    assert.equal(order.patch([{ peerId: 'c', node: node('c', { nickname: 'renamed' }) }], all, DEFAULT_SORT, noLag), false, 'name changed: it may move')
    assert.equal(order.patch([{ peerId: 'c', node: undefined }], all, DEFAULT_SORT, noLag), false, 'gone')
    assert.equal(order.patch([{ peerId: 'new', node: node('new') }], all, DEFAULT_SORT, noLag), false, 'new and shown')
    assert.equal(order.patch([{ peerId: 'a', node: node('a', { nickname: 'a' }) }], all, { column: 'lag', direction: 1 }, noLag), false, 'lag depends on the whole fleet')
    assert.deepEqual(order.rows, before, 'a refused patch changes nothing')

    const onlyDown = { text: '', statuses: new Set<NodeStatus>(['down']) }
    order.rebuild(fleet(), onlyDown, DEFAULT_SORT, noLag)
    assert.equal(order.patch([{ peerId: 'a', node: node('a', { nickname: 'a', height: 5 }) }], onlyDown, DEFAULT_SORT, noLag), true, 'a filtered-out node that stays out changes nothing')
    assert.equal(order.patch([{ peerId: 'b', node: node('b', { nickname: 'b', status: 'healthy' }) }], onlyDown, DEFAULT_SORT, noLag), false, 'leaves the filter')
  })
})
