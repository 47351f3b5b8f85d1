import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { importHealthDocument, mapRemoteStatus } from '../../agent/checks/health.ts'
import { applyLevel, outcomeComponents } from '../../agent/checks/result.ts'
import { CheckFailure } from '../../agent/checks/types.ts'
import { fitHealth } from '../../agent/component-limits.ts'
import { ErrorCodes } from '../../shared/errors.ts'
import type { ComponentHealth } from '../../shared/health.ts'
import { LIMITS } from '../../shared/protocol.ts'

const AT = Date.UTC(2025, 0, 1)

describe('check outcomes as components', () => {
  it('a failed core check is not_ready, a failed auxiliary one affected, with the error and timing', () => {
    const error = new CheckFailure(ErrorCodes.BAD_ANSWER, 'http://x answered HTTP 503', { httpStatus: 503 })
    const core = outcomeComponents({ name: 'api', level: 'core', slowMs: 500 }, { ok: false, error, latencyMs: 12.4, at: AT })
    assert.deepEqual(core, {
      api: {
        status: 'not_ready',
        details: { error: 'http://x answered HTTP 503', code: ErrorCodes.BAD_ANSWER, httpStatus: 503, latencyMs: 12, checkedAt: new Date(AT).toISOString() },
      },
    })
    const aux = outcomeComponents({ name: 'api', level: 'auxiliary', slowMs: 500 }, { ok: false, error, latencyMs: 12, at: AT })
    assert.equal(aux.api?.status, 'affected')
  })

  it('a slow success stays ready and says so', () => {
    const out = outcomeComponents({ name: 'p2p', level: 'core', slowMs: 500 }, { ok: true, result: { status: 'ready' }, latencyMs: 800, at: AT })
    assert.deepEqual(out.p2p, { status: 'ready', details: { latencyMs: 800, checkedAt: new Date(AT).toISOString(), slow: true } })
  })

  it('imports components as CHECK/NAME and caps them at affected for an auxiliary check', () => {
    const result = {
      status: 'not_ready' as const,
      details: { httpStatus: 503 },
      components: { db: { status: 'not_ready' as const, details: { pool: 0 } }, cache: { status: 'ready' as const } },
    }
    const core = outcomeComponents({ name: 'node', level: 'core', slowMs: 500 }, { ok: true, result, latencyMs: 5, at: AT })
    assert.equal(core.node?.status, 'not_ready')
    assert.deepEqual(core['node/db'], { status: 'not_ready', details: { pool: 0 } })
    assert.deepEqual(core['node/cache'], { status: 'ready' })
    const aux = outcomeComponents({ name: 'node', level: 'auxiliary', slowMs: 500 }, { ok: true, result, latencyMs: 5, at: AT })
    assert.deepEqual(aux.node, { status: 'affected', details: { httpStatus: 503, latencyMs: 5, checkedAt: new Date(AT).toISOString(), reportedStatus: 'not_ready' } })
    assert.deepEqual(aux['node/db'], { status: 'affected', details: { pool: 0, reportedStatus: 'not_ready' } })
  })

  it('levels: core passes statuses through, auxiliary caps unhealthy ones at affected', () => {
    assert.equal(applyLevel('panicked', 'core'), 'panicked')
    assert.equal(applyLevel('panicked', 'auxiliary'), 'affected')
    assert.equal(applyLevel('ready', 'auxiliary'), 'ready')
  })
})

