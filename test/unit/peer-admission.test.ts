import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { MultiaddrConnection, PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { BeatBudget } from '../../aggregator/ingest/beat-budget.ts'
import type { IngestLimits } from '../../aggregator/ingest/limits.ts'
import { PeerAdmission, type PeerListsConfig } from '../../aggregator/ingest/peer-admission.ts'
import { createLogger } from '../../shared/log.ts'
import { ManualClock } from '../support/manual-clock.ts'

function capturingLogger (): { lines: Array<Record<string, unknown>>, logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = []
  return { lines, logger: createLogger({ name: 'guard', destination: { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>) } } }) }
}

/** A raw connection stand-in: an address, a status, and a close event. */
function fakeConnection (address: string): MultiaddrConnection & { close (): void } {
  const events = new EventTarget()
  const conn = {
    remoteAddr: multiaddr(address),
    status: 'open',
    addEventListener: events.addEventListener.bind(events),
    close () { conn.status = 'closed'; events.dispatchEvent(new Event('close')) },
  }
  return conn as unknown as MultiaddrConnection & { close (): void }
}

/** Peer admission and the beat budget it shares the penalty box with, on a clock that starts at 0. */
function ingestGuards (options: { limits?: Partial<IngestLimits>, peerLists?: PeerListsConfig, logger: ReturnType<typeof createLogger> }): { admission: PeerAdmission, budget: BeatBudget, clock: ManualClock } {
  const clock = new ManualClock({ wallStart: 0 })
  const admission = new PeerAdmission({ ...options, clock })
  return { admission, budget: new BeatBudget({ limits: options.limits, admission, clock }), clock }
}

