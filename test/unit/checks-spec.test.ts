import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkInputSchema, parseCheckFlag } from '../../agent/checks/spec.ts'
import { DEFAULT_CHECK_INTERVAL_MS, DEFAULT_CHECK_SLOW_MS, DEFAULT_CHECK_TIMEOUT_MS } from '../../agent/constants.ts'
import { ErrorCodes } from '../../shared/errors.ts'

const defaults = { timeoutMs: DEFAULT_CHECK_TIMEOUT_MS, slowMs: DEFAULT_CHECK_SLOW_MS, intervalMs: DEFAULT_CHECK_INTERVAL_MS, level: 'core' }

describe('--check NAME=KIND:TARGET', () => {
  it('parses every kind', () => {
    assert.deepEqual(parseCheckFlag('api=http:http://127.0.0.1:1234/health'), { name: 'api', kind: 'http', target: 'http://127.0.0.1:1234/health', ...defaults })
    assert.deepEqual(parseCheckFlag('p2p=tcp:127.0.0.1:1347'), { name: 'p2p', kind: 'tcp', target: '127.0.0.1:1347', ...defaults })
    assert.deepEqual(parseCheckFlag('v6=tcp:[::1]:8545'), { name: 'v6', kind: 'tcp', target: '[::1]:8545', ...defaults })
    assert.deepEqual(parseCheckFlag('rpc=jsonrpc:http://127.0.0.1:8545#eth_blockNumber'),
      { name: 'rpc', kind: 'jsonrpc', target: 'http://127.0.0.1:8545', method: 'eth_blockNumber', ...defaults })
    assert.deepEqual(parseCheckFlag('node=health:https://node.local/health'), { name: 'node', kind: 'health', target: 'https://node.local/health', ...defaults })
    assert.deepEqual(parseCheckFlag('disk=command:test -w /var/lib/lotus && echo ok=1'),
      { name: 'disk', kind: 'command', target: 'test -w /var/lib/lotus && echo ok=1', ...defaults })
  })

  const refused: Array<[string, RegExp]> = [
    ['api', /expected NAME=KIND:TARGET/],
    ['api=http', /expected NAME=KIND:TARGET/],
    ['api=ftp:ftp://x', /kind/],
    ['api=http:not a url', /target: invalid http target/],
    ['api=http:ftp://host/', /only http/],
    ['p2p=tcp:127.0.0.1', /target: invalid tcp target/],
    ['p2p=tcp:127.0.0.1:99999', /target: invalid tcp target/],
    ['rpc=jsonrpc:http://127.0.0.1:8545', /method: a jsonrpc check needs a method/],
    ['x=command:   ', /target: must not be empty/],
    ['chain_source=tcp:127.0.0.1:1', /name: is reserved/],
    ['bad name!=tcp:127.0.0.1:1', /name: must be/],
  ]
  for (const [flag, message] of refused) {
    it(`refuses "${flag}" with a clear error`, () => {
      assert.throws(() => parseCheckFlag(flag), (err: { code?: string, name: string, message: string }) => {
        assert.equal(err.name, 'UsageError')
        assert.equal(err.code, ErrorCodes.INVALID_ARGUMENT)
        assert.match(err.message, message)
        assert.match(err.message, /--check/)
        return true
      })
    })
  }
})

describe('checks in the config file', () => {
  it('takes timing and level per check', () => {
    const spec = checkInputSchema.parse({
      name: 'lotus', kind: 'jsonrpc', target: 'http://127.0.0.1:1234/rpc/v1', method: 'Filecoin.Version', params: [],
      timeout: '2s', slow: '250ms', interval: '1m', level: 'auxiliary',
    })
    assert.deepEqual(spec, {
      name: 'lotus', kind: 'jsonrpc', target: 'http://127.0.0.1:1234/rpc/v1', method: 'Filecoin.Version', params: [],
      timeoutMs: 2_000, slowMs: 250, intervalMs: 60_000, level: 'auxiliary',
    })
  })

  it('names the field of each mistake', () => {
    const result = checkInputSchema.safeParse({ name: 'x', kind: 'http', target: 'http://a', timeout: 'soon', level: 'optional', extra: 1 })
    assert.equal(result.success, false)
    const paths = result.error?.issues.map((i) => i.path.join('.')).sort()
    assert.deepEqual(paths, ['', 'level', 'timeout'])
    assert.match(result.error?.issues.find((i) => i.path[0] === 'timeout')?.message ?? '', /invalid duration "soon"/)
    assert.match(result.error?.issues.find((i) => i.path.length === 0)?.message ?? '', /extra/)
  })

  it('refuses params on a check that is not jsonrpc, and a method given twice', () => {
    assert.equal(checkInputSchema.safeParse({ name: 'x', kind: 'http', target: 'http://a', params: [1] }).error?.issues[0]?.path[0], 'params')
    assert.equal(checkInputSchema.safeParse({ name: 'x', kind: 'jsonrpc', target: 'http://a#m', method: 'n' }).error?.issues[0]?.path[0], 'method')
  })
})
