// Property tests: hostile frames against the frame decoder, the validator and
// the fold. Over 10,000 generated frames per run (random bytes, random CBOR
// values, heartbeat-shaped maps with wrong fields, and valid frames mutated
// by bit flips, truncation, splicing and forged length prefixes). For each:
// nothing but a typed frame error escapes, and no other node's state changes.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Encoder } from 'cbor-x'
import fc from 'fast-check'
import * as varint from 'uint8-varint'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { exposeNode } from '../../aggregator/fleet/exposure.ts'
import { deriveStatus } from '../../aggregator/fleet/status.ts'
import { NODE_STATUSES, type FleetEvent } from '../../aggregator/fleet/types.ts'
import { fleetViews, nodeViewOf } from '../../aggregator/fleet/view.ts'
import { createHeartbeatHandler, readHeartbeatFrame } from '../../aggregator/ingest/v2-handler.ts'
import { IngestStats } from '../../aggregator/ingest/stats.ts'
import { createLogger } from '../../shared/log.ts'
import type { Connection } from '@libp2p/interface'
import { streamPair } from '@libp2p/utils'
import { encodeFrame, encodeHeartbeat, FrameDecoder } from '../../shared/codec.ts'
import { HeartbeatError } from '../../shared/errors.ts'
import { HEALTH_STATUSES } from '../../shared/health.ts'
import { validateHeartbeat, type Heartbeat } from '../../shared/heartbeat.ts'
import { DEFAULT_MAX_FRAME_BYTES, LIMITS, MAX_UINT } from '../../shared/protocol.ts'
import { beatWithRawDetails, sampleBeat, sharedReferenceBomb } from '../support/hostile.ts'
import { at as instant } from '../support/instant.ts'

const HONEST = ['12D3KooWHonestA', '12D3KooWHonestB', '12D3KooWHonestC']
const HOSTILE = '12D3KooWHostile'
const T0 = 1_700_000_000_000
/** Frames generated per property; the five properties together exceed 10,000. */
const RUNS = { mutated: 5000, cborValues: 2500, shaped: 2000, bytes: 1000, fold: 1000, handler: 300 }

let framesSeen = 0

// Anything a CBOR encoder can produce, including what the protocol forbids:
// records, structured-clone references, dates, sets, maps, typed arrays.
const plainEncoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })
const richEncoder = new Encoder({ useRecords: true, structuredClone: true, tagUint8Array: true, pack: true } as ConstructorParameters<typeof Encoder>[0])

const statusArb = fc.constantFrom(...HEALTH_STATUSES)
const detailsArb = fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined })
const componentsArb = fc.dictionary(
  fc.string({ minLength: 1, maxLength: LIMITS.componentName }),
  fc.record({ status: statusArb, details: detailsArb }, { requiredKeys: ['status'] }),
  { maxKeys: 8 },
)
/** Valid heartbeats, edges included (empty strings, the largest integers, unusual names). */
const heartbeatArb: fc.Arbitrary<Heartbeat> = fc.record({
  v: fc.constant(2 as const),
  head: fc.string({ maxLength: 200 }),
  height: fc.oneof(fc.nat(), fc.constant(MAX_UINT)),
  nickname: fc.string({ maxLength: LIMITS.nickname }),
  minerAddress: fc.string({ maxLength: 40 }),
  network: fc.string({ maxLength: 40 }),
  seq: fc.oneof(fc.nat(), fc.constant(MAX_UINT)),
  sentAt: fc.oneof(fc.nat(), fc.constant(MAX_UINT)),
  period: fc.oneof(fc.nat(), fc.constant(MAX_UINT)),
  health: fc.record({ status: statusArb, components: componentsArb }),
  agent: fc.record({ version: fc.string({ maxLength: LIMITS.agentVersion }), startedAt: fc.nat() }),
  state: fc.constantFrom('running' as const, 'stopping' as const),
})

