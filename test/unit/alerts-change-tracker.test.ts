import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AlertingChangeTracker } from '../../aggregator/alerts/change-tracker.ts'
import type { AlertRecord, MaintenanceWindow } from '../../aggregator/alerts/types.ts'

function alert (id: string, state: AlertRecord['state'], extra: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id, name: id.split('/')[0] ?? id, severity: 'warning', labels: {}, summary: `summary of ${id}`, description: '',
    subject: { kind: 'fleet' }, state, activeSince: 0, firedAt: undefined, resolvedAt: undefined, silenced: false, ...extra,
  }
}
const admin = (until: number, reason = 'disk'): MaintenanceWindow => ({ until, untilMono: until, reason, source: 'admin', since: 0 })
const agent = (until: number | undefined, reason = 'kernel'): MaintenanceWindow => ({ until, untilMono: until, reason, source: 'agent', since: undefined })
const none = new Map<string, MaintenanceWindow>()

describe('alerting change tracker', () => {
  it('reports a change of the alert set: an alert appears, fires, is silenced, goes', () => {
    const t = new AlertingChangeTracker()
    assert.deepEqual(t.observe([], undefined, none), { alerts: false, peerIds: [] }, 'nothing, as before')
    assert.equal(t.observe([alert('A', 'pending')], undefined, none).alerts, true)
    assert.equal(t.observe([alert('A', 'pending')], undefined, none).alerts, false)
    assert.equal(t.observe([alert('A', 'firing')], undefined, none).alerts, true)
    assert.equal(t.observe([alert('A', 'firing', { silenced: true })], undefined, none).alerts, true)
    assert.equal(t.observe([], undefined, none).alerts, true)
  })

  it('ignores what changes on every evaluation: summaries, and the until of an agent window', () => {
    const t = new AlertingChangeTracker()
    t.observe([alert('HeadStuck', 'firing', { summary: 'unchanged for 5m10s' })], undefined, new Map([['p', agent(1_000)]]))
    assert.deepEqual(t.observe([alert('HeadStuck', 'firing', { summary: 'unchanged for 5m11s' })], undefined, new Map([['p', agent(1_003)]])),
      { alerts: false, peerIds: [] })
    // Its reason, or whether it ends at all, does count.
    assert.deepEqual(t.observe([alert('HeadStuck', 'firing')], undefined, new Map([['p', agent(1_003, 'other')]])), { alerts: true, peerIds: ['p'] })
    assert.deepEqual(t.observe([alert('HeadStuck', 'firing')], undefined, new Map([['p', agent(undefined, 'other')]])), { alerts: true, peerIds: ['p'] })
  })

  it('names the nodes whose window started, changed or ended; the fleet window changes the header', () => {
    const t = new AlertingChangeTracker()
    assert.deepEqual(t.observe([], undefined, new Map([['a', admin(10)], ['b', agent(5)]])), { alerts: true, peerIds: ['a', 'b'] })
    assert.deepEqual(t.observe([], undefined, new Map([['a', admin(20)], ['b', agent(5)]])), { alerts: true, peerIds: ['a'] }, 'an operator extended it')
    assert.deepEqual(t.observe([], undefined, new Map([['b', agent(5)]])), { alerts: true, peerIds: ['a'] }, 'a ended')
    assert.deepEqual(t.observe([], admin(99, 'upgrade'), new Map([['b', agent(5)]])), { alerts: true, peerIds: [] })
    assert.deepEqual(t.observe([], admin(99, 'upgrade'), new Map([['b', agent(5)]])), { alerts: false, peerIds: [] })
    assert.deepEqual(t.observe([], undefined, new Map([['b', agent(5)]])), { alerts: true, peerIds: [] }, 'the fleet window ended')
  })

  it('does not report again what an operator changed between evaluations', () => {
    const t = new AlertingChangeTracker()
    t.observe([], undefined, none)
    t.observeNode('a', admin(10))
    t.observeFleet(admin(50))
    assert.deepEqual(t.observe([], admin(50), new Map([['a', admin(10)]])), { alerts: false, peerIds: [] })
    t.observeNode('a', undefined)
    assert.deepEqual(t.observe([], admin(50), none), { alerts: false, peerIds: [] })
  })
})
