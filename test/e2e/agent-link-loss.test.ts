import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { startAgentProcess, startAggregatorProcess, type RunningAggregator, type Spawned } from '../support/processes.ts'
import { freePort } from '../support/ports.ts'
import { waitFor } from '../support/wait.ts'

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

/**
 * The agent's log says what it knows about a lost stream (docs/delivery.md):
 * an aggregator that goes silent (SIGSTOP: nothing is closed, nothing
 * answers, as in a network partition) is "no answer for N s", never "closed
 * by the aggregator"; an aggregator that stops does close, and is named so.
 */
describe('agent executable: a lost link is described as what it was', () => {
  it('silence (SIGSTOP) is "no answer from the aggregator for 10 s"; a stop of the aggregator is its close', async () => {
    const aggregator: RunningAggregator = await startAggregatorProcess()
    cleanup.push(async () => {
      aggregator.process.proc.kill('SIGCONT')
      await aggregator.process.stop()
    })
    const agent: Spawned = startAgentProcess(aggregator.multiaddr, ['--beat-period', '1s', '--source', 'demo'])
    cleanup.push(async () => { await agent.stop() })
    await agent.waitForLog((l) => l.msg === 'heartbeat stream open', 30_000)

    aggregator.process.proc.kill('SIGSTOP')
    const silent = await agent.waitForLog((l) => /reconnecting$/.test(String(l.msg)), 60_000)
    assert.match(String(silent.msg), /^no answer from the aggregator at \S+ for 10 s \(the connection ping went unanswered\); reconnecting$/)
    assert.equal(silent.level, 'warn')
    assert.equal(silent.byRemote, false)
    assert.equal(agent.lines.some((l) => /closed by the aggregator/.test(String(l.msg))), false, 'nothing was closed by anyone')

    aggregator.process.proc.kill('SIGCONT')
    await agent.waitForLog((l) => l.msg === 'heartbeat stream open' && agent.lines.filter((x) => x.msg === 'heartbeat stream open').length >= 2, 60_000)

    await aggregator.process.stop()
    const closed = await agent.waitForLog((l) => l !== silent && /reconnecting$/.test(String(l.msg)), 30_000)
    assert.equal(closed.byRemote, true, `the aggregator's own stop ends the stream from its side: ${String(closed.msg)}`)
    assert.match(String(closed.msg), /^heartbeat stream (closed|reset) by the aggregator; reconnecting$/)
  })

  it('--unreachable-after: one ERROR naming the aggregator and the cause once it crosses, and the target on /metrics', async () => {
    const port = await freePort()
    const healthPort = await freePort()
    const target = `/ip4/127.0.0.1/tcp/${port}/p2p/12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc`
    const agent = startAgentProcess(target, ['--source', 'demo', '--unreachable-after', '2s', '--reconnect-period', '500ms', '--health-listen', `127.0.0.1:${healthPort}`], { HEARTBEAT_AGENT_LOG_LEVEL: 'info' })
    cleanup.push(async () => { await agent.stop() })
    const error = await agent.waitForLog((l) => l.level === 'error' && String(l.msg).startsWith('aggregator '), 30_000)
    assert.equal(error.msg, `aggregator ${target} unreachable for 2s: connection refused at ${target}: is the aggregator running and listening there?`)
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text()
      return /heartbeat_agent_target_unreachable_seconds\{[^}]*\} [3-9]/.test(text) ? text : undefined
    }, { timeoutMs: 15_000, what: 'the outage on /metrics' })
    assert.match(metrics, new RegExp(`heartbeat_agent_target_up\\{service="primary",target="${target}"\\} 0`))
    assert.equal(agent.lines.filter((l) => l.level === 'error' && String(l.msg).startsWith('aggregator ')).length, 1, 'once per outage')
  })
})
