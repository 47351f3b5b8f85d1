import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { fetchJson, startAggregatorProcess, type RunningAggregator } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'
import { SwarmWorker } from '../support/swarm-worker.ts'

// ~300 agents over 3 worker processes: enough for a real storm, small enough for a shared 2-core machine.
const AGENTS = Number(process.env.STORM_AGENTS ?? 300)
const WORKERS = 3
const BEAT_MS = 2_000
const RECONNECT_MS = 10_000
// The aggregator runs with its default admission limits: the storm test checks the shipped defaults.
// (Much tighter limits, e.g. 32 pending connections on this contended machine, refused so many honest
// handshakes that the last agents needed 2-3 reconnect periods; see docs/delivery.md.)
// Bound on the restarted aggregator's memory: its steady state with the whole fleet, plus this much headroom.
const RSS_HEADROOM_BYTES = 96 * 1024 * 1024
// Every wait has a deadline, so a start that never comes fails the test with what was seen instead of hanging it.
const WORKERS_READY_MS = 90_000
// Every agent connected to the first aggregator.
const JOIN_MS = 60_000
// The restart restores the whole roster from the data dir before it listens.
const RESTART_TIMEOUT_MS = 30_000
// After the restart: the goal is two reconnect periods; the test waits for four so a miss says by how much.
const BACK_MS = 4 * RECONNECT_MS
// Each worker's status after the storm (it reports every 250 ms by default).
const STATUS_MS = 5_000
// The test's own timeout is the sum of its deadlines (and the calm period) plus slack, so a deadline fails
// first and says what it was waiting for.
const TEST_TIMEOUT_MS = WORKERS_READY_MS + JOIN_MS + RECONNECT_MS + RESTART_TIMEOUT_MS + BACK_MS + 2_000 + WORKERS * STATUS_MS + 30_000
// How often the restarted aggregator's fleet is read: an agent's arrival is the first read that shows it connected.
const POLL_MS = 200

