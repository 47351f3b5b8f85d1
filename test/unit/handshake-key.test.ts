import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Uint8ArrayList } from 'uint8arraylist'
import { rememberingLastSignature } from '../../aggregator/ingest/handshake-key.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('the identity key remembering its last signature', () => {
  it('signs as the key does, and a repeated message costs no new signature', async () => {
    const key = await generateKeyPair('Ed25519')
    let signed = 0
    const sign = key.sign.bind(key)
    Object.defineProperty(key, 'sign', { value: (data: Uint8Array) => { signed++; return sign(data) }, writable: true, configurable: true })
    const remembering = rememberingLastSignature(key)
    const message = new TextEncoder().encode('noise-libp2p-static-key:' + 'x'.repeat(32))
    const first = await remembering.sign(message)
    const again = await remembering.sign(Uint8Array.from(message))
    const asList = await remembering.sign(new Uint8ArrayList(message.subarray(0, 5), message.subarray(5)) as unknown as Uint8Array)
    assert.equal(signed, 1, 'one signature for three requests of the same message')
    assert.deepEqual([hex(again), hex(asList)], [hex(first), hex(first)])
    assert.ok(await key.publicKey.verify(message, first))
    // Ed25519 is deterministic: what we remember is what a fresh signature would be.
    assert.equal(hex(await sign(message)), hex(first))
    first.fill(0)
    assert.ok(await key.publicKey.verify(message, await remembering.sign(message)), 'a caller changing its copy changes nothing here')
    const other = await remembering.sign(new TextEncoder().encode('another message'))
    assert.equal(signed, 2)
    assert.ok(await key.publicKey.verify(new TextEncoder().encode('another message'), other))
  })

  it('is the same key for everything else, and leaves other key types alone', async () => {
    const key = await generateKeyPair('Ed25519')
    const remembering = rememberingLastSignature(key)
    assert.equal(remembering.type, 'Ed25519')
    assert.ok(remembering.publicKey.equals(key.publicKey))
    assert.ok(remembering.equals(key))
    assert.deepEqual(remembering.raw, key.raw)
    const secp = await generateKeyPair('secp256k1')
    assert.equal(rememberingLastSignature(secp), secp)
  })
})
