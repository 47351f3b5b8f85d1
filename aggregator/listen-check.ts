import { getNetConfig } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { checkCanListen } from '../shared/bind-error.ts'
import { hostPort } from '../shared/host-port.ts'
import type { Part } from './parts.ts'

/**
 * Fail fast: every --http and --listen address is bound once and released
 * right after the data dir is locked and before anything else starts (the
 * store, libp2p) or logs, so a taken port (or one it may not use) is exit 2
 * with one line and nothing else written. The parts that really listen still
 * report their own bind failure (a port may be taken in between).
 */
export function listenCheckPart (options: { http: { host: string, port: number }, listen: readonly string[] }): Part {
  return {
    name: 'listen-check',
    start: async () => { await checkListenAddresses(options.http, options.listen) },
    stop: () => {},
  }
}

/** Multiaddrs that are not plain IP + TCP are left to libp2p. */
export async function checkListenAddresses (http: { host: string, port: number }, listen: readonly string[]): Promise<void> {
  await checkCanListen({ flag: '--http', address: hostPort(http.host, http.port), port: http.port }, http.host, http.port, 'heartbeat-aggregator')
  for (const address of listen) {
    const target = tcpTarget(address)
    if (target !== undefined) await checkCanListen({ flag: '--listen', address, port: target.port }, target.host, target.port, 'heartbeat-aggregator')
  }
}

/** The IP host and TCP port of a listen multiaddr, or undefined when it is not plain IP + TCP. */
export function tcpTarget (address: string): { host: string, port: number } | undefined {
  try {
    const config = getNetConfig(multiaddr(address)) as { type?: string, host?: string, port?: number, protocol?: string }
    if ((config.type !== 'ip4' && config.type !== 'ip6') || config.protocol !== 'tcp' || typeof config.host !== 'string' || typeof config.port !== 'number') return undefined
    return { host: config.host, port: config.port }
  } catch {
    return undefined
  }
}