function rssBytes (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`)
  return Number(kb) * 1024
}

interface NodeView { peerId: string, connected: boolean }

async function connectedPeers (agg: RunningAggregator): Promise<Map<string, NodeView>> {
  const fleet = await fetchJson<{ nodes: NodeView[] }>(`${agg.url}/api/v1/fleet`)
  return new Map(fleet.nodes.filter((n) => n.connected).map((n) => [n.peerId, n]))
}

function describeWorkers (workers: SwarmWorker[]): string {
  return workers.map((w) => JSON.stringify(w.last)).join(' ')
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

describe('reconnect storm', () => {
  it(`${AGENTS} agents come back within two reconnect periods after the aggregator is killed -9 and restarted`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const first = await startAggregatorProcess()
    cleanup.push(async () => { await first.process.stop() })
    const port = Number(/\/tcp\/(\d+)/.exec(first.multiaddr)?.[1])

    const workers: SwarmWorker[] = []
    for (let i = 0; i < WORKERS; i++) {
      const count = Math.floor(AGENTS / WORKERS) + (i < AGENTS % WORKERS ? 1 : 0)
      const w = new SwarmWorker(i, count, first.multiaddr, { beatPeriodMs: BEAT_MS, reconnectPeriodMs: RECONNECT_MS, kind: 'agent' })
      workers.push(w)
      cleanup.push(async () => { await w.stop() })
    }
    await Promise.all(workers.map(async (w) => { await w.readyWithin(WORKERS_READY_MS) }))
    const everyone = workers.flatMap((w) => w.peerIds)
    assert.equal(new Set(everyone).size, AGENTS, 'every agent has its own identity')

    const joinStarted = Date.now()
    await waitFor(async () => (await connectedPeers(first)).size === AGENTS, { timeoutMs: JOIN_MS, intervalMs: 250, what: `all ${AGENTS} agents connected to the first aggregator` })
      .catch((err: Error) => { throw new Error(`${err.message}; workers: ${describeWorkers(workers)}`) })
    process.stdout.write(`# ${AGENTS} agents joined in ${Date.now() - joinStarted} ms\n`)
    // A reconnect period of calm: connections count as stable, memory settles.
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS))
    const steadyRss = rssBytes(first.process.proc.pid as number)
    const failuresBefore = workers.reduce((n, w) => n + (w.last?.connectFailures ?? 0), 0)

    // The storm: kill -9 (no goodbye), restart on the same port with the same data dir (same peer id).
    const killedAt = Date.now()
    first.process.kill('SIGKILL')
    await first.process.exited
    const second = await startAggregatorProcess({ dataDir: first.dataDir, port, startTimeoutMs: RESTART_TIMEOUT_MS })
    cleanup.push(async () => { await second.process.stop() })
    // The clock starts when the restarted aggregator says it started; agents that came in while it was
    // saying so are counted as arriving at 0 (arrivals are reads of its fleet, which start after this).
    const restartedAt = Date.now()
    assert.equal(second.peerId, first.peerId, 'same identity from the same data dir')
    const pid = second.process.proc.pid as number

    let peakRss = rssBytes(pid)
    const sampler = setInterval(() => { try { peakRss = Math.max(peakRss, rssBytes(pid)) } catch {} }, 100)
    // When each agent was first seen connected, in ms after the restart (the store restores firstSeen, so the
    // aggregator's own field says when a node first ever came, not when it came back).
    const arrivedAt = new Map<string, number>()
    try {
      await waitFor(async () => {
        const peers = await connectedPeers(second)
        const readAt = Date.now() - restartedAt
        for (const p of peers.keys()) if (!arrivedAt.has(p)) arrivedAt.set(p, readAt)
        return everyone.every((p) => peers.has(p))
      }, { timeoutMs: BACK_MS, intervalMs: POLL_MS, what: `all ${AGENTS} agents back` })
        .catch((err: Error) => { throw new Error(`${err.message}; ${arrivedAt.size} back; workers: ${describeWorkers(workers)}`) })
      // Watch memory a little longer: the fleet at full strength after the storm.
      await new Promise((resolve) => setTimeout(resolve, 2_000))
    } finally {
      clearInterval(sampler)
    }
    // Figures: how the arrivals spread (full jitter at work) and what the storm cost.
    const arrivals = everyone.map((p) => arrivedAt.get(p)!).sort((x, y) => x - y)
    const recoveryMs = arrivals.at(-1)!
    const pct = (p: number): number => arrivals[Math.min(arrivals.length - 1, Math.floor(p * arrivals.length))] as number
    const perSecond = new Map<number, number>()
    for (const t of arrivals) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1)
    const failuresAfter = workers.reduce((n, w) => n + (w.last?.connectFailures ?? 0), 0)
    process.stdout.write([
      `# aggregator down for ${restartedAt - killedAt} ms (kill -9 to restarted)`,
      `# all ${AGENTS} back ${recoveryMs} ms after the restart (${recoveryMs + restartedAt - killedAt} ms after the kill); limit ${2 * RECONNECT_MS} ms (seen by reads every ${POLL_MS} ms)`,
      `# arrivals after restart: p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, max ${pct(1)} ms`,
      `# arrivals per second: ${[...perSecond.entries()].sort((x, y) => x[0] - y[0]).map(([s, n]) => `${s}s:${n}`).join(' ')}`,
      `# failed connection attempts during the storm: ${failuresAfter - failuresBefore} (${((failuresAfter - failuresBefore) / AGENTS).toFixed(1)} per agent)`,
      `# aggregator RSS: steady ${mb(steadyRss)} before the kill, peak ${mb(peakRss)} after the restart`,
      '',
    ].join('\n'))

    assert.ok(recoveryMs < 2 * RECONNECT_MS, `all agents back in ${recoveryMs} ms, more than two reconnect periods`)
    assert.ok(peakRss < steadyRss + RSS_HEADROOM_BYTES, `aggregator RSS peaked at ${mb(peakRss)} (steady ${mb(steadyRss)})`)
    for (const w of workers) {
      assert.ok(w.alive, `swarm worker exited: ${w.stderr.slice(-1000)}`)
      const last = await waitFor(() => w.last?.connected === w.peerIds.length && w.last, { timeoutMs: STATUS_MS, what: 'worker status' })
      assert.equal(last.running, w.peerIds.length, 'no agent gave up')
    }
  })
})
