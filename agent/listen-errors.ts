/**
 * A failed bind, in words naming the address and the likely cause (the
 * agent's --health-listen; a start-up mistake is one line, exit 2).
 */
export function describeListenError (err: unknown, address: string): string {
  const code = (err as { code?: string }).code ?? ''
  switch (code) {
    case 'EADDRINUSE': return `${address} is already in use (another agent, or another program, listens there: pick a free port)`
    case 'EACCES': return `permission denied for ${address} (ports below 1024 need privileges: pick a port above 1024)`
    case 'EADDRNOTAVAIL': return `${address} is not an address of this machine (use 127.0.0.1, 0.0.0.0 or one of its own addresses)`
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return `the host of ${address} cannot be resolved`
    default: return `${address}: ${err instanceof Error ? err.message : String(err)}`
  }
}