async function peer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('peer admission and beat budget', () => {
  it('bounds raw connections per IP and gives the slot back when one closes', async () => {
    const { logger } = capturingLogger()
    const { admission } = ingestGuards({ limits: { maxConnectionsPerIp: 2 }, logger })
    const gater = admission.connectionGater(() => 0)
    const deny = gater.denyInboundConnection as (c: MultiaddrConnection) => boolean
    const [a, b, c] = [fakeConnection('/ip4/198.51.100.7/tcp/1'), fakeConnection('/ip4/198.51.100.7/tcp/2'), fakeConnection('/ip4/198.51.100.7/tcp/3')]
    assert.deepEqual([deny(a), deny(b), deny(c)], [false, false, true])
    assert.equal(deny(fakeConnection('/ip6/2001:db8::1/tcp/1')), false, 'other addresses are counted apart')
    a.close()
    a.close()
    assert.equal(admission.perIp.count('198.51.100.7'), 1, 'a close releases once')
    assert.equal(deny(fakeConnection('/ip4/198.51.100.7/tcp/4')), false)
    assert.equal(admission.refusals.count('too_many_connections_per_ip'), 1)
  })

  it('admits handshakes at TCP accept only while those under way fit the budget, and counts how they end', async () => {
    const { lines, logger } = capturingLogger()
    const clock = new ManualClock({ wallStart: 0 })
    const admission = new PeerAdmission({ logger, clock, maxPendingHandshakes: 100 })
    const gater = admission.connectionGater(() => 0)
    const deny = gater.denyInboundConnection as (c: MultiaddrConnection) => boolean
    const upgraded = gater.denyInboundUpgradedConnection as (p: PeerId, c: MultiaddrConnection) => boolean
    const someone = await peer()
    // Nothing has completed yet: the floor (64) is admitted, the next is refused before any crypto.
    const first = Array.from({ length: 64 }, (_, i) => fakeConnection(`/ip4/198.51.100.9/tcp/${i + 1}`))
    assert.ok(first.every((c) => !deny(c)))
    const refused = fakeConnection('/ip4/198.51.100.9/tcp/999')
    assert.equal(deny(refused), true)
    assert.equal(admission.refusals.count('handshakes_busy'), 1)
    assert.equal(admission.perIp.count('198.51.100.9'), 64, 'a refused connection holds no per-IP slot')
    assert.ok(lines.some((l) => l.reason === 'handshakes_busy'), 'the refusal is logged')
    // 60 complete within the window: 60/s x 2.5 s = 150 > the cap of 100; 4 are abandoned (closed before upgrade).
    for (const c of first.slice(0, 60)) assert.equal(upgraded(someone, c), false)
    for (const c of first.slice(60)) c.close()
    first[0]!.close() // a completed connection closing later is no abandonment
    const snap = admission.handshakes.snapshot(clock.monotonic())
    assert.deepEqual({ ...snap, completedPerSecond: undefined }, { admitted: 64, completed: 60, abandoned: 4, refused: 1, underWay: 0, limit: 100, completedPerSecond: undefined })
    assert.equal(admission.snapshot(0).handshakes !== undefined, true)
    // A second later the window is empty again: back to the floor.
    clock.advance(1_000)
    assert.equal(admission.handshakes.limit(clock.monotonic()), 64)
  })

  it('refuses by list, penalty and connections per peer after the handshake', async () => {
    const { logger } = capturingLogger()
    const [allowed, other, busy] = [await peer(), await peer(), await peer()]
    const { admission } = ingestGuards({
      peerLists: { allowPeers: { kind: 'inline', ids: new Set([allowed.toString(), busy.toString()]) } },
      limits: { maxConnectionsPerPeer: 2 },
      logger,
    })
    await admission.loadPeerLists()
    const gater = admission.connectionGater((p) => p.equals(busy) ? 2 : 0)
    const deny = gater.denyInboundEncryptedConnection as (p: PeerId, c: MultiaddrConnection) => boolean
    const conn = fakeConnection('/ip4/198.51.100.8/tcp/1')
    assert.equal(deny(allowed, conn), false)
    assert.equal(deny(other, conn), true)
    assert.equal(deny(busy, conn), true)
    admission.penalties.add(allowed.toString(), 0)
    assert.equal(deny(allowed, conn), true)
    assert.deepEqual(admission.refusals.toJSON(), { denied: 0, not_allowed: 1, penalized: 1, too_many_connections_per_ip: 0, too_many_connections_per_peer: 1, handshakes_busy: 0 })
  })

  it('drops beats past the budget, then resets and penalizes a flooder, logging at a bounded rate', () => {
    const { lines, logger } = capturingLogger()
    const { admission, budget, clock } = ingestGuards({ limits: { beatRatePerSecond: 1, beatBurst: 2, floodDrops: 5, floodPenaltyMs: 60_000 }, logger })
    const fleet = { known: true, size: 1 }
    const actions = Array.from({ length: 7 }, () => budget.spend('p', fleet))
    assert.deepEqual(actions.map((a) => a.action === 'accept' ? 'accept' : `${a.action}:${a.reason}`),
      ['accept', 'accept', 'drop:rate_limited', 'drop:rate_limited', 'drop:rate_limited', 'drop:rate_limited', 'reset:flooding'])
    assert.equal(admission.check('p'), 'penalized')
    clock.advance(60_000)
    assert.equal(admission.check('p'), undefined, 'the penalty ends')
    assert.equal(lines.filter((l) => l.peer === 'p').length, 1)
  })

  it('refuses beats of a new peer once the fleet is full, never those of a known node', () => {
    const { logger } = capturingLogger()
    const { budget } = ingestGuards({ limits: { maxNodes: 3 }, logger })
    assert.deepEqual(budget.spend('new', { known: false, size: 3 }), { action: 'reset', reason: 'fleet_full' })
    assert.deepEqual(budget.spend('old', { known: true, size: 3 }), { action: 'accept' })
    assert.deepEqual(budget.spend('new', { known: false, size: 2 }), { action: 'accept' })
  })

  it('keeps the running lists when a reload fails', async () => {
    const { lines, logger } = capturingLogger()
    const id = (await peer()).toString()
    const { admission } = ingestGuards({ peerLists: { allowPeers: { kind: 'inline', ids: new Set([id]) }, denyPeers: { kind: 'file', path: '/nonexistent/deny.txt' } }, logger })
    await assert.rejects(admission.loadPeerLists())
    admission.policy.setLists({ allow: new Set([id]) })
    assert.equal(await admission.reloadPeerLists(), false)
    assert.equal(admission.check(id), undefined)
    assert.equal(admission.check('someone-else'), 'not_allowed')
    assert.ok(lines.some((l) => l.msg === 'peer lists not reloaded; the running lists stay'))
  })
})
