import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { nativeNoiseCrypto } from '../../shared/noise-crypto.ts'

const hex = (b: Uint8Array | Uint8ArrayList): string => Buffer.from(b instanceof Uint8Array ? b : b.subarray()).toString('hex')

describe('native Noise crypto (shared/noise-crypto.ts)', () => {
  it('derives the same HKDF outputs as the default (RFC 5869, chaining key as salt, no info)', () => {
    for (let i = 0; i < 20; i++) {
      const ck = randomBytes(32)
      const ikm = randomBytes(i === 0 ? 0 : 32)
      assert.deepEqual(nativeNoiseCrypto.getHKDF(ck, ikm).map(hex), defaultCrypto.getHKDF(ck, ikm).map(hex))
    }
  })

  it('agrees with the default on every Diffie-Hellman, whichever side made the keys', () => {
    for (let i = 0; i < 10; i++) {
      const ours = nativeNoiseCrypto.generateX25519KeyPair()
      const theirs = defaultCrypto.generateX25519KeyPair()
      const shared = hex(nativeNoiseCrypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey))
      assert.equal(shared, hex(defaultCrypto.generateX25519SharedKey(theirs.privateKey, ours.publicKey)))
      assert.equal(shared, hex(defaultCrypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey)), 'our raw private key is the real one')
      // Keys it did not make (and lists) go the long way, with the same result.
      assert.equal(hex(nativeNoiseCrypto.generateX25519SharedKey(new Uint8ArrayList(theirs.privateKey), new Uint8ArrayList(ours.publicKey))), shared)
      assert.equal(hex(nativeNoiseCrypto.generateX25519SharedKey(Uint8Array.from(theirs.privateKey), ours.publicKey)), shared)
    }
  })

  it('makes the same key pair from a seed as the default', () => {
    const seed = randomBytes(32)
    const a = nativeNoiseCrypto.generateX25519KeyPairFromSeed(seed)
    const b = defaultCrypto.generateX25519KeyPairFromSeed(seed)
    assert.equal(hex(a.publicKey), hex(b.publicKey))
    assert.equal(hex(a.privateKey), hex(seed))
  })
})
