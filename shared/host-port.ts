import { ErrorCodes, UsageError } from './errors.ts'

/** Parses HOST:PORT (IPv6 as [::1]:8080) given to `flag`; a bad one is a UsageError naming the flag. */
export function parseHostPort (text: string, flag: string): { host: string, port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[3])
  if (match === null || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${flag} "${text}": expected HOST:PORT such as 127.0.0.1:8080 or [::1]:8080`)
  }
  return { host: (match[1] ?? match[2]) as string, port }
}

/** The URL a client uses for a server bound to host:port (a wildcard bind is reached on loopback). */
export function httpUrlFor (host: string, port: number): string {
  const bracketed = host.includes(':') ? `[${host}]` : host
  return `http://${bracketed === '0.0.0.0' || bracketed === '[::]' ? '127.0.0.1' : bracketed}:${port}`
}

/** HOST:PORT as the flags take it (IPv6 in brackets). */
export function hostPort (host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`
}
