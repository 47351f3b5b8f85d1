import { ErrorCodes } from '../shared/errors.ts'
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

/** How a heartbeat stream that was open ended, from what libp2p's close event says (`error`, `local`). */
export interface StreamEnd {
  /** The log line: what the agent knows about why, and that it reconnects. */
  message: string
  /** The same, for status and /health ("lastError"). */
  lastError: string
  /** The aggregator itself ended it (a close or a reset that came from it). */
  byRemote: boolean
}

/**
 * Says what the agent knows about a lost stream, and only that. The link
 * watcher (link-watch.ts) aborts a connection whose ping goes unanswered with a
 * TimeoutError: that is silence (a partition, a hung host), not the
 * aggregator closing anything. A reset or a clean close did come from the
 * remote end.
 */
export function describeStreamEnd (event: { error?: Error, local?: boolean } | undefined, target: string, pingTimeoutMs: number): StreamEnd {
  const error = event?.error
  if (error === undefined) {
    if (event?.local === true) return { message: `heartbeat stream to ${target} closed here; reconnecting`, lastError: `the stream to ${target} was closed locally`, byRemote: false }
    return { message: 'heartbeat stream closed by the aggregator; reconnecting', lastError: `${target} closed the heartbeat stream`, byRemote: true }
  }
  // Closed here on the aggregator's refusal frame (refusal.ts, which logged it at ERROR): the reason is the error.
  if ((error as { code?: string }).code === ErrorCodes.IDENTITY_IN_USE) {
    return { message: 'heartbeat stream refused by the aggregator: this identity is used by another agent; retrying', lastError: error.message, byRemote: true }
  }
  if (error.name === 'StreamResetError') {
    return { message: 'heartbeat stream reset by the aggregator; reconnecting', lastError: `${target} reset the heartbeat stream`, byRemote: true }
  }
  if (error.name === 'TimeoutError') return noAnswer(target, pingTimeoutMs, 'the connection ping went unanswered')
  const text = `${error.name} ${(error as { code?: string }).code ?? ''} ${error.message}`
  if (/ECONNRESET|EPIPE/i.test(text)) {
    return { message: `connection to the aggregator at ${target} reset (by the aggregator, or by the network between); reconnecting`, lastError: `the connection to ${target} was reset`, byRemote: false }
  }
  return { message: `lost the connection to the aggregator at ${target}: ${error.message}; reconnecting`, lastError: `lost the connection to ${target}: ${error.message}`, byRemote: false }
}

/** A heartbeat write that did not complete within `timeoutMs`: the aggregator is not reading (or not there). */
export function describeSendTimeout (target: string, timeoutMs: number): StreamEnd {
  return noAnswer(target, timeoutMs, 'a heartbeat could not be written')
}

function noAnswer (target: string, forMs: number, how: string): StreamEnd {
  const seconds = Math.round(forMs / 1000)
  return {
    message: `no answer from the aggregator at ${target} for ${seconds} s (${how}); reconnecting`,
    lastError: `no answer from ${target} for ${seconds} s (${how})`,
    byRemote: false,
  }
}
