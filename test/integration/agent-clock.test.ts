import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { Agent } from '../../agent/agent.ts'
import { BeatReceiver } from '../support/beat-receiver.ts'
import { captureLogger, startTestAgent, weighted } from '../support/agents.ts'
import { ManualClock } from '../support/manual-clock.ts'

const PERIOD_MS = 1_000
const TEN_MINUTES = 600_000

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

/**
 * The agent's beat schedule runs on the monotonic clock (docs/delivery.md,
 * "Time"): driven here by a ManualClock over real libp2p on loopback, so
 * every beat is one the test caused and counted, none is a sleep's guess.
 */
describe('agent beats keep their rhythm when the wall clock steps', () => {
  it('steps of -10 min and +10 min change no beat, and each is logged once as a WARN with its size', async () => {
    const receiver = await BeatReceiver.start()
    cleanup.push(async () => { await receiver.stop() })
    const clock = new ManualClock({ wallStart: Date.UTC(2026, 5, 1) })
    const { logger, lines } = captureLogger()
    const agent: Agent = await startTestAgent({ targets: [weighted(receiver.multiaddr)], beatPeriodMs: PERIOD_MS, reconnectPeriodMs: 10_000, clock, logger })
    cleanup.push(async () => { await agent.stop() })

    await receiver.waitForBeats(1)
    for (let i = 1; i <= 3; i++) {
      clock.advance(PERIOD_MS)
      await receiver.waitForBeats(i + 1)
    }
    clock.stepWall(-TEN_MINUTES)
    for (let i = 4; i <= 6; i++) {
      clock.advance(PERIOD_MS)
      await receiver.waitForBeats(i + 1)
    }
    clock.stepWall(+TEN_MINUTES)
    for (let i = 7; i <= 9; i++) {
      clock.advance(PERIOD_MS)
      await receiver.waitForBeats(i + 1)
    }
    const beats = receiver.beats
    assert.deepEqual(beats.map((b) => b.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'one beat per period, seq rising by one')
    const sentAt = beats.map((b) => b.sentAt)
    // sentAt stamps follow the wall clock, steps included: they are the agent's stamps, not its schedule.
    assert.equal(sentAt[4]! - sentAt[3]!, PERIOD_MS - TEN_MINUTES)
    assert.equal(sentAt[7]! - sentAt[6]!, PERIOD_MS + TEN_MINUTES)
    assert.equal(sentAt[9]! - sentAt[8]!, PERIOD_MS)
    assert.equal(beats.every((b) => b.agent.startedAt === beats[0]!.agent.startedAt), true)

    const steps = lines.filter((l) => l.level === 'warn' && String(l.msg).startsWith('the wall clock stepped'))
    assert.deepEqual(steps.map((l) => l.stepMs), [-TEN_MINUTES, TEN_MINUTES], 'each step once, with its size')
    assert.match(String(steps[0]?.msg), /stepped back by 10m0s/)
    assert.match(String(steps[1]?.msg), /stepped forward by 10m0s/)
  })
})
