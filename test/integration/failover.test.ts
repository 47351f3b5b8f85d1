import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { multiaddr } from '@multiformats/multiaddr'
import type { Agent } from '../../agent/agent.ts'
import { describeDialError } from '../../agent/dial-errors.ts'
import { serviceSpecs } from '../../agent/cli.ts'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import { ErrorCodes } from '../../shared/errors.ts'
import { HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import { captureLogger, startTestAgent, weighted } from '../support/agents.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { waitFor } from '../support/wait.ts'

const BEAT_MS = 200
const RECONNECT_MS = 1_500

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

async function aggregator (options: Parameters<typeof startTestAggregator>[0] = {}): Promise<Aggregator> {
  const a = await startTestAggregator(options)
  cleanup.push(async () => { await a.stop() })
  return a
}

async function agent (options: Parameters<typeof startTestAgent>[0]): Promise<Agent> {
  const a = await startTestAgent({ beatPeriodMs: BEAT_MS, reconnectPeriodMs: RECONNECT_MS, ...options })
  cleanup.push(async () => { await a.stop() })
  return a
}

/** A libp2p host that speaks TCP + Noise + Yamux but not the heartbeat protocol (say, a Lotus node). */
async function plainHost (): Promise<Libp2p> {
  const host = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
  cleanup.push(async () => { await host.stop() })
  return host
}

function portOf (multiaddr: string): number {
  return Number(/\/tcp\/(\d+)/.exec(multiaddr)?.[1])
}

describe('failover between weighted targets (real libp2p on loopback)', () => {
  it('moves to the secondary within one reconnect period when the primary goes, and returns when it is back, without a gap', async () => {
    const primaryKey = await generateKeyPair('Ed25519')
    const primary = await aggregator({ privateKey: primaryKey })
    const secondary = await aggregator()
    const primaryAddr = primary.multiaddrs()[0] as string
    const { logger, lines } = captureLogger()
    const a = await agent({ targets: [weighted(secondary.multiaddrs()[0] as string, 50), weighted(primaryAddr, 100)], logger })

    await waitFor(() => primary.inspect().fleet.get(a.peerId), { what: 'first beats at the primary' })
    assert.equal(secondary.inspect().fleet.get(a.peerId), undefined, 'nothing goes to the secondary while the primary answers')

    const downAt = Date.now()
    await primary.stop()
    const onSecondary = await waitFor(() => secondary.inspect().fleet.get(a.peerId), { timeoutMs: 3 * RECONNECT_MS, what: 'beats at the secondary' })
    const failoverMs = onSecondary.firstSeen - downAt
    process.stdout.write(`# failover to the secondary took ${failoverMs} ms (reconnect period ${RECONNECT_MS} ms)\n`)
    assert.ok(failoverMs < RECONNECT_MS, `failover took ${failoverMs} ms, more than one reconnect period`)

    // Let the agent probe the dead primary at least once, then bring it back on the same port with the same key.
    await waitFor(() => lines.some((l) => l.msg.startsWith('better target still unreachable')), { timeoutMs: 3 * RECONNECT_MS, what: 'a failed probe of the primary' })
    const back = await aggregator({ privateKey: primaryKey, listen: [`/ip4/127.0.0.1/tcp/${portOf(primaryAddr)}`] })
    const backAt = Date.now()
    const returned = await waitFor(() => back.inspect().fleet.get(a.peerId), { timeoutMs: 3 * RECONNECT_MS, what: 'beats at the restarted primary' })
    const returnMs = returned.firstSeen - backAt
    process.stdout.write(`# return to the primary took ${returnMs} ms after it was back\n`)
    assert.ok(returnMs < RECONNECT_MS + 1_000, `return took ${returnMs} ms`)

    // The secondary kept getting beats until the primary's stream was open: no gap in delivery.
    const lastOnSecondary = await waitFor(() => secondary.inspect().fleet.get(a.peerId)?.connected === false && secondary.inspect().fleet.get(a.peerId), { what: 'the secondary to see the agent leave' })
    const gapMs = returned.firstSeen - lastOnSecondary.lastSeen
    assert.ok(gapMs < BEAT_MS + 300, `delivery gap of ${gapMs} ms during the switch`)
    const switched = lines.find((l) => l.msg === 'switched to a higher-weighted target')
    assert.ok(switched !== undefined)
    assert.equal(switched.to, primaryAddr)
    const status = a.status()[0]
    assert.equal(status?.target, primaryAddr)
    assert.equal(status?.connected, true)
    assert.equal(status?.switches, 1)
  })

  it('rotates past a peer that does not speak the protocol, and says so', async () => {
    const plain = await plainHost()
    const good = await aggregator()
    const { logger, lines } = captureLogger()
    const plainAddr = plain.getMultiaddrs()[0]?.toString() as string
    const a = await agent({ targets: [weighted(plainAddr, 100), weighted(good.multiaddrs()[0] as string, 10)], logger })
    await waitFor(() => good.inspect().fleet.get(a.peerId), { what: 'beats at the aggregator behind the wrong peer' })
    const failure = lines.find((l) => l.level === 'warn' && l.msg.includes('failed to connect'))
    assert.ok(failure !== undefined, 'the failure is logged at WARN')
    assert.match(failure.msg, new RegExp(`does not speak ${HEARTBEAT_PROTOCOL.replaceAll('/', '\\/')}: is it a heartbeat aggregator`))
    assert.equal(failure.target, plainAddr)
    assert.equal(a.status()[0]?.targets.find((t) => t.target === plainAddr)?.failures, 1)
  })

  it('keeps trying a lone target that does not speak the protocol, with the cause in its status', async () => {
    const plain = await plainHost()
    const a = await agent({ targets: [weighted(plain.getMultiaddrs()[0]?.toString() as string)] })
    const status = await waitFor(() => { const s = a.status()[0]; return (s?.connectFailures ?? 0) >= 3 && s }, { timeoutMs: 3 * RECONNECT_MS, what: 'three failed attempts' })
    assert.match(status.lastError ?? '', /does not speak \/fil\/heartbeat\/2\.0\.0/)
    assert.equal(status.running, true, 'the service never gives up')
    assert.equal(status.connected, false)
  })

  it('names a peer id that does not match the host at the address', async () => {
    const good = await aggregator()
    const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const wrong = (good.multiaddrs()[0] as string).replace(/\/p2p\/.*$/, `/p2p/${stranger}`)
    const a = await agent({ targets: [weighted(wrong)] })
    const status = await waitFor(() => a.status()[0]?.lastError !== undefined && a.status()[0], { what: 'a failed attempt' })
    assert.match(status.lastError ?? '', /is not the peer id in the target/)
    assert.equal(good.inspect().fleet.get(a.peerId), undefined)
  })

  it('refuses, at start, a target that is the agent itself', async () => {
    const key = await generateKeyPair('Ed25519')
    const self = `/ip4/127.0.0.1/tcp/4100/p2p/${peerIdFromPrivateKey(key).toString()}`
    await assert.rejects(startTestAgent({ privateKey: key, targets: [weighted(self)] }), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.DIAL_TO_SELF)
      assert.match(err.message, /is this agent itself .*copy of the aggregator's key file/)
      return true
    })
  })

  it("names libp2p's own self-dial error too (the start check is the first line of defence)", async () => {
    const one = await aggregator()
    const a = await agent({ targets: [weighted(one.multiaddrs()[0] as string)] })
    const self = `/ip4/127.0.0.1/tcp/4100/p2p/${a.peerId}`
    const err = await a.libp2p.dialProtocol(multiaddr(self), HEARTBEAT_PROTOCOL, { signal: AbortSignal.timeout(2_000) }).then(() => undefined, (e: unknown) => e)
    assert.ok(err !== undefined, 'libp2p refuses to dial itself')
    assert.match(describeDialError(err, self), /is this agent itself/)
  })

  it('--fan-out sends to every target at once', async () => {
    const one = await aggregator()
    const two = await aggregator()
    const targets = [weighted(one.multiaddrs()[0] as string, 100), weighted(two.multiaddrs()[0] as string, 10)]
    const a = await agent({ services: serviceSpecs({ targets, fanOut: true, beatPeriodMs: BEAT_MS, reconnectPeriodMs: RECONNECT_MS }, {}) })
    await waitFor(() => (one.inspect().fleet.get(a.peerId)?.beats ?? 0) >= 3 && (two.inspect().fleet.get(a.peerId)?.beats ?? 0) >= 3, { what: 'beats at both aggregators' })
    assert.equal(a.status().length, 2)
    assert.ok(a.status().every((s) => s.connected))
  })
})

