import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CHECK_STATUS_OF_NODE, fleetHealthDocument, type FleetHealthNode } from '../../aggregator/health/fleet-health.ts'
import type { NodeStatus } from '../../aggregator/fleet/types.ts'
import type { AppHealth } from '../../shared/health.ts'

function node (peerId: string, status: NodeStatus, reason: string, health: AppHealth = { status: 'ready', components: {} }): FleetHealthNode {
  return { peerId, status, reason, lastSeen: '2026-01-01T00:00:00.000Z', health }
}

const input = (nodes: FleetHealthNode[]): Parameters<typeof fleetHealthDocument>[0] => ({ nodes, aggregatorPeerId: 'AGG', releaseId: '0.1.0' })

describe('fleet health (application/health+json)', () => {
  it('a healthy fleet passes with 200; checks keyed node:<peerId> and <peerId>:<component>', () => {
    const { statusCode, body } = fleetHealthDocument(input([
      node('P1', 'healthy', '', { status: 'ready', components: { chain_source: { status: 'ready', details: { height: 10 } } } }),
    ]))
    assert.equal(statusCode, 200)
    assert.equal(body.status, 'pass')
    assert.equal(body.serviceId, 'AGG')
    assert.equal(body.releaseId, '0.1.0')
    assert.equal(body.output, undefined)
    assert.deepEqual(Object.keys(body.checks), ['node:P1', 'P1:chain_source'])
    assert.deepEqual(body.checks['node:P1'], [{
      componentId: 'P1', componentType: 'system', status: 'pass', time: '2026-01-01T00:00:00.000Z', links: { about: '/api/v1/nodes/P1' },
    }])
    assert.deepEqual(body.checks['P1:chain_source'], [{ componentId: 'P1', componentType: 'component', status: 'pass', time: '2026-01-01T00:00:00.000Z' }])
  })

  it('warnings answer 200 with the reason as output; any failing node fails the fleet with 503', () => {
    const warn = fleetHealthDocument(input([node('P1', 'healthy', ''), node('P2', 'degraded', 'head not advancing for 2m')]))
    assert.equal(warn.statusCode, 200)
    assert.equal(warn.body.status, 'warn')
    assert.equal(warn.body.checks['node:P2']?.[0]?.output, 'head not advancing for 2m')
    assert.equal(warn.body.output, '0 failing, 1 warning, 1 passing of 2 nodes')

    const fail = fleetHealthDocument(input([
      node('P1', 'healthy', ''),
      node('P2', 'unhealthy', 'reports not_ready: disk not_ready', { status: 'not_ready', components: { disk: { status: 'not_ready', details: { error: 'disk full' } } } }),
    ]))
    assert.equal(fail.statusCode, 503)
    assert.equal(fail.body.status, 'fail')
    assert.equal(fail.body.checks['P2:disk']?.[0]?.status, 'fail')
    assert.equal(fail.body.checks['P2:disk']?.[0]?.output, 'not_ready: disk full')
  })

  it('maps every node status; affected components warn', () => {
    const expected: Record<NodeStatus, string> = { healthy: 'pass', degraded: 'warn', stale: 'warn', stopped: 'warn', unhealthy: 'fail', down: 'fail' }
    assert.deepEqual(CHECK_STATUS_OF_NODE, expected)
    const doc = fleetHealthDocument(input([node('P1', 'degraded', 'affected', { status: 'affected', components: { sync: { status: 'affected', details: { behind: 3 } } } })]))
    assert.equal(doc.body.checks['P1:sync']?.[0]?.status, 'warn')
    assert.equal(doc.body.checks['P1:sync']?.[0]?.output, 'affected: {"behind":3}')
  })

  it('an empty fleet warns (nothing has reported) and answers 200', () => {
    const { statusCode, body } = fleetHealthDocument(input([]))
    assert.equal(statusCode, 200)
    assert.equal(body.status, 'warn')
    assert.equal(body.output, 'no node has sent a heartbeat yet')
    assert.deepEqual(body.checks, {})
  })

  it('bounds the output taken from large component details', () => {
    const big = { status: 'not_ready' as const, details: { blob: 'x'.repeat(5000) } }
    const { body } = fleetHealthDocument(input([node('P1', 'unhealthy', 'r', { status: 'not_ready', components: { big } })]))
    assert.ok((body.checks['P1:big']?.[0]?.output ?? '').length <= 300)
  })
})
