// The @libp2p/utils patch (patches/@libp2p+utils+*.patch, see patches/README.md):
// LengthPrefixedDecoder stops when its buffer is empty instead of asking the
// length decoder, which throws (and the decoder catches) a RangeError for every
// chunk; Noise's decryption and our FrameDecoder both decode every beat with it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import * as varint from 'uint8-varint'

test('a chunk of whole frames is decoded without asking the length decoder about an empty buffer', () => {
  let emptyCalls = 0
  const decoder = new LengthPrefixedDecoder({
    lengthDecoder: (buf: Parameters<typeof varint.decode>[0]) => {
      if (buf.byteLength === 0) emptyCalls++
      return varint.decode(buf)
    },
  })
  const frame = (n: number): Uint8Array => new Uint8Array([...varint.encode(n), ...new Uint8Array(n).fill(7)])
  const chunk = new Uint8Array([...frame(3), ...frame(200), ...frame(1)])
  const bodies = [...decoder.decode(chunk)].map((b) => b.byteLength)
  assert.deepEqual(bodies, [3, 200, 1])
  assert.equal(emptyCalls, 0, 'the empty remainder was handed to the length decoder (unpatched @libp2p/utils)')
})

test('a partial frame still waits for the rest, and a partial length prefix too', () => {
  const decoder = new LengthPrefixedDecoder()
  const body = new Uint8Array(300).fill(1)
  const whole = new Uint8Array([...varint.encode(body.length), ...body])
  assert.deepEqual([...decoder.decode(whole.subarray(0, 1))], [], 'one byte of a two-byte prefix')
  assert.deepEqual([...decoder.decode(whole.subarray(1, 100))], [], 'prefix complete, body not')
  const out = [...decoder.decode(whole.subarray(100))]
  assert.equal(out.length, 1)
  assert.deepEqual(out[0]!.subarray(), body)
})
