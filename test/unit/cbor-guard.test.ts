import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Encoder } from 'cbor-x'
import { checkPlainCbor, DEFAULT_MAX_CBOR_DEPTH } from '../../shared/cbor-guard.ts'
import { decodeFrameBody, encodeHeartbeat, InvalidFrameError } from '../../shared/codec.ts'
import { sampleBeat, sharedReferenceBomb } from '../support/hostile.ts'

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'))

describe('checkPlainCbor', () => {
  it('accepts what the agent encodes, and other plain CBOR', () => {
    assert.deepEqual(checkPlainCbor(encodeHeartbeat(sampleBeat())), { ok: true })
    const plain = new Encoder({ useRecords: false, tagUint8Array: false })
    for (const value of [0, -1, 2 ** 40, 1.5, Number.NaN, 'text', '', [], {}, [1, [2, [3]]], { a: { b: { c: 'd' } } }, null, true, false, new Uint8Array([1, 2])]) {
      assert.deepEqual(checkPlainCbor(plain.encode(value)), { ok: true }, `value ${JSON.stringify(value)}`)
    }
  })

  it('accepts indefinite-length strings, arrays and maps', () => {
    assert.deepEqual(checkPlainCbor(hex('bf 6161 9f 01 02 ff 6162 7f 6161 6162 ff ff')), { ok: true })
    assert.deepEqual(checkPlainCbor(hex('5f 4101 4102 ff')), { ok: true })
  })

  it('refuses tags: shared references, dates, records, bignums, sets', () => {
    for (const frame of ['d81c8101', 'c11a514b67b0', 'd9dfff82816161 01', 'c249010000000000000000', 'd90102820102', 'a1616ad81d00']) {
      const result = checkPlainCbor(hex(frame))
      assert.equal(result.ok, false, frame)
      assert.equal(!result.ok && result.reason, 'cbor_tag', frame)
    }
  })

  it('refuses the shared-reference bomb in microseconds, before cbor-x builds it', () => {
    const bomb = sharedReferenceBomb(40)
    const started = performance.now()
    const result = checkPlainCbor(bomb)
    assert.ok(performance.now() - started < 200)
    assert.equal(!result.ok && result.reason, 'cbor_tag')
  })

  it('refuses nesting deeper than the limit, and accepts it up to the limit', () => {
    const nested = (depth: number): Uint8Array => hex('81'.repeat(depth) + '01')
    assert.deepEqual(checkPlainCbor(nested(DEFAULT_MAX_CBOR_DEPTH)), { ok: true })
    const deep = checkPlainCbor(nested(DEFAULT_MAX_CBOR_DEPTH + 1))
    assert.equal(!deep.ok && deep.reason, 'too_deep')
    const veryDeep = checkPlainCbor(nested(60_000))
    assert.equal(!veryDeep.ok && veryDeep.reason, 'too_deep')
  })

  it('refuses declared lengths beyond the frame', () => {
    for (const frame of ['9bffffffff0000000001', '9affffffff01', '5affffffff01', '7affffffff01', 'baffffffff01', '9a05f5e10001', '83 01 02']) {
      const result = checkPlainCbor(hex(frame))
      assert.equal(!result.ok && result.reason, 'malformed', frame)
    }
  })

  it('refuses empty input, trailing bytes, stray breaks, reserved and simple values', () => {
    for (const frame of ['', 'a0 a0', '01 02', 'ff', '1c', '3f', 'f0', 'f820', 'a1 6161 f0', '5f 6161 ff', '5f 5f ff ff', '81 ff']) {
      const result = checkPlainCbor(hex(frame))
      assert.equal(result.ok, false, `frame "${frame}"`)
    }
  })
})

describe('decodeFrameBody', () => {
  it('round-trips a heartbeat', () => {
    assert.deepEqual(decodeFrameBody(encodeHeartbeat(sampleBeat())), sampleBeat())
  })

  it('throws a typed error with the reason for each kind of refusal', () => {
    const reasonOf = (frame: Uint8Array): string => {
      try {
        decodeFrameBody(frame)
      } catch (err) {
        assert.ok(err instanceof InvalidFrameError)
        assert.equal(err.code, 'ERR_INVALID_FRAME')
        return err.reason
      }
      return 'decoded'
    }
    assert.equal(reasonOf(sharedReferenceBomb(30)), 'cbor_tag')
    assert.equal(reasonOf(hex('81'.repeat(100) + '01')), 'too_deep')
    assert.equal(reasonOf(hex('a1 a0 01')), 'invalid_cbor')
    assert.equal(reasonOf(hex('ff')), 'invalid_cbor')
  })

  it('renames a __proto__ key instead of setting the prototype', () => {
    const value = decodeFrameBody(hex('a1 69' + Buffer.from('__proto__').toString('hex') + 'a1616101')) as Record<string, unknown>
    assert.equal(Object.getPrototypeOf(value), Object.prototype)
    assert.equal(value.a, undefined)
    assert.deepEqual(Object.keys(value), ['__proto_'])
  })
})