/** A value that is sometimes right for a field, often not. */
const fieldValueArb = fc.oneof(
  fc.anything(),
  fc.string(), fc.string({ minLength: 9000, maxLength: 9100 }),
  fc.integer(), fc.double(), fc.bigInt(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, MAX_UINT + 1, 2 ** 64),
  fc.constant(null), fc.constant(undefined), fc.boolean(),
  fc.date(), fc.uint8Array({ maxLength: 16 }),
)
/** Heartbeat-shaped maps with some fields replaced, removed or added. */
const shapedArb = fc.tuple(heartbeatArb, fc.dictionary(fc.constantFrom('v', 'head', 'height', 'nickname', 'minerAddress', 'network', 'seq', 'sentAt', 'period', 'health', 'agent', 'state', '__proto__', 'constructor', 'extra'), fieldValueArb, { maxKeys: 4 }))
  .map(([beat, patch]) => ({ ...beat, ...patch }))

function encodeBody (value: unknown, rich: boolean): Uint8Array | undefined {
  try {
    return (rich ? richEncoder : plainEncoder).encode(value)
  } catch {
    return undefined // not encodable (e.g. a symbol): nothing to send
  }
}

function frameOf (body: Uint8Array): Uint8Array {
  const prefix = varint.encode(body.length)
  const frame = new Uint8Array(prefix.length + body.length)
  frame.set(prefix)
  frame.set(body, prefix.length)
  return frame
}

type Mutation =
  | { kind: 'flip', positions: number[], bits: number[] }
  | { kind: 'truncate', at: number }
  | { kind: 'prefix', length: number }
  | { kind: 'insert', at: number, bytes: Uint8Array }
  | { kind: 'splice', at: number, other: Uint8Array }
  | { kind: 'repeat', times: number }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), positions: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), bits: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 8, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('prefix' as const), length: fc.oneof(fc.nat(200), fc.nat(), fc.constantFrom(DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_FRAME_BYTES + 1, 2 ** 31, Number.MAX_SAFE_INTEGER)) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), other: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ kind: fc.constant('repeat' as const), times: fc.integer({ min: 2, max: 4 }) }),
)

function mutate (frame: Uint8Array, m: Mutation): Uint8Array {
  const out = Uint8Array.from(frame)
  switch (m.kind) {
    case 'flip':
      m.positions.forEach((p, i) => { const at = p % out.length; out[at] = (out[at] as number) ^ (1 << (m.bits[i] ?? 0)) })
      return out
    case 'truncate':
      return out.subarray(0, m.at % out.length)
    case 'prefix': {
      // Replace the length prefix, keep the body: the declared length lies.
      let bodyStart = 0
      try { bodyStart = varint.encodingLength(varint.decode(frame)) } catch { /* no prefix left: all body */ }
      const prefix = varint.encode(m.length)
      const forged = new Uint8Array(prefix.length + frame.length - bodyStart)
      forged.set(prefix)
      forged.set(frame.subarray(bodyStart), prefix.length)
      return forged
    }
    case 'insert': {
      const at = m.at % (out.length + 1)
      return Uint8Array.from([...out.subarray(0, at), ...m.bytes, ...out.subarray(at)])
    }
    case 'splice': {
      const at = m.at % (out.length + 1)
      return Uint8Array.from([...out.subarray(0, at), ...m.other])
    }
    case 'repeat':
      return Uint8Array.from(Array.from({ length: m.times }, () => [...out]).flat())
  }
}

/** A fleet with honest nodes already in it, and the exact records they hold. */
function honestFleet (at: number = T0): { fleet: FleetState, before: Map<string, unknown> } {
  const fleet = new FleetState()
  HONEST.forEach((peerId, i) => {
    fleet.apply({ type: 'beat', peerId, heartbeat: sampleBeat({ nickname: `honest-${i}`, seq: i }), protocol: 'v2', remoteAddr: `/ip4/10.0.0.${i}/tcp/4001` }, instant(at))
  })
  return { fleet, before: new Map(HONEST.map((p) => [p, fleet.get(p)])) }
}

/**
 * What the ingest does with a byte stream from the hostile peer, minus the
 * socket: split frames with the size limit (a broken prefix is a typed error
 * that resets the stream), read each frame, fold the valid ones.
 */
