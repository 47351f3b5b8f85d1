import { ErrorCodes, HeartbeatError, errorMessage } from './errors.ts'

/** What failed to listen: the flag it came from, the address as given, and its port (for the `ss` hint). */
export interface ListenAddress {
  /** "--http", "--listen", "--health-listen". */
  flag: string
  /** As the user wrote it: "127.0.0.1:8080", "/ip4/0.0.0.0/tcp/4100". */
  address: string
  port: number | undefined
}

/**
 * A listener that could not bind, as one line that names the address and the
 * likely cause (ERR_BIND: a start-up mistake, exit status 2). `program` is who
 * usually holds such a port ("heartbeat-aggregator").
 */
export function bindError (where: ListenAddress, err: unknown, program: string): HeartbeatError {
  const code = errnoOf(err)
  const at = `${where.flag} ${where.address}`
  const lowPort = where.port !== undefined && where.port > 0 && where.port < 1024
  let message: string
  switch (code) {
    case 'EADDRINUSE':
      message = `${at} is already in use (another ${program}? see \`ss -ltnp 'sport = :${where.port ?? '?'}'\`)`
      break
    case 'EACCES':
    case 'EPERM':
      message = lowPort
        ? `${at}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; pick a port above 1023)`
        : `${at}: permission denied (${code}; a security policy forbids binding this address)`
      break
    case 'EADDRNOTAVAIL':
      message = `${at}: this machine has no such address (EADDRNOTAVAIL; see \`ip addr\`, or listen on 0.0.0.0)`
      break
    case 'EAFNOSUPPORT':
      message = `${at}: this address family is not available here (EAFNOSUPPORT; no IPv6 on this machine?)`
      break
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      message = `${at}: the host name does not resolve (${code})`
      break
    default:
      message = `${at}: cannot listen (${firstLine(errorMessage(err))})`
  }
  return new HeartbeatError(ErrorCodes.BIND_FAILED, message, { cause: err })
}

/** The errno code of a failed listen: the error's own `code`, else the first E-word in its message. */
export function errnoOf (err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code
  return /\b(E[A-Z]{4,}|EAI_AGAIN)\b/.exec(errorMessage(err))?.[1]
}

function firstLine (text: string): string {
  return text.split('\n', 1)[0]?.trim() ?? ''
}

/**
 * Whether `host:port` can be bound now: listens and closes at once, or throws
 * bindError. A program checks its listen addresses with it before it opens
 * anything else, so a taken port is its one line of output; the real bind
 * still reports its own failure (the port may be taken in between).
 */
export async function checkCanListen (where: ListenAddress, host: string, port: number, program: string): Promise<void> {
  if (port === 0) return
  const { createServer } = await import('node:net')
  await new Promise<void>((resolve, reject) => {
    const server = createServer()
    server.once('error', (err) => { reject(bindError(where, err, program)) })
    server.listen({ host, port, exclusive: true }, () => { server.close(() => { resolve() }) })
  })
}
