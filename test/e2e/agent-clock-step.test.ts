import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { SteppedWallClock } from '../support/faketime.ts'
import { fetchJson, startAgentProcess, startAggregatorProcess, type RunningAggregator, type Spawned } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const BEAT_MS = 500
const TEN_MINUTES_S = 600

interface NodeView { seq: number, status: string, reason: string }

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

/**
 * An agent whose machine's wall clock steps, as NTP steps a clock that ran
 * ahead: the executable runs under libfaketime with the offset read from a
 * file on every call (FAKETIME_TIMESTAMP_FILE + FAKETIME_NO_CACHE) and the
 * monotonic clock left real (FAKETIME_DONT_FAKE_MONOTONIC=1). Beats must keep
 * coming at the period through a step back and a step forward of 10 minutes,
 * and each step is logged once as a WARN with its size.
 */
describe('agent executable under libfaketime: wall clock steps of -10 min and +10 min', () => {
  it('keeps beating at its period and says each step once', async () => {
    const aggregator: RunningAggregator = await startAggregatorProcess()
    cleanup.push(async () => { await aggregator.process.stop() })
    const wall = new SteppedWallClock()
    const agent: Spawned = startAgentProcess(aggregator.multiaddr, ['--source', 'demo', '--beat-period', `${BEAT_MS}ms`], wall.env)
    cleanup.push(async () => { await agent.stop() })
    const peerId = (await agent.waitForLog((l) => l.msg === 'heartbeat agent started', 30_000)).peerId as string
    const node = async (): Promise<NodeView> => await fetchJson<NodeView>(`${aggregator.url}/api/v1/nodes/${peerId}`)
    await waitFor(async () => (await node()).status === 'healthy', { timeoutMs: 15_000, what: 'a healthy node' })

    /** Beats keep coming: seq rises by `beats` within a few periods' time (they would stop for 10 minutes otherwise). */
    const keepsBeating = async (beats: number): Promise<void> => {
      const from = (await node()).seq
      const started = performance.now()
      await waitFor(async () => (await node()).seq >= from + beats, { timeoutMs: beats * BEAT_MS * 4, intervalMs: 100, what: `${beats} more beats` })
      const tookMs = performance.now() - started
      assert.ok(tookMs >= (beats - 1) * BEAT_MS, `one beat per period, not a burst (${beats} beats in ${Math.round(tookMs)} ms)`)
      const view = await node()
      assert.ok(view.status !== 'stale' && view.status !== 'down', `still beating: ${view.status} ${view.reason}`)
    }
    const stepWarnings = (): number => agent.lines.filter((l) => l.level === 'warn' && String(l.msg).startsWith('the wall clock stepped')).length

    await keepsBeating(4)
    wall.set(-TEN_MINUTES_S)
    const back = await agent.waitForLog((l) => l.level === 'warn' && String(l.msg).startsWith('the wall clock stepped back'), 10_000)
    assert.match(String(back.msg), /^the wall clock stepped back by 10m0s: beats and every interval run on the monotonic clock/)
    assert.ok(Math.abs((back.stepMs as number) + TEN_MINUTES_S * 1000) < 1_000, `its size: ${String(back.stepMs)} ms`)
    await keepsBeating(6)

    wall.set(0)
    const forward = await agent.waitForLog((l) => l.level === 'warn' && String(l.msg).startsWith('the wall clock stepped forward'), 10_000)
    assert.match(String(forward.msg), /^the wall clock stepped forward by 10m0s/)
    await keepsBeating(6)
    assert.equal(stepWarnings(), 2, 'each step once, not once per beat')
  })
})
