import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encode as encodeCbor } from 'cbor-x'
import { decodeFrameBody, encodeFrame, encodeHeartbeat, FrameDecoder } from '../../shared/codec.ts'
import { type Heartbeat, validateHeartbeat } from '../../shared/heartbeat.ts'
import { sampleHeartbeat } from '../support/fixtures.ts'
import { LIMITS } from '../../shared/protocol.ts'


test('a heartbeat survives encode -> frame -> decode -> validate unchanged', () => {
  const hb = sampleHeartbeat()
  const frames = [...new FrameDecoder(64 * 1024).push(encodeFrame(hb))]
  assert.equal(frames.length, 1)
  const result = validateHeartbeat(decodeFrameBody(frames[0]!))
  assert.ok(result.ok)
  assert.deepEqual(result.heartbeat, hb)
})

test('frames are plain CBOR maps, readable without cbor-x extensions', () => {
  const body = encodeHeartbeat(sampleHeartbeat())
  // 0xa0..0xbf is a CBOR map header; cbor-x records would start with tag 105 (0xd8 0x69).
  assert.ok(body[0]! >= 0xa0 && body[0]! <= 0xbf, `first byte ${body[0]} is not a map`)
})

test('the frame decoder splits a stream and refuses an oversized frame', () => {
  const a = encodeFrame(sampleHeartbeat({ seq: 1 }))
  const b = encodeFrame(sampleHeartbeat({ seq: 2 }))
  const joined = new Uint8Array([...a, ...b])
  const decoder = new FrameDecoder(64 * 1024)
  const bodies = [...decoder.push(joined.subarray(0, 10)), ...decoder.push(joined.subarray(10))]
  assert.deepEqual(bodies.map((body) => (decodeFrameBody(body) as Heartbeat).seq), [1, 2])
  assert.throws(() => [...new FrameDecoder(16).push(a)], /bad frame/)
})

test('validation ignores unknown fields and rejects wrong types with a reason', () => {
  const ok = validateHeartbeat({ ...sampleHeartbeat(), extra: 'ignored' })
  assert.ok(ok.ok)
  assert.equal('extra' in ok.heartbeat, false)

  const cases: Array<[unknown, string]> = [
    ['not a map', 'not_a_map'],
    [[1, 2], 'not_a_map'],
    [{ ...sampleHeartbeat(), v: 1 }, 'bad_version'],
    [{ ...sampleHeartbeat(), height: -1 }, 'bad_type'],
    [{ ...sampleHeartbeat(), height: 1.5 }, 'bad_type'],
    [{ ...sampleHeartbeat(), head: 42 }, 'bad_type'],
    [{ ...sampleHeartbeat(), state: 'sleeping' }, 'bad_type'],
    [{ ...sampleHeartbeat(), nickname: 'x'.repeat(LIMITS.nickname + 1) }, 'too_long'],
    [{ ...sampleHeartbeat(), health: { status: 'fine', components: {} } }, 'bad_type'],
    [{ ...sampleHeartbeat(), health: { status: 'ready', components: { a: { status: 'ready', details: 'x'.repeat(LIMITS.detailsBytes) } } } }, 'details_too_large'],
    [{ ...sampleHeartbeat(), health: { status: 'ready', components: Object.fromEntries(Array.from({ length: LIMITS.componentCount + 1 }, (_, i) => [`c${i}`, { status: 'ready' }])) } }, 'too_many_components'],
  ]
  for (const [value, reason] of cases) {
    const result = validateHeartbeat(value)
    assert.equal(result.ok, false)
    if (!result.ok) assert.equal(result.reason, reason, JSON.stringify(value).slice(0, 80))
  }
})

test('malformed CBOR is a typed error, not a crash', () => {
  assert.throws(() => decodeFrameBody(new Uint8Array([0xff, 0x00, 0x13])), { code: 'ERR_INVALID_FRAME' })
  assert.equal(validateHeartbeat(decodeFrameBody(encodeCbor(7))).ok, false)
})

test('headTime and source are optional: kept when valid, absent when not sent, refused when wrong', () => {
  const plain = validateHeartbeat(sampleHeartbeat())
  assert.ok(plain.ok)
  assert.equal('headTime' in plain.heartbeat, false, 'a beat without them (an older agent) stays accepted, without them')
  assert.equal('source' in plain.heartbeat, false)

  const full = sampleHeartbeat({ headTime: 1_699_999_970_000, source: 'lotus' })
  const frames = [...new FrameDecoder(64 * 1024).push(encodeFrame(full))]
  const decoded = validateHeartbeat(decodeFrameBody(frames[0]!))
  assert.ok(decoded.ok)
  assert.deepEqual(decoded.heartbeat, full, 'both survive the wire')

  const nulls = validateHeartbeat({ ...sampleHeartbeat(), headTime: null, source: null })
  assert.ok(nulls.ok)
  assert.equal('headTime' in nulls.heartbeat, false)

  // A kind this aggregator does not know yet (a later agent) is kept as it is.
  const future = validateHeartbeat({ ...sampleHeartbeat(), source: 'forest-native' })
  assert.ok(future.ok && future.heartbeat.source === 'forest-native')

  const cases: Array<[unknown, string]> = [
    [{ ...sampleHeartbeat(), headTime: -1 }, 'bad_type'],
    [{ ...sampleHeartbeat(), headTime: 1.5 }, 'bad_type'],
    [{ ...sampleHeartbeat(), headTime: '2024-01-01T00:00:00Z' }, 'bad_type'],
    [{ ...sampleHeartbeat(), headTime: Number.MAX_SAFE_INTEGER + 2 }, 'bad_type'],
    [{ ...sampleHeartbeat(), source: 7 }, 'bad_type'],
    [{ ...sampleHeartbeat(), source: 'x'.repeat(LIMITS.source + 1) }, 'too_long'],
  ]
  for (const [value, reason] of cases) {
    const result = validateHeartbeat(value)
    assert.equal(result.ok, false, JSON.stringify(value).slice(-60))
    if (!result.ok) assert.equal(result.reason, reason)
  }
})
