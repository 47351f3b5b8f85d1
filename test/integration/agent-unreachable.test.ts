import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Agent } from '../../agent/agent.ts'
import { AgentMetrics } from '../../agent/metrics.ts'
import { HealthRegistry } from '../../shared/health-registry.ts'
import { buildInfo, runtimeInfo } from '../../shared/build-info.ts'
import { BeatReceiver } from '../support/beat-receiver.ts'
import { captureLogger, startTestAgent, weighted } from '../support/agents.ts'
import { ManualClock } from '../support/manual-clock.ts'
import { freePort } from '../support/ports.ts'
import { ROOT, tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

function metricValue (text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

/**
 * The agent's own view of its aggregators (docs/operations.md): a target
 * without an open stream past --unreachable-after is one ERROR, its recovery
 * one INFO, and both show on /metrics. The clock is a ManualClock, so "one
 * minute" is exactly one minute; dials are real (loopback).
 */
describe('an unreachable aggregator, seen from the agent', () => {
  it('one ERROR when the outage crosses the threshold (not before, not again), INFO on recovery, and the metrics', async () => {
    const key = await generateKeyPair('Ed25519')
    const port = await freePort()
    const target = `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdFromPrivateKey(key).toString()}`
    const clock = new ManualClock()
    const { logger, lines } = captureLogger()
    const agent: Agent = await startTestAgent({ targets: [weighted(target)], beatPeriodMs: 1_000, reconnectPeriodMs: 5_000, unreachableAfterMs: 60_000, clock, logger })
    cleanup.push(async () => { await agent.stop() })
    const metrics = new AgentMetrics({ status: () => agent.status(), chain: () => agent.chain(), health: new HealthRegistry(), build: buildInfo(), runtime: runtimeInfo(), processMetrics: false })
    const errors = (): typeof lines => lines.filter((l) => l.level === 'error' && String(l.msg).startsWith('aggregator '))

    // The first dial is refused (nothing listens there).
    await waitFor(() => agent.status()[0]!.connectFailures >= 1, { what: 'a refused dial' })
    let text = await metrics.render()
    assert.equal(metricValue(text, 'heartbeat_agent_target_up'), 0)
    assert.match(text, new RegExp(`heartbeat_agent_target_up\\{service="primary",target="${target}"\\} 0`))

    for (let i = 0; i < 59; i++) await clock.advanceAsync(1_000)
    assert.equal(errors().length, 0, 'not before the threshold')
    text = await metrics.render()
    assert.equal(metricValue(text, 'heartbeat_agent_target_unreachable_seconds'), 59)

    await clock.advanceAsync(1_000)
    assert.equal(errors().length, 1, 'one ERROR when it crosses')
    assert.match(String(errors()[0]!.msg), new RegExp(`^aggregator ${target} unreachable for 1m0s: connection refused at`))

    for (let i = 0; i < 10; i++) await clock.advanceAsync(30_000)
    assert.equal(errors().length, 1, 'and not again while the outage goes on')
    assert.equal(metricValue(await metrics.render(), 'heartbeat_agent_target_unreachable_seconds'), 360)

    // The aggregator comes back at the same address with the same key.
    const receiver = await BeatReceiver.start({ privateKey: key, port })
    cleanup.push(async () => { await receiver.stop() })
    await waitFor(async () => {
      await clock.advanceAsync(1_000)
      return agent.status()[0]!.connected
    }, { what: 'the agent reconnects' })
    const recovered = lines.filter((l) => l.level === 'info' && String(l.msg).startsWith(`aggregator ${target} reachable again after`))
    assert.equal(recovered.length, 1, 'one INFO on recovery')
    text = await metrics.render()
    assert.equal(metricValue(text, 'heartbeat_agent_target_up'), 1)
    assert.equal(metricValue(text, 'heartbeat_agent_target_unreachable_seconds'), 0)
    assert.equal(errors().length, 1)
  })

  it('the Prometheus rules docs/operations.md gives for it pass promtool and use metrics the agent exports', async () => {
    const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8')
    const rules = /```yaml\n(# heartbeat-agent-rules\.yml[\s\S]*?)```/.exec(doc)?.[1]
    assert.ok(rules !== undefined, 'the rules block is in docs/operations.md')
    const file = join(tempDir('hb-rules-'), 'heartbeat-agent-rules.yml')
    writeFileSync(file, rules)
    const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 30_000 })
    assert.equal(check.status, 0, check.stdout + check.stderr)
    const agent = await startTestAgent({ targets: [weighted(`/ip4/127.0.0.1/tcp/${await freePort()}/p2p/12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc`)] })
    cleanup.push(async () => { await agent.stop() })
    await waitFor(() => agent.status()[0]!.connectFailures >= 1, { what: 'a refused dial' })
    const text = await new AgentMetrics({ status: () => agent.status(), chain: () => agent.chain(), health: new HealthRegistry(), build: buildInfo(), runtime: runtimeInfo(), processMetrics: false }).render()
    for (const name of new Set(rules.match(/heartbeat_agent_[a-z_]+/g) ?? [])) {
      assert.match(text, new RegExp(`^${name}\\{`, 'm'), `the agent exports ${name}`)
    }
  })
})
