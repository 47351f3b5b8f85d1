import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Libp2p } from '@libp2p/interface'
import { httpHealth, libp2pHealth } from '../../aggregator/health/indicators.ts'
import { Lifecycle } from '../../shared/lifecycle.ts'

function fakeNode (status: string, addresses: string[], connections: number): Libp2p {
  return {
    status,
    getMultiaddrs: () => addresses.map((a) => ({ toString: () => a })),
    getConnections: () => new Array(connections).fill({}),
  } as unknown as Libp2p
}

describe('aggregator indicators', () => {
  it('libp2p: ready only while started and listening, with addresses and connection count', () => {
    assert.equal(libp2pHealth(undefined).status, 'not_ready')
    assert.equal(libp2pHealth(fakeNode('starting', [], 0)).status, 'not_ready')
    const none = libp2pHealth(fakeNode('started', [], 0))
    assert.equal(none.status, 'not_ready')
    assert.match(String((none.details as { error: string }).error), /not listening/)
    assert.deepEqual(libp2pHealth(fakeNode('started', ['/ip4/127.0.0.1/tcp/4100'], 3)), {
      status: 'ready', details: { addresses: ['/ip4/127.0.0.1/tcp/4100'], connections: 3 },
    })
    assert.equal(libp2pHealth(fakeNode('stopping', ['/ip4/127.0.0.1/tcp/4100'], 0)).status, 'shut_down')
  })

  it('http: ready once listening', () => {
    assert.equal(httpHealth(false, '').status, 'not_ready')
    assert.deepEqual(httpHealth(true, 'http://127.0.0.1:8080'), { status: 'ready', details: { url: 'http://127.0.0.1:8080' } })
  })
})

describe('Lifecycle', () => {
  it('walks starting -> running -> draining -> stopped, forward only', () => {
    const life = new Lifecycle(1_000)
    assert.equal(life.health().status, 'not_ready')
    life.running(2_000)
    assert.deepEqual(life.health(), { status: 'ready', details: { phase: 'running', since: new Date(2_000).toISOString() } })
    life.draining(3_000)
    assert.equal(life.health().status, 'shutting_down')
    life.running(4_000)
    assert.equal(life.phase, 'draining', 'a drain is never undone')
    life.stopped(5_000)
    assert.equal(life.health().status, 'shut_down')
  })

  it('a stop without a drain goes straight to stopped', () => {
    const life = new Lifecycle(0)
    life.stopped(1)
    assert.equal(life.phase, 'stopped')
  })
})
