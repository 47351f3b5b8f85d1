import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { agentSettings, buildProgram, resolveConfig } from '../../agent/cli.ts'
import { parseAgentConfig, type AgentConfig } from '../../agent/config.ts'
import { ErrorCodes } from '../../shared/errors.ts'

let addr = ''
let addr2 = ''
before(async () => {
  addr = `/ip4/10.0.0.5/tcp/4100/p2p/${peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()}`
  addr2 = `/ip4/10.0.0.6/tcp/4100/p2p/${peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()}`
})

const parse = (value: unknown): AgentConfig => parseAgentConfig(typeof value === 'string' ? value : JSON.stringify(value), { format: 'json', name: 'agent.json' })

describe('agent config file', () => {
  it('reads every field, targets as strings or objects', () => {
    const config = parse({
      nickname: 'lotus-1',
      minerAddress: 'f01234',
      targets: [`80=${addr}`, { multiaddr: addr2, weight: 20 }],
      fanOut: true,
      beatPeriod: '2s',
      reconnectPeriod: '1m',
      errorLogPeriod: '5m',
    })
    assert.equal(config.nickname, 'lotus-1')
    assert.equal(config.minerAddress, 'f01234')
    assert.deepEqual(config.targets?.map((t: { target: { text: string }, weight: number }) => [t.target.text, t.weight]), [[addr, 80], [addr2, 20]])
    assert.equal(config.fanOut, true)
    assert.deepEqual([config.beatPeriod, config.reconnectPeriod, config.errorLogPeriod], [2_000, 60_000, 300_000])
  })

  it('accepts an empty object: every field is optional', () => {
    assert.deepEqual(parse({}), {})
  })

  const mistakes: Array<[string, unknown, RegExp]> = [
    ['not JSON', '{"nickname": ', /is not valid JSON/],
    ['not an object', '[1, 2]', /expected object/i],
    ['an unknown field (a typo)', { nickame: 'x' }, /unknown field "nickame" \(known: targets, fanOut, nickname, /],
    ['a number for the nickname', { nickname: 7 }, /nickname: .*expected string/],
    ['a nickname over the wire limit', { nickname: 'x'.repeat(200) }, /nickname: /],
    ['a bad duration', { beatPeriod: '3 seconds' }, /beatPeriod: invalid duration "3 seconds"/],
    ['a zero period', { reconnectPeriod: '0s' }, /reconnectPeriod: .*greater than zero/],
    ['an empty target list', { targets: [] }, /targets: /],
    ['a target without peer id', { targets: ['/ip4/10.0.0.5/tcp/4100'] }, /targets\[0\]: .*peer id/],
    ['a weight out of range (string form)', { targets: [`101=${'/ip4/10.0.0.5/tcp/4100/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'}`] }, /targets\[0\]: invalid weight/],
    ['a weight out of range (object form)', { targets: [{ multiaddr: '/ip4/10.0.0.5/tcp/4100/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo', weight: 500 }] }, /targets\[0\]/],
    ['fanOut as a string', { fanOut: 'yes' }, /fanOut: .*expected boolean/],
  ]
  for (const [what, value, pattern] of mistakes) {
    it(`refuses ${what}, naming the file and the field`, () => {
      assert.throws(() => parse(value), (err: Error & { code?: string }) => {
        assert.equal(err.code, ErrorCodes.INVALID_CONFIG)
        assert.match(err.message, /^config file agent\.json/)
        assert.match(err.message, pattern)
        return true
      })
    })
  }

  it('refuses the same target twice', () => {
    assert.throws(() => parse({ targets: [addr, `5=${addr}`] }), /targets: .*given twice/)
  })
})

describe('settings precedence: flags > environment > file > defaults', () => {
  function settings (argv: string[], file: AgentConfig | undefined, env: NodeJS.ProcessEnv = {}): ReturnType<typeof agentSettings> {
    const saved = { ...process.env }
    // commander reads option env twins from process.env at parse time.
    Object.assign(process.env, env)
    try {
      const program = buildProgram()
      program.parse(['node', 'heartbeat-agent', ...argv])
      return agentSettings(resolveConfig(program, file), env)
    } finally {
      for (const key of Object.keys(env)) { if (saved[key] === undefined) delete process.env[key]; else process.env[key] = saved[key] }
    }
  }

  it('takes the file over the defaults', () => {
    const s = settings([], parse({ nickname: 'from-file', targets: [addr], beatPeriod: '7s' }))
    assert.equal(s.nickname, 'from-file')
    assert.equal(s.services[0]?.beatPeriodMs, 7_000)
    assert.equal(s.services[0]?.reconnectPeriodMs, 10_000, 'default')
  })

  it('takes flags and environment over the file', () => {
    const file = parse({ nickname: 'from-file', targets: [addr], beatPeriod: '7s' })
    const s = settings(['--nickname', 'from-flag', '--target', `10=${addr2}`], file, { HEARTBEAT_AGENT_BEAT_PERIOD: '4s' })
    assert.equal(s.nickname, 'from-flag')
    assert.deepEqual(s.services[0]?.targets.map((t) => [t.target.text, t.weight]), [[addr2, 10]])
    assert.equal(s.services[0]?.beatPeriodMs, 4_000)
  })

  it('builds one service over all targets, or one per target with fan-out', () => {
    const file = parse({ targets: [addr, `50=${addr2}`] })
    assert.deepEqual(settings([], file).services.map((s) => [s.name, s.targets.length]), [['primary', 2]])
    assert.deepEqual(settings(['--fan-out'], file).services.map((s) => [s.name, s.targets.length]), [[`fan-out ${addr}`, 1], [`fan-out ${addr2}`, 1]])
    assert.equal(settings([], file, { HEARTBEAT_AGENT_FAN_OUT: 'false' }).services.length, 1, 'FAN_OUT=false means false')
  })

  it('adds the FIL_HEARTBEAT_ALERTS service with its own 10s periods', () => {
    const s = settings([], parse({ targets: [addr] }), { FIL_HEARTBEAT_ALERTS: addr2 })
    const alerts = s.services.find((x) => x.name === 'alerts')
    assert.deepEqual([alerts?.beatPeriodMs, alerts?.reconnectPeriodMs, alerts?.targets[0]?.target.text], [10_000, 10_000, addr2])
  })

  it('reads on/off env twins for what they say: HEARTBEAT_AGENT_MAINTENANCE=false is off', () => {
    const parsed = (argv: string[], env: Record<string, string>): { maintenance?: unknown, fanOut?: unknown } => {
      const saved = { ...process.env }
      Object.assign(process.env, env)
      try {
        const program = buildProgram()
        program.parse(['node', 'heartbeat-agent', ...argv])
        return program.opts()
      } finally {
        for (const key of Object.keys(env)) { if (saved[key] === undefined) delete process.env[key]; else process.env[key] = saved[key] }
      }
    }
    assert.equal(parsed([], { HEARTBEAT_AGENT_MAINTENANCE: 'false' }).maintenance, false)
    assert.equal(parsed([], { HEARTBEAT_AGENT_MAINTENANCE: '1' }).maintenance, true)
    assert.equal(parsed(['--maintenance'], {}).maintenance, true)
    assert.equal(parsed([], { HEARTBEAT_AGENT_FAN_OUT: 'off' }).fanOut, false)
    assert.throws(() => parsed([], { HEARTBEAT_AGENT_MAINTENANCE: 'maybe' }), /invalid --maintenance "maybe"/)
  })

  it('needs a target from somewhere', () => {
    assert.throws(() => settings([], parse({ nickname: 'x' })), (err: Error & { code?: string }) => err.code === ErrorCodes.NO_TARGET)
  })
})
