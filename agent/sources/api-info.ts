import { multiaddr, type Component } from '@multiformats/multiaddr'
import { ErrorCodes, UsageError } from '../../shared/errors.ts'

/**
 * The environment variable Lotus (and Forest) read to find a full node's API,
 * as `lotus auth api-info --perm read` prints it: `TOKEN:MULTIADDR`, or a bare
 * `MULTIADDR` for a node without auth.
 */
export const FULLNODE_API_INFO = 'FULLNODE_API_INFO'

/** The JSON-RPC path a Lotus-API node serves (v1: the stable full-node API). */
export const LOTUS_RPC_PATH = '/rpc/v1'

export interface ApiInfo {
  /** http(s):// or ws(s):// URL of the JSON-RPC endpoint. */
  url: string
  /** The API token, when the value carried one. */
  token: string | undefined
}

/**
 * Lotus's own test for "this value starts with a token" (cli/util/apiinfo.go,
 * infoWithToken): a JWT's dotted base64url parts, then a colon. Anything else
 * is an address alone.
 */
const WITH_TOKEN = /^[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+?\.([a-zA-Z0-9\-_]+)?:.+$/

/** The multiaddr's last protocols -> URL scheme (Lotus serves HTTP and websocket JSON-RPC on one port). */
const SCHEMES: Record<string, string> = { http: 'http', https: 'https', 'tls/http': 'https', ws: 'ws', wss: 'wss', 'tls/ws': 'wss' }

function refuse (reason: string): never {
  // Never the value itself: it may hold a token, even when it is too broken to tell where.
  throw new UsageError(ErrorCodes.INVALID_ARGUMENT,
    `${FULLNODE_API_INFO} is not usable: ${reason} (expected TOKEN:MULTIADDR or MULTIADDR, e.g. eyJhbGciOi...:/ip4/127.0.0.1/tcp/1234/http)`)
}

/**
 * Parses FULLNODE_API_INFO as Lotus does. The address is a multiaddr
 * (`/ip4|ip6|dns|dns4|dns6/HOST/tcp/PORT` with `/http`, `/https`, `/ws`,
 * `/wss` or nothing, which means HTTP) or a URL; the RPC path is added
 * when the address has none. A mistake is a UsageError that names the
 * variable and never shows the token.
 */
export function parseApiInfo (value: string): ApiInfo {
  const text = value.trim()
  if (text === '') refuse('it is empty')
  if (text.includes(',')) refuse('it lists several nodes (comma-separated); an agent reads the one node beside it: give one, or use --source-url')
  let token: string | undefined
  let address = text
  if (WITH_TOKEN.test(text)) {
    const colon = text.indexOf(':')
    token = text.slice(0, colon)
    address = text.slice(colon + 1)
  }
  if (address.startsWith('/')) return { url: urlOfMultiaddr(address), token }
  if (/^(https?|wss?):\/\//i.test(address)) return { url: urlOfUrl(address), token }
  refuse(token === undefined && text.includes(':') && !text.startsWith('/')
    ? 'the part before ":" is not a token (a JWT: three dot-separated parts) and the rest is no address'
    : 'the address is neither a multiaddr (/ip4/...) nor a URL (http://...)')
}

function urlOfMultiaddr (text: string): string {
  let components: Component[]
  try {
    components = multiaddr(text).getComponents()
  } catch {
    refuse('the address is not a valid multiaddr')
  }
  const [host, tcp, ...rest] = components
  if (host === undefined || !['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(host.name)) refuse('the multiaddr must start with /ip4, /ip6, /dns, /dns4 or /dns6')
  if (tcp?.name !== 'tcp') refuse('the multiaddr has no /tcp/PORT after the host')
  const suffix = rest.map((c) => c.name).join('/')
  const scheme = suffix === '' ? 'http' : SCHEMES[suffix]
  if (scheme === undefined) refuse(`the multiaddr ends in /${suffix}: only /http, /https, /ws and /wss (or nothing) are supported`)
  const hostText = host.name === 'ip6' ? `[${host.value ?? ''}]` : host.value ?? ''
  return `${scheme}://${hostText}:${tcp.value ?? ''}${LOTUS_RPC_PATH}`
}

function urlOfUrl (text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    refuse('the address is not a valid URL')
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = LOTUS_RPC_PATH
  return url.toString()
}
