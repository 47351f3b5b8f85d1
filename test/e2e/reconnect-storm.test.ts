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

function rssBytes (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`)
  return Number(kb) * 1024
}

interface NodeView { peerId: string, connected: boolean, firstSeen: string }

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
  it(`${AGENTS} agents come back within two reconnect periods after the aggregator is killed -9 and restarted`, { timeout: 150_000 }, async () => {
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
    await Promise.all(workers.map(async (w) => { await w.ready }))
    const everyone = workers.flatMap((w) => w.peerIds)
    assert.equal(new Set(everyone).size, AGENTS, 'every agent has its own identity')

    const joinStarted = Date.now()
    await waitFor(async () => (await connectedPeers(first)).size === AGENTS, { timeoutMs: 60_000, intervalMs: 250, what: `all ${AGENTS} agents connected to the first aggregator` })
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
    const second = await startAggregatorProcess({ dataDir: first.dataDir, port })
    cleanup.push(async () => { await second.process.stop() })
    const restartedAt = Date.now()
    assert.equal(second.peerId, first.peerId, 'same identity from the same data dir')
    const pid = second.process.proc.pid as number

    let peakRss = rssBytes(pid)
    const sampler = setInterval(() => { try { peakRss = Math.max(peakRss, rssBytes(pid)) } catch {} }, 100)
    let back: Map<string, NodeView>
    try {
      back = await waitFor(async () => {
        const peers = await connectedPeers(second)
        return everyone.every((p) => peers.has(p)) && peers
      }, { timeoutMs: 4 * RECONNECT_MS, intervalMs: 200, what: `all ${AGENTS} agents back` })
        .catch((err: Error) => { throw new Error(`${err.message}; workers: ${describeWorkers(workers)}`) })
      // Watch memory a little longer: the fleet at full strength after the storm.
      await new Promise((resolve) => setTimeout(resolve, 2_000))
    } finally {
      clearInterval(sampler)
    }
    const allBackAt = Math.max(...[...back.values()].map((n) => Date.parse(n.firstSeen)))
    const recoveryMs = allBackAt - restartedAt

    // Figures: how the arrivals spread (full jitter at work) and what the storm cost.
    const arrivals = [...back.values()].map((n) => Date.parse(n.firstSeen) - restartedAt).sort((x, y) => x - y)
    const pct = (p: number): number => arrivals[Math.min(arrivals.length - 1, Math.floor(p * arrivals.length))] as number
    const perSecond = new Map<number, number>()
    for (const t of arrivals) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1)
    const failuresAfter = workers.reduce((n, w) => n + (w.last?.connectFailures ?? 0), 0)
    process.stdout.write([
      `# aggregator down for ${restartedAt - killedAt} ms (kill -9 to restarted)`,
      `# all ${AGENTS} back ${recoveryMs} ms after the restart (${allBackAt - killedAt} ms after the kill); limit ${2 * RECONNECT_MS} ms`,
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
      const last = await waitFor(() => w.last?.connected === w.peerIds.length && w.last, { timeoutMs: 5_000, what: 'worker status' })
      assert.equal(last.running, w.peerIds.length, 'no agent gave up')
    }
  })
})
