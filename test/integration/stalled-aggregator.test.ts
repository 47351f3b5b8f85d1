// An aggregator whose own event loop stalls (a slow disk under a synchronous
// store write, a long GC, a starved CPU) must not take the heartbeats that
// waited, unread, in its sockets meanwhile for silence: it reads what is
// waiting before it judges anyone silent. Agents in another process keep
// beating every second through 2.5 s stalls of the aggregator's loop: longer
// than the silence phi calls stale (about two periods), while a sender in
// another process is very unlikely to be starved that long itself.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { STATUS_TICK_MS } from '../../aggregator/constants.ts'
import type { StatusChange } from '../../aggregator/fleet/fleet-state.ts'
import { type Clock, systemClock } from '../../shared/clock.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { SwarmWorker } from '../support/swarm-worker.ts'
import { waitFor } from '../support/wait.ts'

const AGENTS = 10
const BEAT_MS = 1_000
const STALL_MS = 2_500

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

describe('a stalled aggregator', () => {
  it('reads the heartbeats that waited during a stall of its own loop before it judges silence', { timeout: 120_000 }, async () => {
    // The worst moment for a stall: right before a status tick, in the same turn of the loop (a store flush
    // due at the same instant, as the 1 s flush and the 250 ms tick are every fourth tick). Every eighth tick
    // of the system clock is preceded by one, once the fleet is warm.
    let stalls = 0
    let armed = false
    const clock: Clock = {
      ...systemClock,
      every: (ms, run, options) => {
        if (ms !== STATUS_TICK_MS) return systemClock.every(ms, run, options)
        let calls = 0
        return systemClock.every(ms, () => {
          if (armed && ++calls % 8 === 0) {
            stalls++
            const until = performance.now() + STALL_MS
            while (performance.now() < until) { /* the loop is busy elsewhere */ }
          }
          run()
        }, options)
      },
    }
    const aggregator = await startTestAggregator({ clock })
    cleanup.push(async () => { await aggregator.stop() })
    const { fleet } = aggregator.inspect()
    // Watching from the start: the nodes' arrival shows the watcher hears status changes.
    const changes: StatusChange[] = []
    const unsubscribe = fleet.subscribe({ onStatusChanged: (c) => { changes.push(c) } })
    const swarm = new SwarmWorker(0, AGENTS, aggregator.multiaddrs()[0] as string, { beatPeriodMs: BEAT_MS, reconnectPeriodMs: 2_000 })
    cleanup.push(async () => { await swarm.stop() })
    await swarm.ready
    // Warm: every node healthy with the failure detector judging (phi), not the fallback rule.
    await waitFor(() => fleet.size === AGENTS && [...fleet.nodes()].every((n) => fleet.verdict(n.peerId)?.status === 'healthy' && n.arrivals.count >= 6), { timeoutMs: 30_000, what: 'a warm, healthy fleet' })
    assert.ok(new Set(changes.filter((c) => c.to === 'healthy').map((c) => c.peerId)).size === AGENTS, `every node's arrival heard: ${changes.length} changes`)
    const warmChanges = changes.length
    armed = true
    await waitFor(() => stalls >= 3, { timeoutMs: 60_000, intervalMs: 100, what: 'three stalls' })
    armed = false
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    unsubscribe()
    assert.deepEqual(changes.slice(warmChanges).map((c) => `${c.from} -> ${c.to}: ${c.reason}`), [], 'nobody was taken for silent')
  })
})
