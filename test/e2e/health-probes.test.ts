import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { get } from '../support/health.ts'
import { AGENT_BIN, AGGREGATOR_BIN, Spawned, startAgentProcess, startAggregatorProcess, tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const cleanups: Array<() => Promise<void>> = []
after(async () => { for (const c of cleanups.reverse()) await c().catch(() => {}) })

describe('probes through the executables', () => {
  it('SIGTERM: the aggregator turns unready, keeps serving through --shutdown-drain, then exits 0', async () => {
    const aggregator = await startAggregatorProcess({ args: ['--shutdown-drain', '3s'] })
    cleanups.push(async () => { await aggregator.process.stop() })
    const { url } = aggregator
    assert.equal((await get(`${url}/readyz`)).status, 200)

    const signalledAt = Date.now()
    aggregator.process.kill('SIGTERM')
    await aggregator.process.waitForLog((l) => l.msg === 'readiness is down; draining before closing the listeners')
    const readyz = await get(`${url}/readyz?verbose`)
    assert.equal(readyz.status, 500)
    assert.match(readyz.text, /^\[-\]lifecycle failed: reason withheld$/m)
    assert.equal((await get(`${url}/livez`)).status, 200, 'alive while draining')
    assert.equal((await get(`${url}/api/v1/fleet`)).status, 200, 'still serving while draining')

    const { code } = await aggregator.process.exited
    assert.equal(code, 0)
    assert.ok(Date.now() - signalledAt >= 2_900, 'exited after the drain, not before')
  })

  it('the agent serves its probes with --health-listen and stops cleanly', async () => {
    const aggregator = await startAggregatorProcess({ args: ['--shutdown-drain', '0'] })
    cleanups.push(async () => { await aggregator.process.stop() })
    const agent = startAgentProcess(aggregator.multiaddr, ['--beat-period', '500ms', '--health-listen', '127.0.0.1:0'])
    cleanups.push(async () => { await agent.stop() })
    const listening = await agent.waitForLog((l) => l.msg === 'health endpoints listening')
    const url = listening.url as string
    await waitFor(async () => (await get(`${url}/readyz`)).status === 200, { what: 'the agent to be ready', timeoutMs: 15_000 })
    assert.equal((await get(`${url}/livez`)).text, 'ok')
    const health = JSON.parse((await get(`${url}/health`)).text) as { status: string, components: Record<string, unknown> }
    assert.equal(health.status, 'ready')
    assert.ok('heartbeat_primary' in health.components && 'chain_source' in health.components)
    assert.match((await get(`${url}/metrics`)).text, /^heartbeat_agent_beats_sent_total\{service="primary"\} [1-9]/m)
    agent.kill('SIGTERM')
    assert.equal((await agent.exited).code, 0)
  })

  it('bad --health-listen and --shutdown-drain are clear start-up errors (exit 2)', async () => {
    const agent = new Spawned(AGENT_BIN, ['--target', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWEmZyd9i1Tn5ZbeWAuctwb8T8dwUydhbjgcFRusCbURhh', '--key-file', `${tempDir()}/k`, '--health-listen', 'nowhere'])
    assert.equal((await agent.exited).code, 2)
    assert.match(agent.stderr, /invalid --health-listen "nowhere": expected HOST:PORT/)
    assert.doesNotMatch(agent.stderr, /\n\s+at /, 'no stack trace')

    const aggregator = new Spawned(AGGREGATOR_BIN, ['--data-dir', tempDir(), '--http', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0', '--shutdown-drain', 'soon'])
    assert.equal((await aggregator.exited).code, 2)
    assert.match(aggregator.stderr, /invalid --shutdown-drain "soon"/)
  })
})
