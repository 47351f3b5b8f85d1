import type { Libp2p } from '@libp2p/interface'
import type { ComponentHealth } from '../../shared/health.ts'

/**
 * The libp2p listener: ready while the host runs and listens on at least one
 * address; its addresses and connection count are the details.
 */
export function libp2pHealth (node: Libp2p | undefined): ComponentHealth {
  if (node === undefined) return { status: 'not_ready', details: { error: 'libp2p host not started' } }
  if (node.status === 'stopping' || node.status === 'stopped') {
    return { status: 'shut_down', details: { state: node.status, error: `libp2p host ${node.status}` } }
  }
  if (node.status !== 'started') return { status: 'not_ready', details: { state: node.status, error: `libp2p host ${node.status}` } }
  const addresses = node.getMultiaddrs().map((m) => m.toString())
  const connections = node.getConnections().length
  if (addresses.length === 0) return { status: 'not_ready', details: { addresses, connections, error: 'not listening on any address' } }
  return { status: 'ready', details: { addresses, connections } }
}

/** The HTTP server that answers this very request: ready once it listens. */
export function httpHealth (listening: boolean, url: string): ComponentHealth {
  if (!listening) return { status: 'not_ready', details: { error: 'HTTP server not listening' } }
  return { status: 'ready', details: { url } }
}