describe('importing a /health document', () => {
  it("keeps a zkSync document's statuses and details", () => {
    const doc = {
      status: 'affected',
      components: {
        sync_state: { status: 'ready', details: { is_synced: true, local_block: 91, main_node_block: 91 } },
        tree: { status: 'affected', details: { stage: 'main_loop' } },
        ws_api: { status: 'ready' },
      },
    }
    assert.deepEqual(importHealthDocument(doc), {
      status: 'affected',
      components: {
        sync_state: { status: 'ready', details: { is_synced: true, local_block: 91, main_node_block: 91 } },
        tree: { status: 'affected', details: { stage: 'main_loop' } },
        ws_api: { status: 'ready' },
      },
      omitted: 0,
    })
  })

  it('maps a Spring actuator document and flattens its groups', () => {
    const doc = {
      status: 'DOWN',
      components: {
        db: { status: 'UP', details: { database: 'PostgreSQL' } },
        diskSpace: { status: 'DOWN', details: { free: 1 } },
        broker: { status: 'UP', components: { kafka: { status: 'OUT_OF_SERVICE' }, rabbit: { status: 'UNKNOWN' } } },
      },
    }
    assert.deepEqual(importHealthDocument(doc), {
      status: 'not_ready',
      components: {
        db: { status: 'ready', details: { database: 'PostgreSQL' } },
        diskSpace: { status: 'not_ready', details: { free: 1 } },
        'broker/kafka': { status: 'shut_down' },
        'broker/rabbit': { status: 'affected' },
      },
      omitted: 0,
    })
    assert.equal(mapRemoteStatus('up'), 'ready')
    assert.equal(mapRemoteStatus('INIT'), 'not_ready')
    assert.equal(mapRemoteStatus('WARMING'), undefined)
  })

  it('imports at most the limit and counts the rest', () => {
    const components = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`c${i}`, { status: 'UP' }]))
    const imported = importHealthDocument({ status: 'UP', components }, 16)
    assert.equal(Object.keys(imported.components).length, 16)
    assert.equal(imported.omitted, 4)
  })

  it('refuses what is not a health document, naming the field', () => {
    for (const [doc, field] of [
      [{ components: {} }, /status/],
      [{ status: 'GREEN' }, /status: not a known status/],
      [{ status: 'UP', components: { db: { status: 'MAYBE' } } }, /components\.db\.status/],
      [[1, 2], /expected object/],
    ] as const) {
      assert.throws(() => importHealthDocument(doc), (err: CheckFailure) => {
        assert.equal(err.code, ErrorCodes.BAD_ANSWER)
        assert.match(err.message, field)
        return true
      })
    }
  })
})

describe('fitting health into a heartbeat', () => {
  it('keeps every component and detail that fits, unchanged', () => {
    const components: Record<string, ComponentHealth> = { chain_source: { status: 'ready', details: { height: 1 } }, api: { status: 'affected' } }
    assert.deepEqual(fitHealth(components, ['chain_source']), { status: 'affected', components })
  })

  it('cuts oversized details but keeps the error, and drops the mildest components past the limit', () => {
    const components: Record<string, ComponentHealth> = {
      big: { status: 'not_ready', details: { error: 'boom', blob: 'x'.repeat(LIMITS.detailsBytes) } },
      chain_source: { status: 'ready' },
    }
    for (let i = 0; i < LIMITS.componentCount + 10; i++) components[`ok${String(i).padStart(3, '0')}`] = { status: 'ready' }
    components.zz_panicked = { status: 'panicked' }
    const fitted = fitHealth(components, ['chain_source'])
    assert.equal(Object.keys(fitted.components).length, LIMITS.componentCount)
    assert.equal(fitted.status, 'panicked')
    assert.ok(fitted.components.chain_source, 'the named ones are kept first')
    assert.ok(fitted.components.zz_panicked, 'then the worst ones')
    assert.deepEqual(fitted.components.big, { status: 'not_ready', details: { truncated: true, detailsBytes: JSON.stringify(components.big?.details).length, error: 'boom' } })
  })

  it('the app status counts components that had to be dropped', () => {
    const components: Record<string, ComponentHealth> = {}
    for (let i = 0; i < LIMITS.componentCount; i++) components[`keep${i}`] = { status: 'ready' }
    components.dropped = { status: 'affected' }
    const fitted = fitHealth(components, Object.keys(components).filter((n) => n !== 'dropped'))
    assert.equal(fitted.components.dropped, undefined)
    assert.equal(fitted.status, 'affected')
  })

  it('replaces details that are not JSON', () => {
    const fitted = fitHealth({ x: { status: 'ready', details: { n: 1n } } })
    assert.deepEqual(fitted.components.x, { status: 'ready', details: { unserializable: true } })
  })
})
