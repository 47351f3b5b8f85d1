import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import type { Agent } from '../../agent/agent.ts'
import { AgentHealthServer } from '../../agent/health-server.ts'
import { createAgentHost } from '../../agent/host.ts'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import { HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import { parseMultiaddr } from '../../shared/target.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { startTestAgent, type TestAgentOptions, weighted } from '../support/agents.ts'
import { get, getJson } from '../support/health.ts'
import { waitFor } from '../support/wait.ts'

const cleanups: Array<() => Promise<void>> = []
after(async () => { for (const c of cleanups.reverse()) await c().catch(() => {}) })

async function aggregator (options: Parameters<typeof startTestAggregator>[0] = {}): Promise<Aggregator> {
  const agg = await startTestAggregator(options)
  cleanups.push(async () => { await agg.stop() })
  return agg
}

async function agent (target: string, options: TestAgentOptions = {}): Promise<Agent> {
  const a = await startTestAgent({ targets: [weighted(target)], reconnectPeriodMs: 300, ...options })
  cleanups.push(async () => { await a.stop() })
  return a
}

describe('aggregator probe endpoints over real HTTP', () => {
  it('/health, /livez, /readyz and the actuator answer in their shapes while it runs', async () => {
    const agg = await aggregator()
    const health = await getJson(`${agg.url}/health`)
    assert.equal(health.status, 200)
    assert.equal(health.body.status, 'ready')
    assert.deepEqual(Object.keys(health.body.components), ['lifecycle', 'libp2p', 'http', 'ingest', 'store'])
    assert.equal(health.body.components.store.status, 'ready')
    assert.equal(health.body.components.store.details.backend, 'sqlite')
    assert.deepEqual(health.body.components.libp2p.details.addresses, agg.multiaddrs())
    assert.equal(health.body.components.libp2p.details.connections, 0)
    assert.equal(health.body.components.http.details.url, agg.url)

    assert.deepEqual(await get(`${agg.url}/livez`), { status: 200, contentType: 'text/plain; charset=utf-8', text: 'ok' })
    assert.deepEqual(await get(`${agg.url}/readyz`), { status: 200, contentType: 'text/plain; charset=utf-8', text: 'ok' })
    assert.equal((await get(`${agg.url}/livez?verbose`)).text, '[+]ping ok\nlivez check passed\n')
    assert.equal((await get(`${agg.url}/readyz?verbose`)).text, '[+]lifecycle ok\n[+]libp2p ok\n[+]http ok\nreadyz check passed\n')
    assert.equal((await get(`${agg.url}/readyz?verbose&exclude=http`)).text, '[+]lifecycle ok\n[+]libp2p ok\n[+]http excluded: ok\nreadyz check passed\n')
    assert.deepEqual(await get(`${agg.url}/readyz/libp2p`), { status: 200, contentType: 'text/plain; charset=utf-8', text: 'ok' })
    assert.equal((await get(`${agg.url}/readyz/ping`)).status, 404, 'a liveness check is not a readiness check')
    assert.equal((await get(`${agg.url}/livez/nope`)).status, 404)
    const head = await fetch(`${agg.url}/readyz`, { method: 'HEAD', signal: AbortSignal.timeout(5_000) })
    assert.equal(head.status, 200, 'probes that send HEAD get the same status')

    const liveness = await getJson(`${agg.url}/actuator/health/liveness`)
    assert.deepEqual(liveness, { status: 200, contentType: 'application/json; charset=utf-8', body: { status: 'UP', components: { ping: { status: 'UP', details: { status: 'ready' } } } } })
    const readiness = await getJson(`${agg.url}/actuator/health/readiness`)
    assert.equal(readiness.status, 200)
    assert.equal(readiness.body.status, 'UP')
    assert.deepEqual(Object.keys(readiness.body.components), ['lifecycle', 'libp2p', 'http'])
    assert.equal((await getJson(`${agg.url}/actuator/health`)).body.components.ingest.status, 'UP')

    const info = await getJson(`${agg.url}/actuator/info`)
    assert.equal(info.status, 200)
    assert.equal(info.body.app.name, 'heartbeat-aggregator')
    assert.equal(info.body.libp2p.peerId, agg.peerId)
    assert.deepEqual(info.body.libp2p.multiaddrs, agg.multiaddrs())
    assert.match(info.body.libp2p.version, /^\d+\.\d+\.\d+/)
    assert.equal(info.body.runtime.node, process.version)
    assert.equal(typeof info.body.process.uptimeSeconds, 'number')
    assert.deepEqual(info.body.config.listen, ['/ip4/127.0.0.1/tcp/0'])
    assert.ok(!('privateKey' in info.body.config) || info.body.config.privateKey === '[redacted]')
    assert.ok(!JSON.stringify(info.body).includes('"logger"'), 'no logger internals in the configuration')
  })

  it('fleet health follows the nodes: pass, fail (503) when one reports unhealthy, warn after a graceful stop', async () => {
    // Component details (the disk error below) are shown to everyone only with --details always (docs/security.md).
    const agg = await aggregator({ exposure: { details: 'always' } })
    const empty = await getJson(`${agg.url}/api/v1/fleet/health`)
    assert.equal(empty.status, 200)
    assert.equal(empty.contentType, 'application/health+json; charset=utf-8')
    assert.equal(empty.body.status, 'warn')

    const good = await agent(agg.multiaddrs()[0] as string, { nickname: 'good' })
    const fleetHealth = async (): Promise<any> => (await getJson(`${agg.url}/api/v1/fleet/health`))
    const passing = await waitFor(async () => { const r = await fleetHealth(); return r.body.status === 'pass' && r }, { what: 'a passing fleet' })
    assert.equal(passing.status, 200)
    assert.equal(passing.body.serviceId, agg.peerId)
    assert.equal(passing.body.checks[`node:${good.peerId}`][0].componentId, good.peerId)
    assert.equal(passing.body.checks[`${good.peerId}:chain_source`][0].status, 'pass')

    const sick = await agent(agg.multiaddrs()[0] as string, { nickname: 'sick', components: () => ({ disk: { status: 'not_ready', details: { error: 'disk full' } } }) })
    const failing = await waitFor(async () => { const r = await fleetHealth(); return r.body.status === 'fail' && r }, { what: 'a failing fleet' })
    assert.equal(failing.status, 503)
    assert.equal(failing.body.checks[`node:${sick.peerId}`][0].status, 'fail')
    assert.equal(failing.body.checks[`${sick.peerId}:disk`][0].output, 'not_ready: disk full')
    assert.equal(failing.body.checks[`node:${good.peerId}`][0].status, 'pass')

    // The aggregator's own health never depends on the fleet's.
    assert.equal((await get(`${agg.url}/livez`)).status, 200)
    assert.equal((await getJson(`${agg.url}/health`)).body.status, 'ready')

    await sick.stop()
    const warned = await waitFor(async () => { const r = await fleetHealth(); return r.body.checks[`node:${sick.peerId}`]?.[0].status === 'warn' && r }, { what: 'the stopped node to warn' })
    assert.equal(warned.status, 200)
    assert.equal(warned.body.status, 'warn')
    assert.match(warned.body.checks[`node:${sick.peerId}`][0].output, /graceful stop/)
  })

  it('ingest turns affected while most streams are rejected; the aggregator stays healthy (200)', async () => {
    const agg = await aggregator()
    const host = await createAgentHost(await generateKeyPair('Ed25519'), { dialTimeoutMs: 5_000 })
    cleanups.push(async () => { await host.stop() })
    const target = parseMultiaddr(agg.multiaddrs()[0] as string)
    for (let i = 1; i <= 25; i++) {
      const stream = await host.dialProtocol(target, HEARTBEAT_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
      // 0xff is a CBOR "break" with nothing to break: not a heartbeat.
      await lpStream(stream).write(Uint8Array.from([0xff]), { signal: AbortSignal.timeout(5_000) })
      await waitFor(() => agg.inspect().ingest.totalRejected() >= i, { what: `rejection ${i}` })
    }
    const health = await getJson(`${agg.url}/health`)
    assert.equal(health.status, 200, 'affected is still healthy')
    assert.equal(health.body.status, 'affected')
    assert.equal(health.body.components.ingest.status, 'affected')
    assert.equal(health.body.components.ingest.details.rejected, 25)
    assert.match(health.body.components.ingest.details.error, /rejected 25 of 25/)
    assert.equal((await get(`${agg.url}/readyz`)).status, 200, 'hostile input does not take it out of service')
  })

  it('on shutdown readiness turns DOWN first, liveness stays up through the drain, then the listeners close', async () => {
    const drainMs = 3_000
    const agg = await startTestAggregator({ shutdownDrainMs: drainMs })
    const url = agg.url
    const started = Date.now()
    const stopped = agg.shutdown()
    try {
      const readyz = await get(`${url}/readyz?verbose`)
      assert.equal(readyz.status, 500)
      assert.equal(readyz.text, '[-]lifecycle failed: reason withheld\n[+]libp2p ok\n[+]http ok\nreadyz check failed\n')
      assert.deepEqual(await get(`${url}/readyz/lifecycle`), { status: 500, contentType: 'text/plain; charset=utf-8', text: 'internal server error: shutting_down: shutting down: draining before the listeners close\n' })
      assert.equal((await get(`${url}/livez`)).status, 200)
      const readiness = await getJson(`${url}/actuator/health/readiness`)
      assert.equal(readiness.status, 503)
      assert.equal(readiness.body.status, 'DOWN')
      assert.equal((await getJson(`${url}/actuator/health/liveness`)).body.status, 'UP')
      const health = await getJson(`${url}/health`)
      assert.equal(health.status, 503)
      assert.equal(health.body.status, 'shutting_down')
      assert.equal((await get(`${url}/api/v1/fleet`)).status, 200, 'still serving while it drains')
    } finally {
      await stopped
    }
    assert.ok(Date.now() - started >= drainMs - 50, 'the drain lasted its delay')
    await assert.rejects(get(`${url}/livez`), 'closed after the drain')
  })
})

describe('agent --health-listen endpoints over real HTTP', () => {
  it('readiness follows the connection to a target; liveness does not', async () => {
    const agg = await startTestAggregator()
    let aggStopped = false
    cleanups.push(async () => { if (!aggStopped) await agg.stop() })
    const a = await agent(agg.multiaddrs()[0] as string, { nickname: 'sidecar' })
    const server = new AgentHealthServer({ agent: a, host: '127.0.0.1', port: 0, config: { nickname: 'sidecar', authToken: 'x' }, processMetrics: false })
    cleanups.push(async () => { await server.close() })
    await server.start()
    const url = server.url

    // Started but not yet declared running: not ready, alive.
    assert.equal((await get(`${url}/readyz?verbose`)).text.split('\n')[0], '[-]lifecycle failed: reason withheld')
    assert.equal((await get(`${url}/livez`)).status, 200)
    server.running()

    await waitFor(async () => (await get(`${url}/readyz`)).status === 200, { what: 'the agent to be ready' })
    assert.equal((await get(`${url}/readyz?verbose`)).text, '[+]lifecycle ok\n[+]targets ok\nreadyz check passed\n')
    assert.equal((await get(`${url}/livez?verbose`)).text, '[+]ping ok\n[+]chain_poll_loop ok\nlivez check passed\n')
    const health = await getJson(`${url}/health`)
    assert.equal(health.status, 200)
    assert.deepEqual(Object.keys(health.body.components), ['lifecycle', 'chain_source', 'heartbeat_primary'])
    assert.equal(health.body.components.heartbeat_primary.status, 'ready')
    const info = await getJson(`${url}/actuator/info`)
    assert.equal(info.body.app.name, 'heartbeat-agent')
    assert.equal(info.body.libp2p.peerId, a.peerId)
    assert.equal(info.body.config.authToken, '[redacted]')

    // The target goes away: not ready, still alive (a restart would not bring the aggregator back).
    await agg.stop()
    aggStopped = true
    await waitFor(async () => (await get(`${url}/readyz`)).status === 500, { what: 'the agent to turn unready' })
    assert.equal((await get(`${url}/readyz?verbose`)).text, '[+]lifecycle ok\n[-]targets failed: reason withheld\nreadyz check failed\n')
    assert.equal((await get(`${url}/livez`)).status, 200)
    const down = await getJson(`${url}/health`)
    assert.equal(down.status, 503)
    assert.equal(down.body.components.heartbeat_primary.status, 'not_ready')
    assert.equal((await getJson(`${url}/actuator/health/readiness`)).status, 503)

    server.draining()
    assert.equal((await getJson(`${url}/actuator/health/readiness`)).body.components.lifecycle.status, 'DOWN')
  })
})
