import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ComponentHealth } from '../../shared/health.ts'
import { HealthRegistry } from '../../shared/health-registry.ts'

describe('HealthRegistry', () => {
  it('answers each probe with only its checks, in registration order, worst component wins', () => {
    const registry = new HealthRegistry()
    let store: ComponentHealth = { status: 'not_ready', details: { error: 'loading' } }
    registry.register('ping', () => ({ status: 'ready' }), ['liveness'])
    registry.register('libp2p', () => ({ status: 'ready' }), ['health', 'readiness'])
    registry.register('store', () => store, ['health', 'readiness'])
    registry.register('ingest', () => ({ status: 'affected' }), ['health'])

    assert.deepEqual(registry.names('liveness'), ['ping'])
    assert.deepEqual(registry.names('readiness'), ['libp2p', 'store'])
    assert.deepEqual(registry.names('health'), ['libp2p', 'store', 'ingest'])

    assert.equal(registry.health('liveness').status, 'ready')
    assert.equal(registry.health('readiness').status, 'not_ready')
    assert.deepEqual(Object.keys(registry.health('health').components), ['libp2p', 'store', 'ingest'])
    assert.equal(registry.health('health').status, 'not_ready')

    // Pull based: the next answer reads the component's state again.
    store = { status: 'ready' }
    assert.equal(registry.health('readiness').status, 'ready')
    assert.equal(registry.health('health').status, 'affected')
  })

  it('reports an indicator that throws as panicked with its error, and keeps answering', () => {
    const registry = new HealthRegistry()
    registry.register('broken', () => { throw new Error('boom') })
    registry.register('fine', () => ({ status: 'ready' }))
    const health = registry.health()
    assert.equal(health.status, 'panicked')
    assert.deepEqual(health.components.broken, { status: 'panicked', details: { error: 'boom' } })
    assert.equal(health.components.fine?.status, 'ready')
  })

  it('refuses duplicate and malformed names, and unregisters', () => {
    const registry = new HealthRegistry()
    const remove = registry.register('store', () => ({ status: 'ready' }))
    assert.throws(() => registry.register('store', () => ({ status: 'ready' })), /already registered/)
    assert.throws(() => registry.register('Bad Name', () => ({ status: 'ready' })), /invalid health check name/)
    assert.throws(() => registry.register('', () => ({ status: 'ready' })), /invalid health check name/)
    remove()
    assert.deepEqual(registry.names('health'), [])
    assert.equal(registry.runOne('store'), undefined)
    registry.register('store', () => ({ status: 'ready' }))
    assert.equal(registry.runOne('store')?.health.status, 'ready')
  })

  it('an app with no checks is ready', () => {
    assert.deepEqual(new HealthRegistry().health('readiness'), { status: 'ready', components: {} })
  })
})
