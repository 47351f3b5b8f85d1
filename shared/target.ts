import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { ErrorCodes, UsageError } from './errors.ts'

/** An aggregator to send to: its full multiaddr and the peer id Noise must prove. */
export interface Target {
  multiaddr: Multiaddr
  peerId: PeerId
  /** The text as the user gave it, for logs. */
  text: string
}

export function parseMultiaddr (text: string, what = 'multiaddr'): Multiaddr {
  try {
    return multiaddr(text.trim())
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_MULTIADDR, `invalid ${what} "${text}": ${(err as Error).message} (expected e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...)`)
  }
}

/**
 * Parses a target multiaddr that must end in /p2p/<peer id>: without it the
 * agent could not know whom it talks to, and Noise could not prove it.
 */
export function parseTarget (text: string): Target {
  const ma = parseMultiaddr(text, 'target')
  const p2p = ma.getComponents().findLast((c) => c.name === 'p2p')
  if (p2p?.value === undefined) {
    throw new UsageError(ErrorCodes.INVALID_MULTIADDR,
      `target "${text}" does not name the aggregator's peer id: append /p2p/<peer id> (the aggregator logs its full address at start and shows it in /api/v1/fleet)`)
  }
  let peerId: PeerId
  try {
    peerId = peerIdFromString(p2p.value)
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_MULTIADDR, `target "${text}" has an invalid peer id: ${(err as Error).message}`)
  }
  return { multiaddr: ma, peerId, text: ma.toString() }
}
