import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { backoffCeiling, type BackoffPolicy } from '../../agent/backoff.ts'
import { keyOf, TargetSelector } from '../../agent/target-selector.ts'
import { parseWeightedTarget, type WeightedTarget } from '../../agent/targets.ts'

const RECONNECT_MS = 10_000
const policy: BackoffPolicy = { initialMs: 250, base: 2, capMs: RECONNECT_MS }

let peers: string[] = []
before(async () => {
  peers = await Promise.all([1, 2, 3, 4].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
})

/** `weight=/ip4/127.0.0.1/tcp/<port>/p2p/<peer n>` */
function t (weight: number, n: number): WeightedTarget {
  return parseWeightedTarget(`${weight}=/ip4/127.0.0.1/tcp/${4100 + n}/p2p/${peers[n]}`)
}

function selector (targets: WeightedTarget[], random = (): number => 0.5): TargetSelector {
  return new TargetSelector(targets, { policy, stableAfterMs: RECONNECT_MS, random })
}

describe('target selector: preference', () => {
  it('ranks by weight, highest first, keeping the given order among equal weights', () => {
    const [a, b, c] = [t(50, 0), t(100, 1), t(100, 2)]
    assert.deepEqual(selector([a, b, c]).ranked().map(keyOf), [b, c, a].map(keyOf))
  })

  it('starts with the best target, at once', () => {
    const [a, b] = [t(10, 0), t(90, 1)]
    const choice = selector([a, b]).next(1000)
    assert.equal(keyOf(choice.target), keyOf(b))
    assert.equal(choice.rank, 0)
    assert.equal(choice.at, 1000)
  })

  it('a weight-0 target is the last resort', () => {
    const [standby, main] = [t(0, 0), t(1, 1)]
    assert.equal(keyOf(selector([standby, main]).next(0).target), keyOf(main))
  })
})

describe('target selector: rotation and backoff', () => {
  it('rotates to the next target at once when the current one fails, and to the third after that', () => {
    const [a, b, c] = [t(100, 0), t(50, 1), t(10, 2)]
    const s = selector([a, b, c])
    s.onAttemptFailed(keyOf(a), 0)
    assert.deepEqual([keyOf(s.next(0).target), s.next(0).at], [keyOf(b), 0])
    s.onAttemptFailed(keyOf(b), 5)
    assert.deepEqual([keyOf(s.next(5).target), s.next(5).at], [keyOf(c), 5])
  })

  it('when every target is backing off, waits for the one free soonest (never a busy loop)', () => {
    const draws = [0.9, 0.1]
    const [a, b] = [t(100, 0), t(50, 1)]
    const s = selector([a, b], () => draws.shift() ?? 0.5)
    s.onAttemptFailed(keyOf(a), 0) // a waits 0.9 * 250 = 225
    s.onAttemptFailed(keyOf(b), 0) // b waits 0.1 * 250 = 25
    const choice = s.next(1)
    assert.equal(keyOf(choice.target), keyOf(b))
    assert.equal(choice.at, 25)
  })

  it('returns to a failed better target once its backoff has passed', () => {
    const [a, b] = [t(100, 0), t(50, 1)]
    const s = selector([a, b])
    const delay = s.onAttemptFailed(keyOf(a), 1000)
    assert.equal(delay, 125)
    s.onAttemptFailed(keyOf(b), 1000)
    assert.equal(keyOf(s.next(1000 + delay).target), keyOf(a), 'equal wait: the better one wins')
  })

  it('escalates the waits on one target up to the reconnect period, each within its full-jitter ceiling', () => {
    const [a] = [t(100, 0)]
    let draw = 0
    const s = selector([a], () => { draw = (draw + 0.37) % 1; return draw })
    let now = 0
    for (let failures = 1; failures <= 12; failures++) {
      const delay = s.onAttemptFailed(keyOf(a), now)
      assert.ok(delay >= 0 && delay < backoffCeiling(policy, failures), `failure ${failures}: ${delay}`)
      assert.ok(delay < RECONNECT_MS)
      assert.equal(s.next(now).at, now + delay)
      now += delay
    }
    assert.equal(s.failures(keyOf(a)), 12)
  })

  it('a failure on one target never delays the others', () => {
    const [a, b] = [t(100, 0), t(50, 1)]
    const s = selector([a, b], () => 0.99)
    for (let i = 0; i < 20; i++) s.onAttemptFailed(keyOf(a), i)
    assert.equal(s.failures(keyOf(b)), 0)
    assert.deepEqual([keyOf(s.next(20).target), s.next(20).at], [keyOf(b), 20])
  })
})

describe('target selector: connections that end', () => {
  it('a long-lived connection that drops starts its target over from the initial backoff', () => {
    const [a] = [t(100, 0)]
    const s = selector([a])
    for (let i = 0; i < 8; i++) s.onAttemptFailed(keyOf(a), 0)
    s.onConnected(keyOf(a), 1000)
    const delay = s.onDisconnected(1000 + RECONNECT_MS)
    assert.equal(delay, 125, 'half of the initial 250 ms ceiling')
    assert.equal(s.failures(keyOf(a)), 1)
    assert.equal(s.current(), undefined)
  })

  it('a connection that drops at once keeps escalating (a flapping aggregator is not hammered)', () => {
    const [a] = [t(100, 0)]
    const s = selector([a])
    for (let i = 0; i < 8; i++) s.onAttemptFailed(keyOf(a), 0)
    s.onConnected(keyOf(a), 1000)
    const delay = s.onDisconnected(1100)
    assert.equal(delay, RECONNECT_MS / 2, 'ninth failure: capped ceiling, half of it')
    assert.equal(s.failures(keyOf(a)), 9)
  })

  it('after the current target drops, the next attempt goes to another target at once', () => {
    const [a, b] = [t(100, 0), t(50, 1)]
    const s = selector([a, b])
    s.onConnected(keyOf(a), 0)
    s.onDisconnected(60_000)
    assert.deepEqual([keyOf(s.next(60_000).target), s.next(60_000).at], [keyOf(b), 60_000])
  })

  it('leaving a target on purpose (switch, reload) is not a failure', () => {
    const [a, b] = [t(100, 0), t(50, 1)]
    const s = selector([a, b])
    s.onConnected(keyOf(b), 0)
    s.onLeft(keyOf(b), 100)
    assert.equal(s.failures(keyOf(b)), 0)
    assert.equal(s.current(), undefined)
  })
})

describe('target selector: going back to a better target', () => {
  it('lists better targets, best first, only while connected below the best', () => {
    const [a, b, c] = [t(100, 0), t(50, 1), t(10, 2)]
    const s = selector([a, b, c])
    assert.deepEqual(s.upgradeCandidates(), [], 'not connected: nothing to upgrade from')
    s.onConnected(keyOf(c), 0)
    assert.deepEqual(s.upgradeCandidates().map(keyOf), [a, b].map(keyOf))
    s.onConnected(keyOf(b), 10)
    assert.deepEqual(s.upgradeCandidates().map(keyOf), [keyOf(a)])
    s.onConnected(keyOf(a), 20)
    assert.deepEqual(s.upgradeCandidates(), [])
  })

  it('walks the failover: primary down -> secondary, primary back -> primary', () => {
    const [primary, secondary] = [t(100, 0), t(50, 1)]
    const s = selector([primary, secondary])
    s.onConnected(keyOf(s.next(0).target), 0)
    assert.equal(keyOf(s.current()!), keyOf(primary))
    s.onDisconnected(60_000) // the primary aggregator went away
    const fallback = s.next(60_000)
    assert.deepEqual([keyOf(fallback.target), fallback.at], [keyOf(secondary), 60_000])
    s.onConnected(keyOf(fallback.target), 60_010)
    // First reconnect tick: the primary is still down.
    assert.deepEqual(s.upgradeCandidates().map(keyOf), [keyOf(primary)])
    s.onAttemptFailed(keyOf(primary), 70_010)
    assert.equal(keyOf(s.current()!), keyOf(secondary), 'the working connection stays')
    // Second tick: the primary answers; the service switches.
    assert.deepEqual(s.upgradeCandidates().map(keyOf), [keyOf(primary)])
    s.onLeft(keyOf(secondary), 80_010)
    s.onConnected(keyOf(primary), 80_010)
    assert.deepEqual(s.upgradeCandidates(), [])
  })
})

describe('target selector: reload', () => {
  it('keeps the current connection and the backoff of targets that stay', () => {
    const [a, b, c] = [t(100, 0), t(50, 1), t(10, 2)]
    const s = selector([a, b, c])
    s.onAttemptFailed(keyOf(a), 0)
    s.onAttemptFailed(keyOf(a), 1)
    s.onConnected(keyOf(b), 2)
    const kept = s.replaceTargets([t(100, 0), t(40, 1), t(90, 3)], { ...policy, capMs: 5000 }, 5000)
    assert.equal(kept, true)
    assert.equal(keyOf(s.current()!), keyOf(b))
    assert.equal(s.failures(keyOf(a)), 2)
    assert.deepEqual(s.ranked().map((x) => x.weight), [100, 90, 40])
    assert.deepEqual(s.upgradeCandidates().map(keyOf), [keyOf(a), keyOf(t(90, 3))])
  })

  it('reports that the current target was removed', () => {
    const [a, b] = [t(100, 0), t(50, 1)]
    const s = selector([a, b])
    s.onConnected(keyOf(a), 0)
    assert.equal(s.replaceTargets([b], policy, RECONNECT_MS), false)
    assert.equal(s.current(), undefined)
    assert.equal(keyOf(s.next(1).target), keyOf(b))
  })

  it('refuses an empty target list', () => {
    assert.throws(() => selector([]))
    const s = selector([t(1, 0)])
    assert.throws(() => s.replaceTargets([], policy, RECONNECT_MS))
  })
})

describe('weighted target syntax', () => {
  it('reads WEIGHT=MULTIADDR and a bare MULTIADDR (weight 100)', () => {
    const addr = `/ip4/10.0.0.5/tcp/4100/p2p/${peers[0]}`
    assert.equal(parseWeightedTarget(`35=${addr}`).weight, 35)
    assert.equal(parseWeightedTarget(addr).weight, 100)
    assert.equal(parseWeightedTarget(` 0 = ${addr}`).weight, 0)
    assert.equal(parseWeightedTarget(addr).target.peerId.toString(), peers[0])
  })

  it('refuses weights outside 0-100 or not whole, naming the rule', () => {
    const addr = `/ip4/10.0.0.5/tcp/4100/p2p/${peers[0]}`
    for (const bad of [`101=${addr}`, `-1=${addr}`, `1.5=${addr}`, `high=${addr}`, `=${addr}`]) {
      assert.throws(() => parseWeightedTarget(bad), /whole number from 0 to 100/, bad)
    }
  })

  it('still requires the peer id', () => {
    assert.throws(() => parseWeightedTarget('50=/ip4/10.0.0.5/tcp/4100'), /does not name the aggregator's peer id/)
  })
})
