import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { chaosPlan, FAULTS, type ChaosStep } from '../../scripts/chaos.ts'
import { seededRandom } from '../../shared/random.ts'

const AGENTS = ['a', 'b', 'c']
const take = (n: number, seed: number, everyMs = 1000, holdMs = 750): ChaosStep[] => {
  const out: ChaosStep[] = []
  for (const step of chaosPlan({ agents: AGENTS, everyMs, holdMs, random: seededRandom(seed) })) {
    out.push(step)
    if (out.length === n) break
  }
  return out
}

describe('npm start --chaos: the schedule', () => {
  it('one fault at a time, each undone after the hold and before the next, every fault once per round', () => {
    const steps = take(2 * FAULTS.length * 3, 42)
    for (let i = 0; i < steps.length; i += 2) {
      const inject = steps[i]!
      const undo = steps[i + 1]!
      assert.equal(inject.phase, 'inject')
      assert.deepEqual(undo, { ...inject, phase: 'undo', at: inject.at + 750 })
      assert.equal(inject.at, 1000 * (i / 2 + 1))
      assert.ok(AGENTS.includes(inject.agent))
    }
    for (let round = 0; round < 3; round++) {
      const faults = steps.slice(round * 2 * FAULTS.length, (round + 1) * 2 * FAULTS.length).filter((s) => s.phase === 'inject').map((s) => s.fault)
      assert.deepEqual([...faults].sort(), [...FAULTS].sort(), `round ${round} has every fault once`)
    }
  })

  it('is the same for the same seed and differs between seeds', () => {
    assert.deepEqual(take(30, 7), take(30, 7))
    assert.notDeepEqual(take(30, 7), take(30, 8))
  })

  it('refuses a hold that would overlap the next fault', () => {
    assert.throws(() => take(1, 1, 1000, 1000), RangeError)
    assert.deepEqual(take(1, 1, 1000, 999).length, 1)
  })
})
