import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import type { NodeStatus } from '../../aggregator/fleet/types.ts'
import { fleetVerdict } from '../../aggregator/fleet/verdict.ts'
import { badgeSvg, textWidth } from '../../aggregator/http/badges.ts'
import { PublicStatusCache, publicStatus, renderStatusPage, STATUS_RENDER_MIN_MS, worstByName } from '../../aggregator/http/status-page.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { ManualClock } from '../support/manual-clock.ts'
import { at } from '../support/instant.ts'

const counts = (partial: Partial<Record<NodeStatus, number>>): Record<NodeStatus, number> =>
  ({ healthy: 0, degraded: 0, unhealthy: 0, stale: 0, down: 0, stopped: 0, ...partial })

function beat (nickname: string, status: 'ready' | 'not_ready' = 'ready'): Heartbeat {
  return {
    v: 2, head: '{h}', height: 1, nickname, minerAddress: 'f0999', network: 'n', seq: 1, sentAt: 0, period: 600_000,
    health: { status, components: { secret_component: { status, details: { error: 'dial 10.0.0.1' } } } },
    agent: { version: '9.9.9', startedAt: 0 }, state: 'running',
  }
}

describe('fleet verdict', () => {
  it('counts every node that needs attention and says so in the same words', () => {
    assert.deepEqual(fleetVerdict(counts({ unhealthy: 1, degraded: 1, healthy: 3 }), 5), { text: '✕ 2 need attention', words: '2 need attention', sub: '1 unhealthy · 1 degraded', tone: 'bad' })
    assert.equal(fleetVerdict(counts({ degraded: 1 }), 1).text, '▲ 1 degraded')
    assert.equal(fleetVerdict(counts({ healthy: 2, stopped: 1 }), 3).words, 'all healthy')
    assert.equal(fleetVerdict(counts({}), 0).words, 'no nodes')
  })
})

describe('public status page', () => {
  const nodes = [
    { nickname: 'lotus-b', status: 'healthy' as const, maintenance: false, uptime: { hour: 1, day: 0.99954, week: null } },
    { nickname: 'lotus-a <b>&', status: 'down' as const, maintenance: true, uptime: undefined },
    { nickname: '', status: 'down' as const, maintenance: false, uptime: undefined },
    { nickname: 'lotus-b', status: 'unhealthy' as const, maintenance: false, uptime: undefined },
  ]

  it('lists named nodes problems first and counts the unnamed ones without listing them', () => {
    const status = publicStatus(nodes, 0)
    assert.equal(status.total, 4)
    assert.deepEqual(status.nodes.map((n) => `${n.name}:${n.status}`), ['lotus-b:unhealthy', 'lotus-a <b>&:down', 'lotus-b:healthy'])
    assert.equal(status.unnamed.down, 1)
    // A nickname's badge shows the worst of the nodes carrying it.
    assert.deepEqual([...worstByName(status)], [['lotus-b', 'unhealthy'], ['lotus-a <b>&', 'down']])
  })

  it('renders escaped HTML, no script, with uptime as percentages', () => {
    const html = renderStatusPage(publicStatus(nodes, Date.UTC(2025, 0, 31, 12)))
    assert.match(html, /lotus-a &lt;b&gt;&amp;/)
    assert.doesNotMatch(html, /<b>&/)
    assert.doesNotMatch(html, /<script|http-equiv="refresh"/)
    assert.match(html, /99\.95%/)
    assert.match(html, /1 node without a nickname is counted above but not listed: 1 down\./)
    assert.match(html, /2025-01-31 12:00:00 UTC/)
    assert.match(html, /maintenance/)
  })

  it('lists at most the limit and says how many more there are', () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ nickname: `n${i}`, status: 'healthy' as const, maintenance: false, uptime: undefined }))
    const html = renderStatusPage(publicStatus(many, 0), 3)
    assert.equal(html.match(/<tr><th scope="row"/g)?.length, 3)
    assert.match(html, /2 more named nodes are not listed/)
  })

  it('rebuilds after a change at most once per second, and serves the same bytes in between', () => {
    const clock = new ManualClock()
    const fleet = new FleetState()
    fleet.apply({ type: 'beat', peerId: 'peer-one', heartbeat: beat('one'), protocol: 'v2' }, at(0))
    let uptimeReads = 0
    const cache = new PublicStatusCache({ fleet, uptimeOf: () => { uptimeReads++; return undefined }, clock })
    const first = cache.statusPage()
    assert.equal(uptimeReads, 1)
    assert.ok(!first.body.includes('peer-one') && !first.body.includes('secret_component') && !first.body.includes('10.0.0.1') && !first.body.includes('f0999') && !first.body.includes('9.9.9'))
    // Beats that change nothing shown cost nothing.
    for (let seq = 2; seq < 50; seq++) fleet.apply({ type: 'beat', peerId: 'peer-one', heartbeat: { ...beat('one'), seq }, protocol: 'v2' }, at(seq))
    assert.equal(cache.statusPage(), first)
    assert.equal(uptimeReads, 1)
    // A new node: stale, but not rebuilt within the second.
    fleet.apply({ type: 'beat', peerId: 'peer-two', heartbeat: beat('two', 'not_ready'), protocol: 'v2' }, at(60))
    assert.equal(cache.statusPage(), first)
    clock.advance(STATUS_RENDER_MIN_MS)
    const second = cache.statusPage()
    assert.notEqual(second.etag, first.etag)
    assert.match(second.body, /two/)
    assert.match(cache.nodeBadge('two')?.body ?? '', /<title>two: unhealthy<\/title>/)
    assert.equal(cache.nodeBadge('nobody'), undefined)
    assert.match(cache.fleetBadge().body, /fleet: 1 needs attention/)
    cache.close()
  })
})

describe('badges', () => {
  it('are shields-style SVG with an accessible title, escaped text and widths that grow with the text', () => {
    const svg = badgeSvg('fleet <&>', 'all healthy', 'ok')
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="20"/)
    assert.match(svg, /role="img" aria-label="fleet &lt;&amp;&gt;: all healthy"/)
    assert.match(svg, /<title>fleet &lt;&amp;&gt;: all healthy<\/title>/)
    assert.match(svg, /fill="#1a7f37"/)
    assert.ok(textWidth('mmmm') > textWidth('iiii'))
    const long = badgeSvg('x'.repeat(200), 'down', 'down')
    assert.ok(long.includes('…'), 'long labels are cut')
  })
})
