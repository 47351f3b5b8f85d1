import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import {
  fetchJson, startAgentProcess, startAggregatorProcess, tempDir, type RunningAggregator, type Spawned,
} from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const BEAT_MS = 500
const RECONNECT_MS = 2_000

const running: Array<{ stop: () => Promise<void> }> = []
after(async () => {
  for (const p of running.reverse()) await p.stop().catch(() => {})
})

async function aggregator (): Promise<RunningAggregator> {
  const a = await startAggregatorProcess()
  running.push(a.process)
  return a
}

function agent (args: string[]): Spawned {
  const p = startAgentProcess(undefined, args)
  running.push(p)
  return p
}

interface NodeView { peerId: string, nickname: string, connected: boolean, seqGaps: number, beats: number }

async function node (agg: RunningAggregator, nickname?: string): Promise<NodeView | undefined> {
  const fleet = await fetchJson<{ nodes: NodeView[] }>(`${agg.url}/api/v1/fleet`)
  return fleet.nodes.find((n) => nickname === undefined || n.nickname === nickname)
}

describe('SIGHUP re-reads the config file', () => {
  it('changes the nickname within one beat on the same connection, refuses a broken file, and moves to new targets', async () => {
    const one = await aggregator()
    const two = await aggregator()
    const config = join(tempDir('hb-config-'), 'agent.json')
    const write = (value: unknown): void => { writeFileSync(config, typeof value === 'string' ? value : JSON.stringify(value)) }
    write({ nickname: 'before', targets: [one.multiaddr], beatPeriod: `${BEAT_MS}ms`, reconnectPeriod: `${RECONNECT_MS}ms` })
    const a = agent(['--config', config])
    await waitFor(async () => await node(one, 'before'), { timeoutMs: 15_000, what: 'the agent under its first nickname' })

    // 1. A new nickname: shown within one beat, on the stream that was already open.
    write({ nickname: 'after', targets: [one.multiaddr], beatPeriod: `${BEAT_MS}ms`, reconnectPeriod: `${RECONNECT_MS}ms` })
    const hupAt = Date.now()
    a.kill('SIGHUP')
    const renamed = await waitFor(async () => await node(one, 'after'), { intervalMs: 25, timeoutMs: 5_000, what: 'the new nickname in the fleet view' })
    const tookMs = Date.now() - hupAt
    process.stdout.write(`# new nickname shown ${tookMs} ms after SIGHUP (beat period ${BEAT_MS} ms)\n`)
    // One beat, plus the time to deliver the signal, read the file and poll the API on a busy machine.
    assert.ok(tookMs < BEAT_MS + 400, `the new nickname took ${tookMs} ms`)
    assert.equal(renamed.connected, true)
    assert.equal(renamed.seqGaps, 0, 'no beat lost')
    assert.equal(a.lines.filter((l) => l.msg === 'heartbeat stream open').length, 1, 'the connection was kept')
    const reloaded = await a.waitForLog((l) => l.msg === 'configuration reloaded')
    assert.deepEqual(reloaded.kept, ['primary'])

    // 2. A file with a mistake: one clear error line naming the field; the running config stays.
    write({ nickname: 'broken', targets: [one.multiaddr], beatPeriod: 'fast' })
    a.kill('SIGHUP')
    const refused = await a.waitForLog((l) => l.level === 'error' && l.msg.startsWith('configuration not reloaded'))
    assert.match(refused.msg, /beatPeriod: invalid duration "fast"/)
    write('{"nickame": "typo"}')
    a.kill('SIGHUP')
    const typo = await a.waitForLog((l) => l.level === 'error' && l.msg.includes('unknown field "nickame"'))
    assert.match(typo.msg, /known: targets, fanOut, nickname,/)
    const beatsBefore = (await node(one, 'after'))?.beats ?? 0
    await waitFor(async () => ((await node(one, 'after'))?.beats ?? 0) >= beatsBefore + 3, { timeoutMs: 5_000, what: 'beats to go on under the old nickname' })
    assert.equal(a.proc.exitCode, null, 'the agent is still running')
    assert.equal((await node(one, 'broken')), undefined)

    // 3. New targets: the agent leaves the old aggregator and beats to the new one.
    write({ nickname: 'moved', targets: [two.multiaddr], beatPeriod: `${BEAT_MS}ms`, reconnectPeriod: `${RECONNECT_MS}ms` })
    const moveAt = Date.now()
    a.kill('SIGHUP')
    await waitFor(async () => await node(two, 'moved'), { timeoutMs: 10_000, what: 'the agent at the new target' })
    process.stdout.write(`# moved to the new target ${Date.now() - moveAt} ms after SIGHUP\n`)
    await waitFor(async () => (await node(one))?.connected === false, { timeoutMs: 10_000, what: 'the old aggregator to see the agent leave' })
  })

  it('is harmless without --config (SIGHUP would otherwise end the process)', async () => {
    const one = await aggregator()
    const a = agent(['--target', one.multiaddr, '--beat-period', `${BEAT_MS}ms`, '--nickname', 'plain'])
    await waitFor(async () => await node(one, 'plain'), { timeoutMs: 15_000, what: 'the agent' })
    a.kill('SIGHUP')
    await a.waitForLog((l) => l.level === 'warn' && l.msg.includes('no --config file'))
    const beats = (await node(one, 'plain'))?.beats ?? 0
    await waitFor(async () => ((await node(one, 'plain'))?.beats ?? 0) >= beats + 2, { timeoutMs: 5_000, what: 'beats after SIGHUP' })
    assert.equal(a.proc.exitCode, null)
  })

  it('refuses a broken config file at start with exit status 2 and the field named', async () => {
    const config = join(tempDir('hb-config-'), 'agent.json')
    writeFileSync(config, JSON.stringify({ targets: ['150=/ip4/127.0.0.1/tcp/1/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'] }))
    const a = agent(['--config', config])
    const { code } = await a.exited
    assert.equal(code, 2)
    assert.match(a.stderr, /config file .*agent\.json: targets\[0\]: invalid weight/)
    assert.doesNotMatch(a.stderr, /\n\s+at /, 'no stack trace')
  })
})
