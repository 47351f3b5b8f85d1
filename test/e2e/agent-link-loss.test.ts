import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { startAgentProcess, startAggregatorProcess, type RunningAggregator, type Spawned } from '../support/processes.ts'

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
})
