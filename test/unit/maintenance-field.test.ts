import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildHeartbeat } from '../../agent/beat.ts'
import { maintenanceFrom, toggleMaintenance } from '../../agent/maintenance.ts'
import type { AnnouncedMaintenance } from '../../shared/heartbeat.ts'
import { decodeFrameBody, encodeHeartbeat } from '../../shared/codec.ts'
import { validateHeartbeat } from '../../shared/heartbeat.ts'
import { LIMITS } from '../../shared/protocol.ts'
import { Agent } from '../../agent/agent.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import { createLogger } from '../../shared/log.ts'
import { parseTarget } from '../../shared/target.ts'
import { sampleHeartbeat } from '../support/fixtures.ts'

test('heartbeat: the optional maintenance field survives the wire; absent stays absent', () => {
  const withIt = sampleHeartbeat({ maintenance: { until: 1_700_000_600_000, reason: 'kernel upgrade' } })
  const decoded = validateHeartbeat(decodeFrameBody(encodeHeartbeat(withIt)))
  assert.ok(decoded.ok)
  assert.deepEqual(decoded.heartbeat.maintenance, { until: 1_700_000_600_000, reason: 'kernel upgrade' })
  const without = validateHeartbeat(decodeFrameBody(encodeHeartbeat(sampleHeartbeat())))
  assert.ok(without.ok)
  assert.equal('maintenance' in without.heartbeat, false)
  const empty = validateHeartbeat({ ...sampleHeartbeat(), maintenance: {} })
  assert.ok(empty.ok)
  assert.deepEqual(empty.heartbeat.maintenance, {})
})

test('heartbeat: a malformed maintenance field is refused with a reason', () => {
  const cases: Array<[unknown, string]> = [
    [true, 'bad_type'],
    [{ until: -1 }, 'bad_type'],
    [{ until: 'soon' }, 'bad_type'],
    [{ reason: 42 }, 'bad_type'],
    [{ reason: 'x'.repeat(LIMITS.maintenanceReason + 1) }, 'too_long'],
  ]
  for (const [maintenance, reason] of cases) {
    const r = validateHeartbeat({ ...sampleHeartbeat(), maintenance })
    assert.ok(!r.ok, JSON.stringify(maintenance))
    assert.equal(r.reason, reason)
  }
})

test('agent: beats carry maintenance only while on; SIGUSR1\'s toggle turns it on for a time, then off', async (t) => {
  const beat = (maintenance?: AnnouncedMaintenance) => buildHeartbeat({
    snapshot: { reading: undefined, component: { status: 'ready' } } as any,
    nickname: 'n', minerAddress: '', seq: 0, sentAt: 0, periodMs: 1000, agentVersion: 'v', agentStartedAt: 0, state: 'running', maintenance,
  })
  assert.equal('maintenance' in beat(), false)
  assert.deepEqual(beat({ until: 5 }).maintenance, { until: 5 })

  const agent = await Agent.create({
    services: [{ name: 'primary', targets: [{ target: parseTarget('/ip4/127.0.0.1/tcp/1/p2p/12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc'), weight: 100 }], beatPeriodMs: 1000, reconnectPeriodMs: 1000 }],
    source: new DemoChainSource(),
    nickname: 'n',
    logger: createLogger({ name: 'test', level: 'silent' }),
  })
  t.after(async () => { await agent.libp2p.stop() })
  assert.deepEqual(toggleMaintenance(agent, 1_000, 60_000, 'disk'), { until: 61_000, reason: 'disk' })
  assert.equal(toggleMaintenance(agent, 2_000, 60_000, 'disk'), undefined, 'a second signal ends it')
  assert.deepEqual(toggleMaintenance(agent, 3_000, 60_000, ''), { until: 63_000 }, 'no reason: no reason field')
  // Expired: the next toggle starts a new window rather than ending the old one.
  assert.deepEqual(toggleMaintenance(agent, 100_000, 60_000, ''), { until: 160_000 })
  assert.deepEqual(maintenanceFrom(0, 10, 'r'), { until: 10, reason: 'r' })
})
