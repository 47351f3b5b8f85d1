import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildHeartbeat } from '../../agent/beat.ts'
import { toggleMaintenance } from '../../agent/maintenance.ts'
import { ManualClock } from '../support/manual-clock.ts'
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

/** An agent that is never started (no dial, no beat): its maintenance state is what is under test. */
async function unstartedAgent (clock: ManualClock, maintenance?: AnnouncedMaintenance): Promise<Agent> {
  return await Agent.create({
    services: [{ name: 'primary', targets: [{ target: parseTarget('/ip4/127.0.0.1/tcp/1/p2p/12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc'), weight: 100 }], beatPeriodMs: 1000, reconnectPeriodMs: 1000 }],
    source: new DemoChainSource(),
    nickname: 'n',
    logger: createLogger({ name: 'test', level: 'silent' }),
    clock,
    ...(maintenance !== undefined ? { maintenance } : {}),
  })
}

test('agent: beats carry maintenance only while on; SIGUSR1\'s toggle turns it on for a time, then off', async (t) => {
  const beat = (maintenance?: AnnouncedMaintenance) => buildHeartbeat({
    snapshot: { reading: undefined, component: { status: 'ready' } } as any,
    nickname: 'n', minerAddress: '', seq: 0, sentAt: 0, periodMs: 1000, agentVersion: 'v', agentStartedAt: 0, state: 'running', maintenance,
  })
  assert.equal('maintenance' in beat(), false)
  assert.deepEqual(beat({ until: 5 }).maintenance, { until: 5 })

  const clock = new ManualClock({ wallStart: 1_000_000 })
  const agent = await unstartedAgent(clock)
  t.after(async () => { await agent.libp2p.stop() })
  assert.deepEqual(toggleMaintenance(agent, 60_000, 'disk'), { until: 1_060_000, reason: 'disk' })
  clock.advance(1_000)
  assert.equal(toggleMaintenance(agent, 60_000, 'disk'), undefined, 'a second signal ends it')
  assert.equal(agent.currentMaintenance(), undefined)
  assert.deepEqual(toggleMaintenance(agent, 60_000, ''), { until: 1_061_000 }, 'no reason: no reason field')
  // Expired: the next toggle starts a new window rather than ending the old one.
  clock.advance(60_000)
  assert.equal(agent.currentMaintenance(), undefined, 'over once its time is up')
  assert.deepEqual(toggleMaintenance(agent, 60_000, ''), { until: 1_121_000 })
})

test('agent: a maintenance window lasts its duration whatever the wall clock does', async (t) => {
  const clock = new ManualClock({ wallStart: 5_000_000 })
  // As an embedding program announces it: until on the wall clock, 10 minutes from now.
  const agent = await unstartedAgent(clock, { until: 5_000_000 + 600_000, reason: 'upgrade' })
  t.after(async () => { await agent.libp2p.stop() })
  clock.advance(60_000)
  assert.deepEqual(agent.currentMaintenance(), { until: 5_600_000, reason: 'upgrade' })
  // NTP steps the wall clock back 10 minutes: 9 minutes are still left, and `until` says so on the new clock.
  clock.stepWall(-600_000)
  assert.deepEqual(agent.currentMaintenance(), { until: 5_000_000, reason: 'upgrade' })
  clock.stepWall(+1_200_000)
  assert.deepEqual(agent.currentMaintenance(), { until: 6_200_000, reason: 'upgrade' }, 'a forward step does not end it early')
  clock.advance(539_999)
  assert.notEqual(agent.currentMaintenance(), undefined)
  clock.advance(1)
  assert.equal(agent.currentMaintenance(), undefined, 'over after exactly its 10 minutes')
})