function ingestBytes (fleet: FleetState, chunks: Uint8Array[], now: number): { accepted: number, rejected: number } {
  const decoder = new FrameDecoder(DEFAULT_MAX_FRAME_BYTES)
  let accepted = 0
  let rejected = 0
  try {
    for (const chunk of chunks) {
      for (const body of decoder.push(chunk)) {
        framesSeen++
        const verdict = readHeartbeatFrame(body)
        if (!verdict.ok) {
          assert.equal(typeof verdict.reason, 'string')
          rejected++
          return { accepted, rejected } // a bad frame resets the stream: nothing after it is read
        }
        fleet.apply({ type: 'beat', peerId: HOSTILE, heartbeat: verdict.heartbeat, protocol: 'v2', remoteAddr: '/ip4/203.0.113.9/tcp/1' }, instant(now))
        accepted++
      }
    }
  } catch (err) {
    assert.ok(err instanceof HeartbeatError, `only typed frame errors may escape the decoder, got ${String(err)}`)
    rejected++
  }
  return { accepted, rejected }
}

/** The invariants after any input: honest records untouched, the hostile node (if any) well-formed and servable. */
function assertContained (fleet: FleetState, before: Map<string, unknown>, now: number): void {
  for (const peerId of HONEST) assert.equal(fleet.get(peerId), before.get(peerId), `honest node ${peerId} changed`)
  assert.ok(fleet.size <= HONEST.length + 1)
  fleet.tick(instant(now))
  const hostile = fleet.get(HOSTILE)
  if (hostile === undefined) return
  const revalidated = validateHeartbeat(JSON.parse(JSON.stringify(hostile.beat)))
  assert.ok(revalidated.ok, 'the stored beat is a valid heartbeat')
  const verdict = deriveStatus(hostile, now)
  assert.ok(NODE_STATUSES.includes(verdict.status))
  assert.ok(verdict.status === 'healthy' || verdict.reason !== '', 'a non-healthy status has a reason')
  const view = nodeViewOf(fleet, HOSTILE, instant(now))
  assert.ok(view !== undefined, 'the hostile node has a view')
  assert.ok(JSON.stringify(fleetViews(fleet, instant(now))).length > 0, 'the whole fleet still renders')
  for (const details of [true, false]) assert.ok(JSON.stringify(exposeNode(view, details, hostile.remoteAddr)).length < 10 * DEFAULT_MAX_FRAME_BYTES)
}

/** Splits bytes into chunks at the given cut points (lpStream sees arbitrary chunking). */
function chunked (bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let from = 0
  for (const p of points) { chunks.push(bytes.subarray(from, p)); from = p }
  chunks.push(bytes.subarray(from))
  return chunks
}

