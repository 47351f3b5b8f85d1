// Reconnects are not failures, through the real executables: an agent killed
// with -9 and started again on the same key (a crash and a supervisor's
// restart) reconnects; its history says disconnected (and down, when the
// restart took longer than the grace) and then healthy, never stale: the
// silence after a reconnect counts from the new connection, not from the
// last beat before the gap.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { AGENT_BIN, fetchJson, Spawned, startAggregatorProcess, storeFlushed, tempDir, type RunningAggregator } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

/** Short, so the restart takes longer than the silence phi would call stale (about two periods) if it judged across the gap. */
const PERIOD = '1s'
const RECONNECTS = 3

interface Change { from: string | null, to: string, reason: string, at: string }

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

describe('reconnects in the history', () => {
  it(`${RECONNECTS} reconnects of an agent leave no stale in its history`, { timeout: 180_000 }, async () => {
    const aggregator: RunningAggregator = await startAggregatorProcess()
    cleanup.push(async () => { await aggregator.process.stop() })
    const keyFile = join(tempDir('hb-agent-'), 'agent.key')
    const start = (): Spawned => new Spawned(AGENT_BIN, ['--target', aggregator.multiaddr, '--key-file', keyFile, '--source', 'demo', '--beat-period', PERIOD, '--nickname', 'reconnecting'])
    let agent = start()
    cleanup.push(async () => { await agent.stop() })
    const peerId = (await agent.waitForLog((l) => l.msg === 'heartbeat agent started', 30_000)).peerId as string
    const node = async (): Promise<{ status: string, beats: number, connected: boolean, phi: number | null }> => await fetchJson(`${aggregator.url}/api/v1/nodes/${peerId}`)
    // The failure detector warmed up (phi, not the fallback rule): what would judge the gap if anything did.
    const warmed = async (): Promise<boolean> => { const n = await node(); return n.status === 'healthy' && n.connected && n.phi !== null }
    await waitFor(warmed, { timeoutMs: 30_000, what: 'a healthy node with phi' })

    for (let i = 0; i < RECONNECTS; i++) {
      agent.kill('SIGKILL')
      await agent.exited
      await waitFor(async () => !(await node()).connected, { timeoutMs: 10_000, intervalMs: 50, what: 'the disconnect seen' })
      agent = start()
      await waitFor(warmed, { timeoutMs: 30_000, what: `healthy again with phi after reconnect ${i + 1}` })
    }

    await storeFlushed(aggregator.url)
    const history = await fetchJson<{ statuses: Change[] }>(`${aggregator.url}/api/v1/nodes/${peerId}/history?since=0&until=${Date.now() + 60_000}`)
    const path = history.statuses.map((c) => c.to)
    assert.deepEqual(path.filter((s) => s === 'stale'), [], `no stale: ${history.statuses.map((c) => `${c.from} -> ${c.to} (${c.reason})`).join('; ')}`)
    assert.equal(path.filter((s) => s === 'healthy').length, RECONNECTS + 1, `back to healthy after each reconnect: ${path.join(' -> ')}`)
    for (let i = 0; i < path.length; i++) {
      if (path[i] === 'healthy') continue
      assert.ok(path[i] === 'degraded' || path[i] === 'down', `only disconnected (degraded) and down between: ${path.join(' -> ')}`)
    }
  })
})
