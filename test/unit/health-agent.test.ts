import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pollLoopHealth, pollStallMs, serviceHealth, targetsHealth } from '../../agent/health.ts'
import type { HeartbeatServiceStatus } from '../../agent/service.ts'

function service (name: string, connected: boolean, extra: Partial<HeartbeatServiceStatus> = {}): HeartbeatServiceStatus {
  return { name, target: `/ip4/127.0.0.1/tcp/1/p2p/${name}`, connected, targets: [], beatsSent: 0, connectFailures: 0, switches: 0, lastSentAt: undefined, failingSince: undefined, lastError: undefined, running: true, ...extra }
}

describe('agent health', () => {
  it('a service is ready while connected; otherwise affected if another delivers, not_ready if none does', () => {
    assert.equal(serviceHealth(service('primary', true), true).status, 'ready')
    assert.equal(serviceHealth(service('alerts', false), true).status, 'affected')
    const down = serviceHealth(service('primary', false, { failingSince: 1_000, connectFailures: 4 }), false)
    assert.equal(down.status, 'not_ready')
    assert.deepEqual(down.details, {
      target: '/ip4/127.0.0.1/tcp/1/p2p/primary', connected: false, beatsSent: 0, connectFailures: 4, lastSentAt: null,
      failingSince: new Date(1_000).toISOString(), error: 'cannot reach the target',
    })
  })

  it('readiness: connected to at least one target', () => {
    assert.equal(targetsHealth([]).status, 'not_ready')
    assert.equal(targetsHealth([service('a', false), service('b', false)]).status, 'not_ready')
    assert.deepEqual(targetsHealth([service('a', false), service('b', true)]), {
      status: 'ready', details: { connected: ['/ip4/127.0.0.1/tcp/1/p2p/b'], targets: 2 },
    })
  })

  it('liveness: the poll loop is alive until it has not polled for several rounds (never sooner than the floor)', () => {
    const activity = { lastPollAt: 100_000, periodMs: 3_000, sourceTimeoutMs: 3_000 }
    assert.equal(pollStallMs(activity), 30_000, 'floor: 3 x 6 s is under 30 s')
    assert.equal(pollStallMs({ ...activity, periodMs: 20_000 }), 69_000)
    assert.equal(pollLoopHealth(activity, 0, 100_000 + 30_000).status, 'ready')
    const stuck = pollLoopHealth(activity, 0, 100_000 + 30_001)
    assert.equal(stuck.status, 'panicked')
    assert.match(String((stuck.details as { error: string }).error), /has not polled for 30s/)
    // Before the first poll, time counts from the start.
    assert.equal(pollLoopHealth({ ...activity, lastPollAt: undefined }, 50_000, 60_000).status, 'ready')
    assert.equal(pollLoopHealth({ ...activity, lastPollAt: undefined }, 50_000, 90_000).status, 'panicked')
  })
})
