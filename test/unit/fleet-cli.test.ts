import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildProgram, main } from '../../aggregator/cli.ts'
import { ErrorCodes, UsageError } from '../../shared/errors.ts'

const argv = (...flags: string[]): string[] => ['node', 'heartbeat-aggregator', '--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', ...flags]

async function usageError (flags: string[], env: Record<string, string> = {}): Promise<string> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  try {
    await main(argv(...flags))
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`)
    assert.ok(err.code === ErrorCodes.INVALID_ARGUMENT || err.code === ErrorCodes.INVALID_DURATION, err.code)
    return err.message
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  assert.fail('main accepted bad input')
}

describe('aggregator fleet flags', () => {
  it('documents each flag and its environment twin in --help', () => {
    const help = buildProgram().helpInformation()
    const flags: Array<[string, string]> = [
      ['--network <id>', 'HEARTBEAT_AGGREGATOR_NETWORK'],
      ['--phi-threshold <phi>', 'HEARTBEAT_AGGREGATOR_PHI_THRESHOLD'],
      ['--lag-threshold <heights>', 'HEARTBEAT_AGGREGATOR_LAG_THRESHOLD'],
      ['--stuck-after <duration>', 'HEARTBEAT_AGGREGATOR_STUCK_AFTER'],
      ['--head-age-threshold <duration>', 'HEARTBEAT_AGGREGATOR_HEAD_AGE_THRESHOLD'],
      ['--forget-after <duration>', 'HEARTBEAT_AGGREGATOR_FORGET_AFTER'],
    ]
    for (const [flag, env] of flags) {
      assert.ok(help.includes(flag), `${flag} missing from --help`)
      assert.ok(help.replace(/\s+/g, '').includes(env), `${env} missing from --help`)
    }
  })

  it('refuses bad values with a clear message before starting anything', async () => {
    assert.match(await usageError(['--phi-threshold', '0']), /invalid --phi-threshold "0"/)
    assert.match(await usageError(['--phi-threshold', 'high']), /invalid --phi-threshold "high"/)
    assert.match(await usageError(['--lag-threshold', '2.5']), /invalid --lag-threshold "2.5"/)
    assert.match(await usageError(['--stuck-after', 'soon']), /invalid --stuck-after "soon"/)
    assert.match(await usageError(['--head-age-threshold', '0']), /invalid --head-age-threshold "0"/)
    assert.match(await usageError(['--forget-after', '0']), /invalid --forget-after "0"/)
    assert.match(await usageError(['--network', '  ']), /invalid --network ""/)
  })

  it('reads the environment twins', async () => {
    assert.match(await usageError([], { HEARTBEAT_AGGREGATOR_LAG_THRESHOLD: 'many' }), /invalid --lag-threshold "many"/)
    assert.match(await usageError([], { HEARTBEAT_AGGREGATOR_STUCK_AFTER: '-5m' }), /invalid --stuck-after/)
    assert.match(await usageError([], { HEARTBEAT_AGGREGATOR_HEAD_AGE_THRESHOLD: 'old' }), /invalid --head-age-threshold "old"/)
  })
})
