import { HEARTBEAT_PROTOCOL } from '../shared/protocol.ts'

/**
 * Turns libp2p's dial errors into a sentence naming the likely cause
 * (go-filecoin's users lost hours to bare "protocol not supported").
 */
export function describeDialError (err: unknown, target: string): string {
  const e = err as { name?: string, code?: string, message?: string, errors?: unknown[] }
  const text = `${e.name ?? ''} ${e.code ?? ''} ${e.message ?? String(err)}`
  const nested = Array.isArray(e.errors) ? e.errors.map((x) => (x as Error).message).join('; ') : ''
  const all = `${text} ${nested}`
  if (/UnsupportedProtocol|protocol selection failed|protocol not supported/i.test(all)) {
    return `the peer at ${target} does not speak ${HEARTBEAT_PROTOCOL}: is it a heartbeat aggregator (and not, say, a Lotus node)?`
  }
  // Before the peer-id rule: libp2p reports a self dial as an InvalidPeerIdError.
  if (/dial.*self|DialToSelf|self dial/i.test(all)) return `the target ${target} is this agent itself (same peer id): is the agent using a copy of the aggregator's key file?`
  if (/ECONNREFUSED/i.test(all)) return `connection refused at ${target}: is the aggregator running and listening there?`
  if (/ECONNRESET|ConnectionDenied|EPIPE/i.test(all)) {
    return `${target} closed the connection during the handshake: the aggregator may be at its admission limits (many agents connecting at once) or restarting`
  }
  if (/UnexpectedPeer|unexpected peer|peer id mismatch|InvalidPeerId|does not match expected remote identity/i.test(all)) {
    return `the peer at ${target} is not the peer id in the target: the aggregator's key changed, or the address belongs to another host`
  }
  if (/Timeout|aborted/i.test(all)) return `no answer from ${target} in time (host down, firewall, or wrong port?)`
  if (/EHOSTUNREACH|ENETUNREACH/i.test(all)) return `no route to ${target}`
  return `${e.message ?? String(err)}${nested !== '' ? ` (${nested})` : ''}`
}
