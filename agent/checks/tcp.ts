import { connect } from 'node:net'
import { ErrorCodes, UsageError } from '../../shared/errors.ts'
import { CheckFailure, type Probe } from './types.ts'

export interface HostPort { host: string, port: number }

/** Parses HOST:PORT (a name, an IPv4 address, or [an IPv6 address]). */
export function parseHostPort (text: string, what = 'tcp target'): HostPort {
  const bad = (): UsageError => new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what} "${text}": expected HOST:PORT, e.g. 127.0.0.1:1234 or [::1]:8545`)
  let url: URL
  try {
    url = new URL(`tcp://${text.trim()}`)
  } catch {
    throw bad()
  }
  if (url.port === '' || url.pathname !== '' || url.username !== '' || url.search !== '' || url.hash !== '') throw bad()
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return { host, port: Number(url.port) }
}

/** Opens a TCP connection and closes it at once: ready when something accepts. */
export function tcpProbe (target: HostPort): Probe {
  const where = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`
  return async (signal) => await new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port })
    const onAbort = (): void => {
      socket.destroy()
      reject(new CheckFailure(ErrorCodes.TIMEOUT, `no TCP connection to ${where} in time`))
    }
    if (signal.aborted) { onAbort(); return }
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      resolve({ status: 'ready' })
    })
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      reject(new CheckFailure(ErrorCodes.SOURCE_FAILED, `cannot connect to ${where}: ${err.message}`))
    })
  })
}
