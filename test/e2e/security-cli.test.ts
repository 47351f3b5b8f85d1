// Through the executables: the allowlist and its SIGHUP reload, the admin
// token, and the refusals of insecure or malformed security input.
import assert from 'node:assert/strict'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { AGENT_BIN, AGGREGATOR_BIN, fetchJson, Spawned, startAggregatorProcess, tempDir, type RunningAggregator } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef'

/** An agent key file written ahead, so the test knows the peer id to allow. */
async function agentKey (): Promise<{ path: string, peerId: string }> {
  const key = await generateKeyPair('Ed25519')
  const path = join(tempDir('hb-agent-key-'), 'agent.key')
  writeFileSync(path, privateKeyToProtobuf(key), { mode: 0o600 })
  return { path, peerId: peerIdFromPrivateKey(key).toString() }
}

async function exitOf (proc: Spawned): Promise<number | null> {
  return (await proc.exited).code
}

const running: Spawned[] = []
after(async () => { await Promise.all(running.map(async (p) => { await p.stop() })) })

describe('allowlist through the executables', { timeout: 90_000 }, () => {
  it('refuses an unlisted agent, admits it after SIGHUP, cuts it off after another, keeps the lists on a bad reload', async () => {
    const key = await agentKey()
    const otherKey = await agentKey()
    const dir = tempDir('hb-e2e-allow-')
    const allowFile = join(dir, 'allow.txt')
    const tokenFile = join(dir, 'admin.token')
    writeFileSync(allowFile, `# nobody yet\n${otherKey.peerId}\n`)
    writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 })
    const aggregator: RunningAggregator = await startAggregatorProcess({ args: ['--allow-peers', allowFile], env: { HEARTBEAT_AGGREGATOR_ADMIN_TOKEN_FILE: tokenFile } })
    running.push(aggregator.process)
    const agent = new Spawned(AGENT_BIN, ['--target', aggregator.multiaddr, '--key-file', key.path, '--beat-period', '500ms', '--reconnect-period', '500ms', '--nickname', 'listed-later'])
    running.push(agent)
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
    const security = async (): Promise<any> => await (await fetch(`${aggregator.url}/api/v1/admin/security`, { headers: admin })).json()

    // Refused at the handshake, counted, logged (a bounded number of times).
    await waitFor(async () => (await security()).admission.refused.not_allowed >= 3, { timeoutMs: 15_000, what: 'refusals of the unlisted agent' })
    const refusalLines = aggregator.process.lines.filter((l) => l.reason === 'not_allowed')
    assert.ok(refusalLines.length >= 1 && refusalLines.length <= 10, `${refusalLines.length} refusal log lines`)
    assert.equal(refusalLines[0]?.peer, key.peerId)
    assert.equal((await fetchJson(`${aggregator.url}/api/v1/fleet`)).summary.total, 0)

    // Listed and reloaded: it gets in within a reconnect period or two.
    writeFileSync(allowFile, `${otherKey.peerId}\n${key.peerId}  # lotus-7\n`)
    aggregator.process.proc.kill('SIGHUP')
    await aggregator.process.waitForLog((l) => l.msg === 'peer lists reloaded' && l.allowlist === 2)
    await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/nodes/${key.peerId}`)).status === 'healthy', { timeoutMs: 15_000, what: 'the agent to be admitted' })

    // A broken list on reload: logged, the running lists stay, the agent stays.
    writeFileSync(allowFile, `${key.peerId}\nnot-a-peer-id\n`)
    aggregator.process.proc.kill('SIGHUP')
    const failed = await aggregator.process.waitForLog((l) => l.msg === 'peer lists not reloaded; the running lists stay')
    assert.match(String(failed.err), /line 2/)
    const beats = (await fetchJson(`${aggregator.url}/api/v1/nodes/${key.peerId}`)).beats as number
    await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/nodes/${key.peerId}`)).beats > beats + 2, { what: 'beats to keep coming' })

    // Removed and reloaded: its connection is closed and it stays out.
    writeFileSync(allowFile, `${otherKey.peerId}\n`)
    aggregator.process.proc.kill('SIGHUP')
    await aggregator.process.waitForLog((l) => l.msg === 'peer lists reloaded' && l.allowlist === 1)
    await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/nodes/${key.peerId}`)).connected === false, { timeoutMs: 10_000, what: 'the agent to be cut off' })
    const refusedBefore = (await security()).admission.refused.not_allowed as number
    await waitFor(async () => (await security()).admission.refused.not_allowed > refusedBefore, { timeoutMs: 10_000, what: 'its redials to be refused' })
    assert.equal(agent.proc.exitCode, null, 'the agent keeps running and retrying')
  })
})

describe('refusals of insecure or malformed security input', { timeout: 60_000 }, () => {
  it('the agent refuses a key file readable by others', async () => {
    const key = await agentKey()
    chmodSync(key.path, 0o644)
    const agent = new Spawned(AGENT_BIN, ['--target', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN', '--key-file', key.path])
    assert.equal(await exitOf(agent), 2)
    assert.match(agent.stderr, /readable by others/)
    assert.match(agent.stderr, /chmod 600/)
    assert.doesNotMatch(agent.stderr, /\n\s+at /, 'no stack trace')
  })

  it('the aggregator refuses a short admin token, bad peer lists and bad limits', async () => {
    const dir = tempDir('hb-e2e-bad-')
    const short = join(dir, 'short.token')
    writeFileSync(short, 'tiny', { mode: 0o600 })
    const base = ['--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', '--data-dir', dir]
    const cases: Array<{ args: string[], env?: NodeJS.ProcessEnv, message: RegExp }> = [
      { args: ['--admin-token-file', short], message: /at least 16 characters/ },
      { args: ['--allow-peers', '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN,bogus'], message: /"bogus" is not a peer id/ },
      { args: ['--deny-peers', join(dir, 'missing.txt')], message: /--deny-peers: cannot read/ },
      { args: [], env: { HEARTBEAT_AGGREGATOR_DETAILS: 'sometimes' }, message: /sometimes/ },
      { args: ['--beat-rate', '0'], message: /--beat-rate/ },
      { args: ['--first-frame-timeout', '100h'], message: /at most 24h/ },
      { args: ['--cors-origin', 'https://ops.example.com/path'], message: /--cors-origin/ },
    ]
    await Promise.all(cases.map(async (c) => {
      const proc = new Spawned(AGGREGATOR_BIN, [...base, ...c.args], c.env)
      assert.equal(await exitOf(proc), 2, `${c.args.join(' ')}: ${proc.stderr}`)
      assert.match(proc.stderr, c.message)
      assert.doesNotMatch(proc.stderr, /\n\s+at /, 'no stack trace')
    }))
  })
})
