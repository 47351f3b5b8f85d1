import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseAgentConfig, resolveAgentSettings, type AgentFlagValues } from '../../agent/config.ts'
import { ErrorCodes } from '../../shared/errors.ts'

const PEER = '12D3KooWGRUVh9Y7sFrMXbyAGRjjLXNBXVbRXdsoEv7WUgy2Dm5v'
const TARGET = `/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`
const DEFAULTS = { nickname: 'host', keyFile: '/k', beatPeriod: '3s', reconnectPeriod: '10s', errorLogPeriod: '10m', source: 'demo' as const, sourceTimeout: '3s', demoBlockTime: '5s', minerAddress: '' }

function usageError (fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: { name: string, code?: string, message: string }) => {
    assert.equal(err.name, 'UsageError')
    assert.match(err.message, message)
    return true
  })
}

const YAML = `
targets: [${TARGET}]
nickname: lotus-1
beatPeriod: 5s
source:
  kind: lotus
  url: http://127.0.0.1:1234/rpc/v1
  tokenFile: /var/lib/lotus/token
  timeout: 2s
checks:
  - name: api
    kind: http
    target: http://127.0.0.1:1234/health
    interval: 30s
    level: auxiliary
  - name: p2p
    kind: tcp
    target: 127.0.0.1:1347
`

describe('agent config file', () => {
  it('reads YAML and JSON into validated settings', () => {
    const config = parseAgentConfig(YAML, { format: 'yaml', name: 'agent.yaml' })
    assert.equal(config.beatPeriod, 5_000)
    assert.equal(config.source?.timeout, 2_000)
    assert.equal(config.checks?.[0]?.intervalMs, 30_000)
    assert.equal(config.checks?.[0]?.level, 'auxiliary')
    assert.equal(config.checks?.[1]?.level, 'core')
    const json = parseAgentConfig(JSON.stringify({ nickname: 'n', checks: [{ name: 'a', kind: 'tcp', target: 'localhost:1' }] }), { format: 'json', name: 'a.json' })
    assert.equal(json.nickname, 'n')
    assert.deepEqual(parseAgentConfig('', { format: 'yaml', name: 'empty.yaml' }), {}, 'an empty file configures nothing')
  })

  const mistakes: Array<[string, string, 'json' | 'yaml', RegExp]> = [
    ['a bad duration', 'beatPeriod: soon', 'yaml', /agent\.yaml: beatPeriod: invalid duration "soon"/],
    ['a duration as a number', 'beatPeriod: 3', 'yaml', /beatPeriod: expected a Go duration string/],
    ['a typo', 'nickame: x', 'yaml', /nickame/],
    ['a bad target', 'targets: [/ip4/1.2.3.4/tcp/1]', 'yaml', /targets\[0\]: target .* does not name the aggregator's peer id/],
    ['a bad check', 'checks: [{name: a, kind: tcp, target: nowhere}]', 'yaml', /checks\[0\]\.target: invalid tcp target/],
    ['two checks with one name', 'checks: [{name: a, kind: tcp, target: "h:1"}, {name: a, kind: tcp, target: "h:2"}]', 'yaml', /checks\[1\]\.name: "a" is used by another check/],
    ['an unknown source', 'source: {kind: bitcoin}', 'yaml', /source\.kind: Invalid option/],
    ['token and tokenFile', 'source: {token: a, tokenFile: b}', 'yaml', /source\.tokenFile: give token or tokenFile, not both/],
    ['broken YAML', 'checks: [', 'yaml', /not valid YAML/],
    ['broken JSON', '{"nickname": }', 'json', /not valid JSON/],
    ['a list at the top', '- a', 'yaml', /\(root\): Invalid input: expected object/],
  ]
  for (const [what, text, format, message] of mistakes) {
    it(`refuses ${what}, naming the file and the field`, () => {
      assert.throws(() => parseAgentConfig(text, { format, name: 'agent.yaml' }), (err: { name: string, code?: string, message: string }) => {
        assert.equal(err.name, 'UsageError')
        assert.equal(err.code, ErrorCodes.INVALID_CONFIG)
        assert.match(err.message, /^config file agent\.yaml/)
        assert.match(err.message, message)
        return true
      })
    })
  }
})

describe('settings precedence: flags > environment > file > defaults', () => {
  const file = parseAgentConfig(YAML, { format: 'yaml', name: 'agent.yaml' })

  it('takes the file over the defaults', () => {
    const s = resolveAgentSettings({ explicit: {}, file, defaults: DEFAULTS })
    assert.deepEqual(s.targets.map((t) => [t.target.text, t.weight]), [[TARGET, 100]])
    assert.equal(s.nickname, 'lotus-1')
    assert.equal(s.beatPeriodMs, 5_000)
    assert.equal(s.reconnectPeriodMs, 10_000, 'not in the file: the default')
    assert.equal(s.source.kind, 'lotus')
    assert.equal(s.source.tokenFile, '/var/lib/lotus/token')
    assert.equal(s.source.timeoutMs, 2_000)
    assert.deepEqual(s.checks.map((c) => c.name), ['api', 'p2p'])
  })

  it('takes flags (and their env twins) over the file', () => {
    const explicit: AgentFlagValues = {
      nickname: 'from-flag', beatPeriod: '1s', source: 'eth', sourceToken: 'secret', sourceTimeout: '500ms',
      check: ['api=tcp:127.0.0.1:9', 'extra=command:true'],
    }
    const s = resolveAgentSettings({ explicit, file, defaults: DEFAULTS })
    assert.equal(s.nickname, 'from-flag')
    assert.equal(s.beatPeriodMs, 1_000)
    assert.equal(s.source.kind, 'eth')
    assert.equal(s.source.url, 'http://127.0.0.1:1234/rpc/v1', 'the URL was not given as a flag: the file says it')
    assert.equal(s.source.token, 'secret')
    assert.equal(s.source.tokenFile, undefined, "a token flag replaces the file's token file")
    assert.equal(s.source.timeoutMs, 500)
    assert.deepEqual(s.checks.map((c) => `${c.name}:${c.kind}`), ['api:tcp', 'p2p:tcp', 'extra:command'], '--check replaces the same name and adds the rest')
  })

  it('uses the defaults with no file', () => {
    const s = resolveAgentSettings({ explicit: { target: [TARGET] }, defaults: DEFAULTS })
    assert.equal(s.beatPeriodMs, 3_000)
    assert.equal(s.source.kind, 'demo')
    assert.equal(s.source.timeoutMs, 3_000)
    assert.deepEqual(s.checks, [])
  })

  it('names the flag of a bad value', () => {
    usageError(() => resolveAgentSettings({ explicit: { beatPeriod: 'fast' }, defaults: DEFAULTS }), /--beat-period/)
    usageError(() => resolveAgentSettings({ explicit: { sourceToken: 'a', sourceTokenFile: '/b' }, defaults: DEFAULTS }), /--source-token or --source-token-file, not both/)
    usageError(() => resolveAgentSettings({ explicit: { check: ['a=tcp:h:1', 'a=tcp:h:2'] }, defaults: DEFAULTS }), /two checks are named "a"/)
  })
})
