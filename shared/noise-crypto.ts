/**
 * The Noise handshake's primitives on Node's native crypto throughout, for
 * @chainsafe/libp2p-noise's `crypto` option. Its default already uses Node for
 * X25519 and SHA-256 (and ChaCha20-Poly1305, the WebAssembly one for small
 * messages, which is faster there), but:
 *
 * - HKDF runs in JavaScript (@noble/hashes): four per XX handshake, ~17 µs each
 *   here against ~6 µs for `hkdfSync` (same RFC 5869 output: extract with the
 *   chaining key as salt, expand 96 bytes with no info).
 * - Every Diffie-Hellman re-imports both keys from DER (`createPrivateKey` and
 *   `createPublicKey`): three per handshake, ~70 µs each. Here the private keys
 *   made by this module (the static key, each handshake's ephemeral key) keep
 *   their `KeyObject`, and a remote public key is imported once for the two
 *   exchanges it takes part in: ~35 µs each.
 *
 * Same keys, same bytes on the wire: only where the work is done changes
 * (test/unit/noise-crypto.test.ts checks it against the default).
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import type { Uint8ArrayList } from 'uint8arraylist'

/** DER framing of a raw X25519 key (RFC 8410): SubjectPublicKeyInfo and PKCS #8 prefixes. */
const X25519_SPKI_PREFIX = Buffer.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])
const X25519_PKCS8_PREFIX = Buffer.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])
const KEY_BYTES = 32
/** Noise's HKDF yields three 32-byte outputs. */
const HKDF_BYTES = 3 * KEY_BYTES
const NO_INFO = new Uint8Array(0)

/** KeyObjects of the private keys this module made, by the raw bytes it handed out. */
const privateKeys = new WeakMap<Uint8Array, KeyObject>()
/** Remote public keys already imported (the responder's ee and es both use the initiator's ephemeral key). */
const publicKeys = new WeakMap<Uint8Array, KeyObject>()

function keyPair (privateKey: KeyObject, publicKey: KeyObject): { publicKey: Uint8Array, privateKey: Uint8Array } {
  const publicRaw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(X25519_SPKI_PREFIX.length))
  const privateRaw = new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(X25519_PKCS8_PREFIX.length))
  privateKeys.set(privateRaw, privateKey)
  return { publicKey: publicRaw, privateKey: privateRaw }
}

function bytes (data: Uint8Array | Uint8ArrayList): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray()
}

function privateKeyObject (raw: Uint8Array | Uint8ArrayList): KeyObject {
  if (raw instanceof Uint8Array) {
    const known = privateKeys.get(raw)
    if (known !== undefined) return known
  }
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, bytes(raw)]), format: 'der', type: 'pkcs8' })
}

function publicKeyObject (raw: Uint8Array | Uint8ArrayList): KeyObject {
  if (!(raw instanceof Uint8Array)) return createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, raw.subarray()]), format: 'der', type: 'spki' })
  let key = publicKeys.get(raw)
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
    publicKeys.set(raw, key)
  }
  return key
}

export const nativeNoiseCrypto: ICryptoInterface = {
  hashSHA256: defaultCrypto.hashSHA256,
  chaCha20Poly1305Encrypt: defaultCrypto.chaCha20Poly1305Encrypt,
  chaCha20Poly1305Decrypt: defaultCrypto.chaCha20Poly1305Decrypt,

  getHKDF (ck: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
    const okm = new Uint8Array(hkdfSync('sha256', ikm, ck, NO_INFO, HKDF_BYTES))
    return [okm.subarray(0, KEY_BYTES), okm.subarray(KEY_BYTES, 2 * KEY_BYTES), okm.subarray(2 * KEY_BYTES)]
  },

  generateX25519KeyPair () {
    const { privateKey, publicKey } = generateKeyPairSync('x25519')
    return keyPair(privateKey, publicKey)
  },

  generateX25519KeyPairFromSeed (seed: Uint8Array) {
    const privateKey = privateKeyObject(seed)
    return keyPair(privateKey, createPublicKey(privateKey))
  },

  generateX25519SharedKey (privateKey: Uint8Array | Uint8ArrayList, publicKey: Uint8Array | Uint8ArrayList): Uint8Array {
    return diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(publicKey) })
  },
}
