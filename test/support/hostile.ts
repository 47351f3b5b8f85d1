import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { Heartbeat } from '../../shared/heartbeat.ts'

/** A valid heartbeat with every field set (details included), for tests to mutate. */
export function sampleBeat (overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    v: 2,
    head: 'bafy2bzaceheadcid',
    height: 1234,
    nickname: 'lotus-1',
    minerAddress: 'f01234',
    network: 'bafy2bzacegenesis',
    seq: 7,
    sentAt: 1_700_000_000_000,
    period: 3000,
    health: { status: 'affected', components: { chain_source: { status: 'affected', details: { lagBlocks: 3, note: 'slow', nested: [1, 2.5, null, true] } } } },
    agent: { version: '0.1.0', startedAt: 1_700_000_000_000 },
    state: 'running',
    ...overrides,
  }
}

/**
 * CBOR shared references (tags 28/29), each level an array [child, child]
 * of the same child: a few bytes per level on the wire, a JSON form that
 * doubles per level once decoded.
 */
export function sharedReferenceBomb (levels: number): Uint8Array {
  let body = 'd81c820101'
  for (let k = levels - 1; k >= 0; k--) {
    const ref = k + 1 < 24 ? (k + 1).toString(16).padStart(2, '0') : `18${(k + 1).toString(16).padStart(2, '0')}`
    body = `d81c82${body}d81d${ref}`
  }
  return Uint8Array.from(Buffer.from(body, 'hex'))
}

/** Encodes `beat` with `bytes` spliced in as a component's details (raw CBOR, whatever it holds). */
export function beatWithRawDetails (encode: (beat: Heartbeat) => Uint8Array, beat: Heartbeat, bytes: Uint8Array): Uint8Array {
  const marker = 'RAW-DETAILS-MARKER'
  const encoded = encode({ ...beat, health: { status: 'ready', components: { chain_source: { status: 'ready', details: marker } } } })
  const markerBytes = Uint8Array.from([0x60 + marker.length, ...Buffer.from(marker)])
  const at = Buffer.from(encoded).indexOf(Buffer.from(markerBytes))
  if (at < 0) throw new Error('marker not found in the encoded beat')
  return Uint8Array.from([...encoded.subarray(0, at), ...bytes, ...encoded.subarray(at + markerBytes.length)])
}

/** A libp2p peer that dials and misbehaves; allowed to open far more streams than an agent would. */
export async function createHostilePeer (privateKey?: PrivateKey): Promise<Libp2p> {
  return await createLibp2p({
    privateKey: privateKey ?? await generateKeyPair('Ed25519'),
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxOutboundStreams: 5000 })],
    connectionManager: { dialTimeout: 5000 },
  })
}

/** Resolves when the stream closes (however), or after `timeoutMs` with false. */
export async function streamClosed (stream: Stream, timeoutMs: number): Promise<boolean> {
  if (stream.status !== 'open') return true
  return await new Promise((resolve) => {
    const timer = setTimeout(() => { resolve(false) }, timeoutMs)
    stream.addEventListener('close', () => { clearTimeout(timer); resolve(true) }, { once: true })
  })
}

/** Forces a full garbage collection (flags set at run time, so the test needs no node option). */
export function collectGarbage (): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
}
