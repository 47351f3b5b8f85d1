import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CheckResult } from '../../shared/health-registry.ts'
import {
  actuatorAnswer, failureReason, kubernetesAnswer, kubernetesSingleAnswer, parseKubernetesQuery, zkSyncAnswer,
} from '../../shared/probe-formats.ts'

const ping: CheckResult = { name: 'ping', health: { status: 'ready' } }
const bad: CheckResult = { name: 'bad', health: { status: 'not_ready', details: { error: 'this will fail' } } }
const q = (query: Record<string, unknown>): ReturnType<typeof parseKubernetesQuery> => parseKubernetesQuery(query)

describe('Kubernetes /livez and /readyz answers', () => {
  // The cases of k8s.io/apiserver's healthz tests, with our checks.
  const cases: Array<{ query: Record<string, unknown>, checks: CheckResult[], status: number, body: string }> = [
    { query: { verbose: '' }, checks: [ping], status: 200, body: '[+]ping ok\nlivez check passed\n' },
    { query: { exclude: 'dontexist' }, checks: [ping], status: 200, body: 'ok' },
    { query: { exclude: 'bad' }, checks: [ping, bad], status: 200, body: 'ok' },
    { query: { verbose: 'true', exclude: 'bad' }, checks: [ping, bad], status: 200, body: '[+]ping ok\n[+]bad excluded: ok\nlivez check passed\n' },
    { query: { verbose: 'true', exclude: 'dontexist' }, checks: [ping], status: 200, body: '[+]ping ok\nwarn: some health checks cannot be excluded: no matches for "dontexist"\nlivez check passed\n' },
    { query: {}, checks: [ping], status: 200, body: 'ok' },
    { query: { verbose: '' }, checks: [ping, bad], status: 500, body: '[+]ping ok\n[-]bad failed: reason withheld\nlivez check failed\n' },
    { query: {}, checks: [ping, bad], status: 500, body: '[+]ping ok\n[-]bad failed: reason withheld\nlivez check failed\n' },
  ]
  for (const c of cases) {
    it(`${JSON.stringify(c.query)} with ${c.checks.map((x) => x.name).join('+')} -> ${c.status}`, () => {
      const answer = kubernetesAnswer('livez', c.checks, q(c.query))
      assert.equal(answer.statusCode, c.status)
      assert.equal(answer.body, c.body)
    })
  }

  it('repeated ?exclude= excludes several checks; unmatched ones are listed sorted', () => {
    const answer = kubernetesAnswer('readyz', [ping, bad], q({ verbose: '', exclude: ['bad', 'zz', 'aa'] }))
    assert.equal(answer.statusCode, 200)
    assert.equal(answer.body, '[+]ping ok\n[+]bad excluded: ok\nwarn: some health checks cannot be excluded: no matches for "aa","zz"\nreadyz check passed\n')
  })

  it('affected is healthy: the check passes', () => {
    const answer = kubernetesAnswer('readyz', [{ name: 'ingest', health: { status: 'affected' } }], q({}))
    assert.deepEqual(answer, { statusCode: 200, body: 'ok' })
  })

  it('a single check answers ok, or 500 with its reason', () => {
    assert.deepEqual(kubernetesSingleAnswer(ping), { statusCode: 200, body: 'ok' })
    assert.deepEqual(kubernetesSingleAnswer(bad), { statusCode: 500, body: 'internal server error: not_ready: this will fail\n' })
  })

  it('reads ?verbose by presence, as Kubernetes does', () => {
    assert.equal(q({ verbose: 'false' }).verbose, true)
    assert.equal(q({}).verbose, false)
    assert.deepEqual(q({ exclude: ['a', ''] }).exclude, ['a'])
  })
})

describe('zkSync and actuator answers', () => {
  it('zkSync: 200 when ready or affected, 503 otherwise, the body as is', () => {
    assert.equal(zkSyncAnswer({ status: 'ready', components: {} }).statusCode, 200)
    assert.equal(zkSyncAnswer({ status: 'affected', components: {} }).statusCode, 200)
    for (const status of ['not_ready', 'shutting_down', 'shut_down', 'panicked'] as const) {
      const health = { status, components: { x: { status } } }
      assert.deepEqual(zkSyncAnswer(health), { statusCode: 503, body: health })
    }
  })

  it('actuator: UP/DOWN with components, 200/503, our status kept in the details', () => {
    const up = actuatorAnswer({ status: 'affected', components: { ingest: { status: 'affected', details: { rejected: 3 } }, ping: { status: 'ready' } } })
    assert.deepEqual(up, {
      statusCode: 200,
      body: { status: 'UP', components: { ingest: { status: 'UP', details: { rejected: 3, status: 'affected' } }, ping: { status: 'UP', details: { status: 'ready' } } } },
    })
    const down = actuatorAnswer({ status: 'shutting_down', components: { lifecycle: { status: 'shutting_down' } } })
    assert.equal(down.statusCode, 503)
    assert.equal(down.body.status, 'DOWN')
    assert.equal(down.body.components.lifecycle?.status, 'DOWN')
  })

  it('failure reasons use the error or reason in the details', () => {
    assert.equal(failureReason({ status: 'not_ready' }), 'not_ready')
    assert.equal(failureReason({ status: 'panicked', details: { reason: 'stuck' } }), 'panicked: stuck')
    assert.equal(failureReason({ status: 'not_ready', details: { error: 42 } }), 'not_ready')
  })
})
