import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { resolveAgentSettings, type AgentFlagValues } from '../../agent/config.ts'
import { DEFAULT_LOTUS_URL } from '../../agent/constants.ts'
import { parseApiInfo } from '../../agent/sources/api-info.ts'

const TOKEN = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2lnbmF0dXJl_-x'
const DEFAULTS = { nickname: 'host', keyFile: '/k', beatPeriod: '3s', reconnectPeriod: '10s', errorLogPeriod: '10m', sourceTimeout: '3s', demoBlockTime: '5s', minerAddress: '' }

function source (explicit: AgentFlagValues, fullnodeApiInfo: string | undefined, file?: Parameters<typeof resolveAgentSettings>[0]['file']): ReturnType<typeof resolveAgentSettings>['source'] {
  return resolveAgentSettings({ explicit, defaults: DEFAULTS, env: { fullnodeApiInfo }, ...(file !== undefined ? { file } : {}) }).source
}

describe('FULLNODE_API_INFO, as Lotus parses it', () => {
  it('TOKEN:MULTIADDR and the bare multiaddr, for every address form Lotus writes', () => {
    const cases: Array<[string, string, string | undefined]> = [
      [`${TOKEN}:/ip4/127.0.0.1/tcp/1234/http`, 'http://127.0.0.1:1234/rpc/v1', TOKEN],
      ['/ip4/127.0.0.1/tcp/1234/http', 'http://127.0.0.1:1234/rpc/v1', undefined],
      ['/ip4/127.0.0.1/tcp/1234', 'http://127.0.0.1:1234/rpc/v1', undefined],
      [`${TOKEN}:/dns4/lotus.filecoin.svc/tcp/1234/http`, 'http://lotus.filecoin.svc:1234/rpc/v1', TOKEN],
      [`${TOKEN}:/dns/lotus/tcp/1234/https`, 'https://lotus:1234/rpc/v1', TOKEN],
      [`${TOKEN}:/ip6/::1/tcp/1234/ws`, 'ws://[::1]:1234/rpc/v1', TOKEN],
      [`${TOKEN}:/dns6/lotus.example/tcp/443/wss`, 'wss://lotus.example:443/rpc/v1', TOKEN],
      [`${TOKEN}:/ip4/10.0.0.2/tcp/2345/tls/ws`, 'wss://10.0.0.2:2345/rpc/v1', TOKEN],
      [`${TOKEN}:http://10.0.0.2:1234`, 'http://10.0.0.2:1234/rpc/v1', TOKEN],
      [`${TOKEN}:ws://10.0.0.2:1234/rpc/v0`, 'ws://10.0.0.2:1234/rpc/v0', TOKEN],
      [`  ${TOKEN}:/ip4/127.0.0.1/tcp/1234/http\n`, 'http://127.0.0.1:1234/rpc/v1', TOKEN],
    ]
    for (const [value, url, token] of cases) assert.deepEqual(parseApiInfo(value), { url, token }, value)
  })

  it('refuses what it cannot use with a line naming the variable, never the token', () => {
    const cases: Array<[string, RegExp]> = [
      [`${TOKEN}:/ip4/127.0.0.1/udp/1234`, /has no \/tcp\/PORT/],
      [`${TOKEN}:/ip4/127.0.0.1/tcp/1234/p2p/12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc`, /ends in \/p2p: only \/http, \/https, \/ws and \/wss/],
      [`${TOKEN}:/dnsaddr/lotus.example/tcp/1234`, /must start with \/ip4/],
      [`${TOKEN}:/ip4/999.1.1.1/tcp/1234`, /not a valid multiaddr/],
      [`${TOKEN}:lotus:1234`, /neither a multiaddr .* nor a URL/],
      ['secret-without-dots:/ip4/127.0.0.1/tcp/1234/http', /the part before ":" is not a token/],
      [`${TOKEN}:/ip4/127.0.0.1/tcp/1234/http,${TOKEN}:/ip4/127.0.0.2/tcp/1234/http`, /lists several nodes/],
      ['', /is empty/],
    ]
    for (const [value, message] of cases) {
      assert.throws(() => parseApiInfo(value), (err: Error & { code: string }) => {
        assert.equal(err.name, 'UsageError', value)
        assert.match(err.message, /^FULLNODE_API_INFO is not usable: /)
        assert.match(err.message, message, value)
        assert.doesNotMatch(err.message, /c2lnbmF0dXJl|secret-without-dots/, 'no token, not even a broken one')
        assert.equal(err.message.includes('\n'), false, 'one line')
        return true
      })
    }
  })
})

describe('the source the agent reads: flags > env twins > config file > FULLNODE_API_INFO > defaults', () => {
  const info = `${TOKEN}:/ip4/127.0.0.1/tcp/41234/http`

  it('FULLNODE_API_INFO alone: lotus, its URL, its token', () => {
    const s = source({}, info)
    assert.equal(s.kind, 'lotus')
    assert.equal(s.url, 'http://127.0.0.1:41234/rpc/v1')
    assert.equal(s.token, TOKEN)
    assert.deepEqual(s.origin, { kind: 'FULLNODE_API_INFO', url: 'FULLNODE_API_INFO', token: { from: 'FULLNODE_API_INFO' } })
  })

  it('nothing at all: demo, said to be the default', () => {
    const s = source({}, undefined)
    assert.equal(s.kind, 'demo')
    assert.equal(s.origin.kind, 'default')
    assert.equal(source({}, '   ').kind, 'demo', 'an empty value is unset')
  })

  it('--source-token-file beats the token of FULLNODE_API_INFO; its URL stays', () => {
    const s = source({ sourceTokenFile: '/var/lib/lotus/token' }, info)
    assert.equal(s.url, 'http://127.0.0.1:41234/rpc/v1')
    assert.equal(s.token, undefined)
    assert.equal(s.tokenFile, '/var/lib/lotus/token')
    assert.deepEqual(s.origin.token, { from: 'file', path: '/var/lib/lotus/token' })
    assert.deepEqual(source({ sourceToken: 'other' }, info).origin.token, { from: 'flag' })
  })

  it('--source-url: FULLNODE_API_INFO is not read at all (its token never goes to another host)', () => {
    const s = source({ sourceUrl: 'http://10.0.0.9:1234/rpc/v1' }, info)
    assert.equal(s.kind, 'lotus')
    assert.equal(s.url, 'http://10.0.0.9:1234/rpc/v1')
    assert.equal(s.token, undefined)
    assert.equal(s.origin.apiInfoIgnored, '--source-url is given')
  })

  it('another --source ignores it, even when it is malformed; a malformed value that would be used is refused', () => {
    assert.equal(source({ source: 'eth' }, 'garbage').origin.apiInfoIgnored, '--source eth does not read it')
    assert.equal(source({ source: 'demo' }, info).kind, 'demo')
    assert.equal(source({}, undefined, { source: { kind: 'command', command: 'x' } }).kind, 'command', 'the config file chooses too')
    assert.throws(() => source({}, 'garbage'), /FULLNODE_API_INFO is not usable/)
  })

  it('--source lotus without FULLNODE_API_INFO: the default address', () => {
    const s = source({ source: 'lotus' }, undefined)
    assert.equal(s.url, DEFAULT_LOTUS_URL)
    assert.deepEqual(s.origin, { kind: 'given', url: 'default', token: { from: 'none' } })
  })
})
