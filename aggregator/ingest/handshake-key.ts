import type { AbortOptions, PrivateKey } from '@libp2p/interface'

/**
 * The aggregator's identity key as its libp2p host uses it, with the last
 * signature remembered. In every Noise handshake the responder signs the same
 * message (its static Noise key, which lives as long as the host), and
 * js-libp2p-noise signs it afresh each time: ~50-60 µs of every inbound
 * connection. Ed25519 signatures are deterministic (RFC 8032: the same key
 * and message give the same signature), so answering a repeated message from
 * memory gives exactly the bytes a new signature would. Other key types are
 * returned unchanged.
 */
export function rememberingLastSignature (key: PrivateKey): PrivateKey {
  if (key.type !== 'Ed25519') return key
  let lastMessage: Uint8Array | undefined
  let lastSignature: Uint8Array | undefined
  const sign = async (data: Parameters<PrivateKey['sign']>[0], options?: AbortOptions): Promise<Uint8Array> => {
    options?.signal?.throwIfAborted()
    const message = data instanceof Uint8Array ? data : data.subarray()
    if (lastSignature !== undefined && lastMessage !== undefined && Buffer.from(message.buffer, message.byteOffset, message.byteLength).equals(lastMessage)) {
      // A copy (Buffer#slice would be a view): nobody can change what is remembered.
      return Uint8Array.from(lastSignature)
    }
    const signature = await key.sign(message, options)
    lastMessage = Uint8Array.from(message)
    lastSignature = Uint8Array.from(signature)
    return signature
  }
  // The key's own fields, and its sign behind the memory (PrivateKey: type, publicKey, raw, equals, sign).
  return { type: key.type, publicKey: key.publicKey, raw: key.raw, equals: (other?: unknown) => key.equals(other), sign }
}
