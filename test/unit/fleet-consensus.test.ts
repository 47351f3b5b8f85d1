import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { computeConsensus, sortedNetworks, type ConsensusVoter } from '../../aggregator/fleet/consensus.ts'
import { NicknameCounts } from '../../aggregator/fleet/names.ts'

const vote = (head: string, height: number, network = 'main', reporting = true): ConsensusVoter => ({ network, head, height, reporting })

describe('computeConsensus', () => {
  it('has nothing to say about an empty fleet', () => {
    assert.equal(computeConsensus([]).size, 0)
  })

  it('gives a network whose nodes all stopped reporting no heaviest head', () => {
    const main = computeConsensus([vote('{a}', 10, 'main', false), vote('{b}', 11, 'main', false)]).get('main')
    assert.deepEqual(main, { network: 'main', heaviestHead: null, height: 0, inConsensus: 0, inDispute: 0, catchingUp: 0, reporting: 0, nodes: 2 })
  })

  it('takes the head most nodes report at the greatest height', () => {
    const main = computeConsensus([
      vote('{a}', 10), vote('{a}', 10), vote('{a}', 10), // many, but behind
      vote('{b}', 11), vote('{c}', 11), vote('{c}', 11),
    ]).get('main')
    assert.equal(main?.heaviestHead, '{c}')
    assert.equal(main?.height, 11)
    assert.equal(main?.inConsensus, 2)
    assert.equal(main?.inDispute, 4)
    assert.equal(main?.reporting, 6)
  })

  it('breaks a tie at the greatest height by the smallest head, whatever the order', () => {
    const voters = [vote('{b}', 11), vote('{a}', 11), vote('{z}', 9), vote('{b}', 11), vote('{a}', 11)]
    assert.equal(computeConsensus(voters).get('main')?.heaviestHead, '{a}')
    fc.assert(fc.property(fc.shuffledSubarray(voters, { minLength: voters.length, maxLength: voters.length }), (shuffled) => {
      assert.deepEqual(computeConsensus(shuffled).get('main'), computeConsensus(voters).get('main'))
    }))
  })

  it('does not let non-reporting nodes vote, but lists them', () => {
    const main = computeConsensus([vote('{old}', 50, 'main', false), vote('{a}', 10), vote('{a}', 10), vote('{b}', 9)]).get('main')
    assert.equal(main?.heaviestHead, '{a}')
    assert.equal(main?.height, 10, 'a down node at 50 does not set the maximum height')
    assert.equal(main?.inConsensus, 2)
    assert.equal(main?.inDispute, 1)
    assert.equal(main?.nodes, 4)
  })

  it('keeps networks apart', () => {
    const result = computeConsensus([vote('{m}', 100, 'main'), vote('{t}', 5, 'test'), vote('{t}', 5, 'test'), vote('{u}', 1, '')])
    assert.deepEqual(sortedNetworks(result).map((n) => [n.network, n.heaviestHead, n.height, n.inConsensus]), [
      ['main', '{m}', 100, 1],
      ['test', '{t}', 5, 2],
      ['', '{u}', 1, 1],
    ])
  })

  it('counts inConsensus + inDispute = reporting for any fleet (property)', () => {
    const voter = fc.record({
      network: fc.constantFrom('a', 'b'),
      head: fc.constantFrom('{1}', '{2}', '{3}'),
      height: fc.integer({ min: 0, max: 4 }),
      reporting: fc.boolean(),
    })
    fc.assert(fc.property(fc.array(voter, { maxLength: 40 }), (voters) => {
      for (const n of computeConsensus(voters).values()) {
        const mine = voters.filter((v) => v.network === n.network)
        const reporting = mine.filter((v) => v.reporting)
        assert.equal(n.nodes, mine.length)
        assert.equal(n.reporting, reporting.length)
        assert.equal(n.inConsensus + n.inDispute, n.reporting)
        if (reporting.length === 0) {
          assert.equal(n.heaviestHead, null)
        } else {
          const max = Math.max(...reporting.map((v) => v.height))
          assert.equal(n.height, max)
          const atMax = reporting.filter((v) => v.height === max)
          const votes = atMax.filter((v) => v.head === n.heaviestHead).length
          for (const other of atMax) assert.ok(atMax.filter((v) => v.head === other.head).length <= votes)
        }
      }
    }))
  })
})

describe('NicknameCounts', () => {
  it('knows which names more than one peer id carries, through renames and departures; empty is no name', () => {
    const names = new NicknameCounts()
    for (const n of ['a', 'b', 'a', '', '']) names.add(n)
    assert.equal(names.isShared('a'), true)
    assert.equal(names.isShared('b'), false)
    assert.equal(names.isShared(''), false)
    names.rename('a', 'c')
    assert.equal(names.isShared('a'), false)
    names.rename('b', 'c')
    assert.equal(names.isShared('c'), true)
    names.remove('c')
    assert.equal(names.isShared('c'), false)
    names.remove('never-added')
    assert.equal(names.isShared('never-added'), false)
  })
})
