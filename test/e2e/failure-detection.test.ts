// Failure detection through the real executables: an agent killed with -9
// (the kernel closes its connection) turns `down` within the grace plus a
// second; an agent frozen with SIGSTOP (its connection stays open, it just
// goes silent) turns `stale` within three beat periods, without any
// disconnect being seen, and recovers after SIGCONT.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { fetchJson, startAgentProcess, startAggregatorProcess, type RunningAggregator, type Spawned } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

interface NodeJson { peerId: string, nickname: string, status: string, reason: string, connected: boolean, phi: number | null, beats: number }

const POLL_MS = 50

async function nodeNamed (aggregator: RunningAggregator, nickname: string): Promise<NodeJson | undefined> {
  const fleet = await fetchJson<{ nodes: NodeJson[] }>(`${aggregator.url}/api/v1/fleet`)
  return fleet.nodes.find((n) => n.nickname === nickname)
}

/** Waits until the node runs healthy with a warmed-up failure detector (phi, not the fallback rule). */
async function warmedUp (aggregator: RunningAggregator, nickname: string, periodMs: number): Promise<NodeJson> {
  return await waitFor(async () => {
    const n = await nodeNamed(aggregator, nickname)
    return n !== undefined && n.status === 'healthy' && n.phi !== null ? n : undefined
  }, { what: `${nickname} healthy with phi`, timeoutMs: 10 * periodMs + 15_000, intervalMs: 200 })
}

function stillRunning (agent: Spawned): boolean {
  return agent.proc.exitCode === null && agent.proc.signalCode === null
}

describe('failure detection end to end', () => {
  let aggregator: RunningAggregator

  before(async () => {
    aggregator = await startAggregatorProcess()
  })

  after(async () => {
    await aggregator.process.stop()
  })

  it('shows an agent killed with -9 as down within the grace (one period) + 1 s', async (t) => {
    const periodMs = 1000
    const agent = startAgentProcess(aggregator.multiaddr, ['--beat-period', '1s', '--nickname', 'e2e-kill9'])
    try {
      await warmedUp(aggregator, 'e2e-kill9', periodMs)
      agent.kill('SIGKILL')
      const killedAt = Date.now()
      const down = await waitFor(async () => {
        const n = await nodeNamed(aggregator, 'e2e-kill9')
        return n?.status === 'down' ? n : undefined
      }, { what: 'status down', timeoutMs: 10_000, intervalMs: POLL_MS })
      const elapsed = Date.now() - killedAt
      t.diagnostic(`down ${elapsed} ms after kill -9 (bound ${periodMs + 1000} ms)`)
      assert.ok(elapsed <= periodMs + 1000, `down after ${elapsed} ms; expected within ${periodMs + 1000} ms`)
      assert.ok(elapsed >= periodMs - 100, `down after ${elapsed} ms: the grace of one period (${periodMs} ms) was not honoured`)
      assert.equal(down.connected, false)
      assert.match(down.reason, /^disconnected .* and not back/)
    } finally {
      agent.kill('SIGKILL')
      await agent.exited
    }
  })

  it('shows an agent stopped with SIGSTOP as stale within three periods, with no disconnect, and recovers on SIGCONT', async (t) => {
    const periodMs = 2000
    const agent = startAgentProcess(aggregator.multiaddr, ['--beat-period', '2s', '--nickname', 'e2e-sigstop'])
    try {
      const before = await warmedUp(aggregator, 'e2e-sigstop', periodMs)
      assert.ok((before.phi ?? Infinity) < 8, `phi of a regular agent was ${before.phi}`)

      agent.proc.kill('SIGSTOP')
      const stoppedAt = Date.now()
      const seen: NodeJson[] = []
      const stale = await waitFor(async () => {
        const n = await nodeNamed(aggregator, 'e2e-sigstop')
        if (n !== undefined) seen.push(n)
        return n?.status === 'stale' ? n : undefined
      }, { what: 'status stale', timeoutMs: 10 * periodMs, intervalMs: POLL_MS })
      const elapsed = Date.now() - stoppedAt
      t.diagnostic(`stale ${elapsed} ms after SIGSTOP (bound ${3 * periodMs} ms), phi ${stale.phi}`)
      assert.ok(elapsed <= 3 * periodMs, `stale after ${elapsed} ms; expected within three periods (${3 * periodMs} ms)`)
      assert.ok(seen.every((n) => n.connected), 'a stopped process keeps its connection: no disconnect may be seen')
      assert.ok(seen.every((n) => n.status === 'healthy' || n.status === 'stale'), `statuses seen: ${seen.map((n) => n.status).join(', ')}`)
      assert.match(stale.reason, /^no heartbeat since \d\d:\d\d:\d\dZ while still connected \(phi > 8;/)
      assert.ok((stale.phi ?? 0) > 8)

      agent.proc.kill('SIGCONT')
      const recovered = await waitFor(async () => {
        const n = await nodeNamed(aggregator, 'e2e-sigstop')
        return n?.status === 'healthy' ? n : undefined
      }, { what: 'healthy again after SIGCONT', timeoutMs: 5 * periodMs, intervalMs: POLL_MS })
      assert.equal(recovered.connected, true)
      assert.ok(recovered.beats > before.beats)
    } finally {
      if (stillRunning(agent)) agent.proc.kill('SIGCONT')
      agent.kill('SIGKILL')
      await agent.exited
    }
  })
})
