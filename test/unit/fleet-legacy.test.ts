import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { LEGACY_AGENT_VERSION, LineSplitter, parseLegacyLine } from '../../aggregator/ingest/legacy-heartbeat.ts'
import { StreamRejected } from '../../aggregator/ingest/rejections.ts'

const context = { index: 3, streamOpenedAt: 1_000, now: 5_000 }
const HEAD = '{ bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3uy6uue42v4 bafy2bzacebfkc4mwkadcqxdd5xtbmnlubcvtjdbg36hidmdkmkjyhgp4eayo }'

function rejection (line: string): string {
  try {
    parseLegacyLine(line, context)
  } catch (err) {
    assert.ok(err instanceof StreamRejected)
    return err.reason
  }
  assert.fail(`accepted ${line}`)
}

describe('parseLegacyLine', () => {
  it("reads a line as go-filecoin's json.Encoder wrote it (HTML escapes, empty address)", () => {
    // Go escapes < and > in strings by default: address.Undef goes out as "\u003cempty\u003e".
    const line = `{"Head":"${HEAD}","Height":12345,"Nickname":"fc-node \\u0026 co","MinerAddress":"\\u003cempty\\u003e"}`
    const hb = parseLegacyLine(line, context)
    assert.deepEqual(hb, {
      v: 2,
      head: HEAD,
      height: 12345,
      nickname: 'fc-node & co',
      minerAddress: '',
      network: '',
      seq: 3,
      sentAt: 5_000,
      period: 0,
      health: { status: 'ready', components: {} },
      agent: { version: LEGACY_AGENT_VERSION, startedAt: 1_000 },
      state: 'running',
    })
  })

  it('keeps a real miner address and reads the genesis CID as go-cid marshals it, or as a string', () => {
    const cid = 'bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2'
    const asCid = parseLegacyLine(`{"Head":"{ a }","Height":1,"Nickname":"n","MinerAddress":"t01000","GenesisCID":{"/":"${cid}"}}`, context)
    assert.equal(asCid.minerAddress, 't01000')
    assert.equal(asCid.network, cid)
    assert.equal(parseLegacyLine(`{"Head":"{ a }","Height":1,"Nickname":"n","MinerAddress":"","GenesisCID":"${cid}"}`, context).network, cid)
    assert.equal(parseLegacyLine('{"Head":"{ a }","Height":1,"Nickname":"n","MinerAddress":"empty","GenesisCID":null}', context).network, '')
  })

  it('refuses what is not a heartbeat, with a reason', () => {
    assert.equal(rejection('{"Head":"{ a }",'), 'legacy_bad_json')
    assert.equal(rejection('[1,2]'), 'legacy_bad_json')
    assert.equal(rejection('null'), 'legacy_bad_json')
    assert.equal(rejection('{"Head":7,"Height":1,"Nickname":"n","MinerAddress":""}'), 'bad_type')
    assert.equal(rejection('{"Head":"x","Height":-1,"Nickname":"n","MinerAddress":""}'), 'bad_type')
    assert.equal(rejection('{"Head":"x","Height":18446744073709551615,"Nickname":"n","MinerAddress":""}'), 'bad_type')
    assert.equal(rejection('{"Head":"x","Height":1.5,"Nickname":"n","MinerAddress":""}'), 'bad_type')
    assert.equal(rejection('{"Head":"x","Height":1,"MinerAddress":""}'), 'bad_type')
    assert.equal(rejection(`{"Head":"x","Height":1,"Nickname":"${'n'.repeat(200)}","MinerAddress":""}`), 'too_long')
    assert.equal(rejection('{"Head":"x","Height":1,"Nickname":"n","MinerAddress":"","GenesisCID":[1]}'), 'bad_type')
  })
})

describe('LineSplitter', () => {
  const enc = new TextEncoder()
  const dec = new TextDecoder()

  it('yields the same lines however the bytes are chunked (property)', () => {
    const lines = ['{"a":1}', '', '{"b":"ü€"}', '{"c":3}']
    const bytes = enc.encode(lines.join('\n') + '\n')
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 8 }), (cuts) => {
      const points = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b)
      const splitter = new LineSplitter(64)
      const out: string[] = []
      for (let i = 0; i + 1 < points.length; i++) {
        for (const line of splitter.push(bytes.subarray(points[i], points[i + 1]))) out.push(dec.decode(line))
      }
      assert.deepEqual(out, lines)
      assert.equal(splitter.buffered, 0)
    }))
  })

  it('refuses a line over the limit before it ends', () => {
    const splitter = new LineSplitter(10)
    assert.deepEqual([...splitter.push(enc.encode('0123456789\n'))].map((l) => dec.decode(l)), ['0123456789'])
    assert.deepEqual([...splitter.push(enc.encode('01234'))], [])
    assert.throws(() => [...splitter.push(enc.encode('567890'))], (err: unknown) => err instanceof StreamRejected && err.reason === 'frame_too_large')
  })

  it('does not keep a reference to chunks the transport may reuse', () => {
    const splitter = new LineSplitter(64)
    const chunk = enc.encode('abc')
    assert.deepEqual([...splitter.push(chunk)], [])
    chunk.fill(0x7a)
    assert.deepEqual([...splitter.push(enc.encode('d\n'))].map((l) => dec.decode(l)), ['abcd'])
  })
})
