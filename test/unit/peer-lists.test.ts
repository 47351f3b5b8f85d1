import assert from 'node:assert/strict'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  ConnectionCounter, loadPeerList, parsePeerListSpec, parsePeerListText, PeerPolicy, RefusalStats,
} from '../../aggregator/ingest/peer-lists.ts'
import { PenaltyBox } from '../../aggregator/ingest/rate-limit.ts'
import { UsageError } from '../../shared/errors.ts'
import { tempDir } from '../support/processes.ts'

async function newPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

describe('peer lists', () => {
  it('reads a comma list of peer ids inline, and anything else as one file path', async () => {
    const [a, b] = [await newPeerId(), await newPeerId()]
    const inline = parsePeerListSpec(` ${a}, ${b} ,`, '--allow-peers')
    assert.equal(inline.kind, 'inline')
    assert.deepEqual(inline.kind === 'inline' && [...inline.ids], [a, b])
    assert.deepEqual(parsePeerListSpec('/etc/heartbeat/allow.txt', '--allow-peers'), { kind: 'file', path: '/etc/heartbeat/allow.txt' })
    assert.throws(() => parsePeerListSpec(`${a},not-a-peer`, '--allow-peers'), (err: unknown) => err instanceof UsageError && /not-a-peer/.test(err.message))
    assert.throws(() => parsePeerListSpec(' , ', '--deny-peers'), UsageError)
  })

  it('parses a list file with comments and blank lines, and names a bad line', async () => {
    const [a, b, c] = [await newPeerId(), await newPeerId(), await newPeerId()]
    const ids = parsePeerListText(`# fleet west\n${a}\n\n  ${b}   # lotus-2\n${c},${a}\r\n`, 'allow.txt')
    assert.deepEqual([...ids].sort(), [a, b, c].sort())
    assert.throws(() => parsePeerListText(`${a}\n12D3KooWbroken\n`, 'allow.txt'), (err: unknown) => err instanceof UsageError && /allow\.txt line 2/.test(err.message))
  })

  it('loads a file each time it is asked (that is a reload)', async () => {
    const [a, b] = [await newPeerId(), await newPeerId()]
    const path = join(tempDir('hb-lists-'), 'allow.txt')
    writeFileSync(path, `${a}\n`)
    assert.deepEqual([...await loadPeerList({ kind: 'file', path }, '--allow-peers')], [a])
    writeFileSync(path, `${a}\n${b}\n`)
    assert.deepEqual([...await loadPeerList({ kind: 'file', path }, '--allow-peers')].sort(), [a, b].sort())
    await assert.rejects(loadPeerList({ kind: 'file', path: join(path, 'missing') }, '--allow-peers'), UsageError)
    chmodSync(path, 0o600)
  })
})

describe('PeerPolicy', () => {
  it('denylist first, then allowlist, then the penalty box', async () => {
    const [a, b, c] = [await newPeerId(), await newPeerId(), await newPeerId()]
    const box = new PenaltyBox({ durationMs: 1000, capacity: 10 })
    const policy = new PeerPolicy({}, box)
    assert.equal(policy.check(a, 0), undefined, 'no lists: everyone')
    policy.setLists({ deny: new Set([a]) })
    assert.equal(policy.check(a, 0), 'denied')
    assert.equal(policy.check(b, 0), undefined)
    policy.setLists({ allow: new Set([a, b]), deny: new Set([a]) })
    assert.equal(policy.check(a, 0), 'denied', 'the denylist wins')
    assert.equal(policy.check(b, 0), undefined)
    assert.equal(policy.check(c, 0), 'not_allowed')
    box.add(b, 0)
    assert.equal(policy.check(b, 500), 'penalized')
    assert.equal(policy.check(b, 1000), undefined)
    assert.equal(policy.allowlistSize, 2)
    assert.equal(policy.denylistSize, 1)
  })
})

describe('ConnectionCounter', () => {
  it('bounds connections per key and forgets keys at zero', () => {
    const counter = new ConnectionCounter(2)
    assert.equal(counter.tryAcquire('1.2.3.4'), true)
    assert.equal(counter.tryAcquire('1.2.3.4'), true)
    assert.equal(counter.tryAcquire('1.2.3.4'), false)
    assert.equal(counter.tryAcquire('5.6.7.8'), true)
    counter.release('1.2.3.4')
    assert.equal(counter.tryAcquire('1.2.3.4'), true)
    counter.release('1.2.3.4')
    counter.release('1.2.3.4')
    counter.release('1.2.3.4')
    assert.equal(counter.count('1.2.3.4'), 0)
    assert.equal(counter.size, 1)
  })
})

describe('RefusalStats', () => {
  it('counts refusals per reason, listing every reason', () => {
    const stats = new RefusalStats()
    stats.refuse('not_allowed')
    stats.refuse('not_allowed')
    stats.refuse('penalized')
    assert.deepEqual(stats.toJSON(), { denied: 0, not_allowed: 2, penalized: 1, too_many_connections_per_ip: 0, too_many_connections_per_peer: 0, handshakes_busy: 0 })
  })
})
