import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { Agent } from '../../agent/agent.ts'
import { captureLogger, startTestAgent, weighted } from '../support/agents.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { waitFor } from '../support/wait.ts'

const AGENTS = 30
const RATE_PER_SECOND = 5
const RECONNECT_MS = 2_000

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

describe('connection limits under a crowd (real libp2p on loopback)', () => {
  it('refuses connections beyond the per-host rate, and every refused agent gets in on a later attempt', async () => {
    const aggregator = await startTestAggregator({ connectionLimits: { inboundConnectionsPerHostPerSecond: RATE_PER_SECOND } })
    cleanup.push(async () => { await aggregator.stop() })
    const { logger, lines } = captureLogger()
    const target = weighted(aggregator.multiaddrs()[0] as string)
    const startedAt = Date.now()
    const agents: Agent[] = await Promise.all(Array.from({ length: AGENTS }, async () => {
      const a = await startTestAgent({ targets: [target], beatPeriodMs: 500, reconnectPeriodMs: RECONNECT_MS, logger })
      cleanup.push(async () => { await a.stop() })
      return a
    }))
    await waitFor(() => agents.every((a) => aggregator.inspect().fleet.get(a.peerId)?.connected === true), { timeoutMs: 30_000, intervalMs: 100, what: 'every agent admitted' })
    const tookMs = Date.now() - startedAt
    const refused = lines.filter((l) => l.msg.includes('failed to connect') && l.msg.includes('admission limits'))
    const failures = agents.reduce((n, a) => n + (a.status()[0]?.connectFailures ?? 0), 0)
    process.stdout.write(`# ${AGENTS} agents at ${RATE_PER_SECOND} connections/s per host: all in after ${tookMs} ms, ${failures} refused attempts\n`)
    assert.ok(refused.length > 0, 'the rate limit refused some connections, and the agents said why')
    // The limit holds: one-second windows of at most RATE_PER_SECOND connections need this long for everyone.
    const minimumMs = (AGENTS / RATE_PER_SECOND - 1) * 1_000
    assert.ok(tookMs >= minimumMs, `all in after ${tookMs} ms, faster than ${RATE_PER_SECOND}/s allows (${minimumMs} ms)`)
    assert.ok(agents.every((a) => a.status()[0]?.running === true), 'nobody gave up')
  })
})