describe('hostile frames (property-based)', () => {
  it('mutated valid frames: bit flips, truncation, forged length prefixes, insertions, splices, repeats', () => {
    fc.assert(fc.property(heartbeatArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 4 }), (beat, mutations, cuts) => {
      const { fleet, before } = honestFleet()
      const bytes = mutations.reduce((frame, m) => mutate(frame, m), encodeFrame(beat))
      ingestBytes(fleet, chunked(bytes, cuts), T0 + 1000)
      assertContained(fleet, before, T0 + 1000)
    }), { numRuns: RUNS.mutated })
  })

  it('random CBOR values, plain and with every cbor-x extension (records, references, tags)', () => {
    fc.assert(fc.property(fc.oneof(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true }), fc.object()), fc.boolean(), (value, rich) => {
      const body = encodeBody(value, rich)
      fc.pre(body !== undefined && body.length > 0)
      const { fleet, before } = honestFleet()
      ingestBytes(fleet, [frameOf(body as Uint8Array)], T0 + 1000)
      assertContained(fleet, before, T0 + 1000)
    }), { numRuns: RUNS.cborValues })
  })

  it('heartbeat-shaped maps with wrong, missing and extra fields: refused with a reason, or folded clean', () => {
    fc.assert(fc.property(shapedArb, fc.boolean(), (value, rich) => {
      const body = encodeBody(value, rich)
      fc.pre(body !== undefined)
      const { fleet, before } = honestFleet()
      const { accepted, rejected } = ingestBytes(fleet, [frameOf(body as Uint8Array)], T0 + 1000)
      assert.equal(accepted + rejected, 1)
      assertContained(fleet, before, T0 + 1000)
      if (accepted === 1) {
        // Only the known fields were kept: nothing the peer invented leaks onward.
        assert.deepEqual(Object.keys(fleet.get(HOSTILE)?.beat ?? {}).sort(), ['agent', 'head', 'health', 'height', 'minerAddress', 'network', 'nickname', 'period', 'sentAt', 'seq', 'state', 'v'])
      }
    }), { numRuns: RUNS.shaped })
  })

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), fc.array(fc.nat(), { maxLength: 4 }), (bytes, cuts) => {
      const { fleet, before } = honestFleet()
      ingestBytes(fleet, chunked(bytes, cuts), T0 + 1000)
      assertContained(fleet, before, T0 + 1000)
    }), { numRuns: RUNS.bytes })
  })

  it('the fold: any sequence of valid beats and connection events from one peer, at any times, touches only that peer', () => {
    const eventArb: fc.Arbitrary<{ event: FleetEvent, dt: number }> = fc.record({
      event: fc.oneof(
        heartbeatArb.map((heartbeat): FleetEvent => ({ type: 'beat', peerId: HOSTILE, heartbeat, protocol: 'v2' })),
        fc.constant<FleetEvent>({ type: 'connected', peerId: HOSTILE }),
        fc.constant<FleetEvent>({ type: 'disconnected', peerId: HOSTILE }),
      ),
      // The aggregator clock may even step back.
      dt: fc.integer({ min: -60_000, max: 3_600_000 }),
    })
    fc.assert(fc.property(fc.array(eventArb, { minLength: 1, maxLength: 20 }), (events) => {
      const { fleet, before } = honestFleet()
      let now = T0
      for (const { event, dt } of events) {
        now += dt
        framesSeen++
        fleet.apply(event, instant(now))
        assertContained(fleet, before, now)
      }
    }), { numRuns: RUNS.fold })
  })

  it('structure-sharing bombs (one object referenced twice per level) are refused at once', () => {
    fc.assert(fc.property(fc.integer({ min: 22, max: 30 }), fc.string({ maxLength: 20 }), (levels, nickname) => {
      const body = beatWithRawDetails(encodeHeartbeat, sampleBeat({ nickname }), sharedReferenceBomb(levels))
      assert.ok(body.length < 1000, 'the bomb is small on the wire')
      framesSeen++
      const started = performance.now()
      const verdict = readHeartbeatFrame(body)
      const elapsed = performance.now() - started
      assert.ok(elapsed < 500, `took ${elapsed.toFixed(0)} ms`)
      assert.equal(!verdict.ok && verdict.reason, 'cbor_tag')
    }), { numRuns: 20 })
  })

  it('the real stream handler: never rejects, folds only valid frames, leaves honest nodes alone', async () => {
    // The handler folds at the wall clock, so the honest nodes must be recent on it too.
    const { fleet, before } = honestFleet(Date.now())
    const stats = new IngestStats()
    const handler = createHeartbeatHandler({
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      apply: (event) => { fleet.apply(event, instant(Date.now())) },
      stats,
      logger: createLogger({ name: 'property', level: 'silent' }),
      firstFrameTimeoutMs: 500,
    })
    const connection = { remotePeer: { toString: () => HOSTILE }, remoteAddr: { toString: () => '/ip4/203.0.113.9/tcp/1' } } as unknown as Connection
    const inputArb = fc.oneof(
      fc.tuple(heartbeatArb, fc.array(mutationArb, { minLength: 1, maxLength: 2 })).map(([beat, ms]) => ms.reduce((f, m) => mutate(f, m), encodeFrame(beat))),
      fc.uint8Array({ maxLength: 256 }),
      shapedArb.map((v) => encodeBody(v, false) ?? new Uint8Array()).map(frameOf),
    )
    await fc.assert(fc.asyncProperty(inputArb, async (bytes) => {
      framesSeen++
      const [outbound, inbound] = await streamPair()
      const handled = handler(inbound, connection)
      if (bytes.length > 0) outbound.send(bytes)
      await outbound.close().catch(() => {})
      await handled // rejects only if something escaped the handler
      assertContained(fleet, before, Date.now())
    }), { numRuns: RUNS.handler })
    assert.equal(stats.streamsOpened, RUNS.handler)
    // Both paths ran: some frames were folded (repeats of a valid frame), many refused.
    assert.ok(stats.accepted > 0, JSON.stringify(stats))
    assert.ok(stats.totalRejected() > 0, JSON.stringify(stats))
  })

  it('saw at least 10,000 frames and events in this run', () => {
    assert.ok(framesSeen >= 10_000, `only ${framesSeen} frames reached the validator or the fold`)
  })
})
