import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { startAgentProcess, startAggregatorProcess, type Spawned } from '../support/processes.ts'
import { hostPort, query, startPrometheus } from '../support/prometheus.ts'
import { waitFor } from '../support/wait.ts'

const cleanups: Array<() => Promise<void>> = []
after(async () => { for (const c of cleanups.reverse()) await c().catch(() => {}) })

describe('a real Prometheus scrapes the aggregator and the agent', () => {
  it('returns the fleet metrics through its query API', async () => {
    const aggregator = await startAggregatorProcess()
    cleanups.push(async () => { await aggregator.process.stop() })
    const agent: Spawned = startAgentProcess(aggregator.multiaddr, ['--nickname', 'prom-1', '--beat-period', '500ms', '--health-listen', '127.0.0.1:0'])
    cleanups.push(async () => { await agent.stop() })
    const agentStarted = await agent.waitForLog((l) => l.msg === 'heartbeat agent started')
    const agentHealth = await agent.waitForLog((l) => l.msg === 'health endpoints listening')
    const agentPeerId = agentStarted.peerId as string

    const server = await startPrometheus({
      'heartbeat-aggregator': hostPort(aggregator.url),
      'heartbeat-agent': hostPort(agentHealth.url as string),
    })
    cleanups.push(server.stop)
    const prometheus = server.url

    const healthy = await waitFor(async () => {
      const r = await query(prometheus, 'heartbeat_fleet_nodes{status="healthy"}')
      return r[0]?.value === 1 && r
    }, { what: 'heartbeat_fleet_nodes{status="healthy"} == 1 in Prometheus', timeoutMs: 60_000, intervalMs: 500 })
    assert.equal(healthy[0]?.metric.job, 'heartbeat-aggregator')

    const height = await query(prometheus, 'heartbeat_node_height')
    assert.equal(height.length, 1)
    assert.equal(height[0]?.metric.peer_id, agentPeerId)
    assert.equal(height[0]?.metric.nickname, 'prom-1')
    assert.ok((height[0]?.value ?? 0) > 0)

    // Both targets scraped successfully (Prometheus spreads first scrapes over the interval: wait for both).
    const up = await waitFor(async () => {
      const r = await query(prometheus, 'up == 1')
      return r.length === 2 && r
    }, { what: 'up == 1 for both jobs', timeoutMs: 30_000, intervalMs: 500 })
    assert.deepEqual(up.map((r) => r.metric.job).sort(), ['heartbeat-agent', 'heartbeat-aggregator'])

    const beats = await waitFor(async () => {
      const r = await query(prometheus, 'heartbeat_agent_beats_sent_total{service="primary"}')
      return (r[0]?.value ?? 0) > 0 && r
    }, { what: 'agent beats in Prometheus', timeoutMs: 30_000, intervalMs: 500 })
    assert.equal(beats[0]?.metric.job, 'heartbeat-agent')
  })
})