describe('live reconfiguration of a running agent', () => {
  it('changes nickname and periods on the open stream, then leaves a removed target', async () => {
    const one = await aggregator()
    const two = await aggregator()
    const oneAddr = one.multiaddrs()[0] as string
    const twoAddr = two.multiaddrs()[0] as string
    const { logger, lines } = captureLogger()
    const a = await agent({ targets: [weighted(oneAddr)], logger, nickname: 'before' })
    const first = await waitFor(() => one.inspect().fleet.get(a.peerId), { what: 'first beat' })

    const result = await a.reconfigure({
      nickname: 'after',
      services: [{ name: 'primary', targets: [weighted(oneAddr, 100), weighted(twoAddr, 10)], beatPeriodMs: 100, reconnectPeriodMs: RECONNECT_MS }],
    })
    assert.deepEqual(result, { added: [], removed: [], kept: ['primary'] })
    const renamed = await waitFor(() => one.inspect().fleet.get(a.peerId)?.beat.nickname === 'after' && one.inspect().fleet.get(a.peerId), { timeoutMs: 2 * BEAT_MS + 500, what: 'the new nickname' })
    assert.equal(renamed.connectedAtMono, first.connectedAtMono, 'the same connection')
    assert.equal(renamed.seqGaps, 0)
    assert.equal(renamed.beat.period, 100)
    assert.equal(lines.filter((l) => l.msg === 'heartbeat stream open').length, 1, 'no new stream')

    await a.reconfigure({
      nickname: 'after',
      services: [{ name: 'primary', targets: [weighted(twoAddr)], beatPeriodMs: 100, reconnectPeriodMs: RECONNECT_MS }],
    })
    await waitFor(() => two.inspect().fleet.get(a.peerId), { what: 'beats at the new target' })
    await waitFor(() => one.inspect().fleet.get(a.peerId)?.connected === false, { what: 'the removed target to see the agent leave' })
    assert.equal(a.status()[0]?.connectFailures, 0, 'leaving a removed target is not a failure')
  })

  it('rejects settings with a mistake and keeps the running ones', async () => {
    const one = await aggregator()
    const a = await agent({ targets: [weighted(one.multiaddrs()[0] as string)], nickname: 'steady' })
    await waitFor(() => one.inspect().fleet.get(a.peerId))
    const self = weighted(`/ip4/127.0.0.1/tcp/1/p2p/${a.peerId}`)
    await assert.rejects(a.reconfigure({ nickname: 'bad', services: [{ name: 'primary', targets: [self], beatPeriodMs: BEAT_MS, reconnectPeriodMs: RECONNECT_MS }] }), /this agent itself/)
    await assert.rejects(a.reconfigure({ nickname: 'bad', services: [] }), /no heartbeat target/)
    assert.equal(a.nickname, 'steady')
    const beats = one.inspect().fleet.get(a.peerId)?.beats ?? 0
    await waitFor(() => (one.inspect().fleet.get(a.peerId)?.beats ?? 0) > beats + 2, { what: 'beats to go on' })
    assert.equal(one.inspect().fleet.get(a.peerId)?.beat.nickname, 'steady')
  })
})
