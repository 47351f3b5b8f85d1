import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AGENT_BIN, AGGREGATOR_BIN, fetchJson, startAgentProcess, startAggregatorProcess, tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const PEER = '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc'

function runCli (bin: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, FIL_HEARTBEAT_ALERTS: '', ...env }, encoding: 'utf8', timeout: 20_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('both programs explain themselves with --help', () => {
  const agent = runCli(AGENT_BIN, ['--help'])
  assert.equal(agent.status, 0)
  for (const flag of ['--target', '--nickname', '--miner-address', '--beat-period', '--reconnect-period', '--error-log-period', '--source', '--key-file', 'FIL_HEARTBEAT_ALERTS']) {
    assert.ok(agent.stdout.includes(flag), `agent --help mentions ${flag}`)
  }
  const aggregator = runCli(AGGREGATOR_BIN, ['--help'])
  assert.equal(aggregator.status, 0)
  for (const flag of ['--listen', '--http', '--data-dir', '/api/v1/fleet']) assert.ok(aggregator.stdout.includes(flag), `aggregator --help mentions ${flag}`)
})

test('bad input is exit 2 with one clear line and no stack trace', () => {
  const key = join(tempDir(), 'k')
  const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
    [['--key-file', key], /no heartbeat target/],
    [['--target', `/ip4/127.0.0.1/tcp/1/p2p/${PEER}`, '--beat-period', '3x', '--key-file', key], /invalid --beat-period "3x"/],
    [['--target', '/ip4/127.0.0.1/tcp/1', '--key-file', key], /does not name the aggregator's peer id/],
    [['--target', 'nonsense', '--key-file', key], /invalid target "nonsense"/],
    [['--key-file', key], /invalid target "garbage"/, { FIL_HEARTBEAT_ALERTS: 'garbage' }],
    [['--target', `/ip4/127.0.0.1/tcp/1/p2p/${PEER}`, '--source', 'nope', '--key-file', key], /argument 'nope' is invalid/],
  ]
  for (const [args, message, env] of cases) {
    const r = runCli(AGENT_BIN, args, env)
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  }
  const badKey = join(tempDir(), 'open.key')
  writeFileSync(badKey, 'x')
  chmodSync(badKey, 0o644)
  const insecure = runCli(AGENT_BIN, ['--target', `/ip4/127.0.0.1/tcp/1/p2p/${PEER}`, '--key-file', badKey])
  assert.equal(insecure.status, 2)
  assert.match(insecure.stderr, /readable by others/)
  const aggregator = runCli(AGGREGATOR_BIN, ['--http', 'nowhere', '--data-dir', tempDir()])
  assert.equal(aggregator.status, 2)
  assert.match(aggregator.stderr, /invalid --http "nowhere"/)
})

test('a fleet through the executables: nicknames, rising heights, kill -9 and SIGTERM', async (t) => {
  const aggregator = await startAggregatorProcess()
  const agents = ['alpha', 'bravo', 'charlie'].map((nickname) => startAgentProcess(aggregator.multiaddr, ['--nickname', nickname, '--beat-period', '500ms', '--demo-block-time', '500ms']))
  t.after(async () => { await Promise.all([...agents.map(async (a) => { await a.stop() }), aggregator.process.stop()]) })

  const fleetUrl = `${aggregator.url}/api/v1/fleet`
  const first = await waitFor(async () => {
    const fleet = await fetchJson(fleetUrl)
    return fleet.nodes.length === 3 && fleet.nodes.every((n: any) => n.status === 'healthy') ? fleet : undefined
  }, { what: 'three healthy nodes' })
  assert.deepEqual(first.nodes.map((n: any) => n.nickname).sort(), ['alpha', 'bravo', 'charlie'])
  assert.equal(first.aggregator.peerId, aggregator.peerId)
  assert.ok(first.aggregator.multiaddrs.some((m: string) => m.endsWith(`/p2p/${aggregator.peerId}`)))
  const heightOf = (fleet: any, nick: string): number => fleet.nodes.find((n: any) => n.nickname === nick).height
  await waitFor(async () => heightOf(await fetchJson(fleetUrl), 'alpha') > heightOf(first, 'alpha'), { what: 'a rising height' })

  // kill -9: no goodbye; the aggregator sees the connection drop.
  const killedAt = Date.now()
  agents[0]!.kill('SIGKILL')
  const killed = await waitFor(async () => {
    const node = (await fetchJson(fleetUrl)).nodes.find((n: any) => n.nickname === 'alpha')
    return node.status !== 'healthy' ? node : undefined
  }, { timeoutMs: 5000, intervalMs: 50, what: 'alpha to turn non-healthy' })
  assert.ok(Date.now() - killedAt < 2000, `non-healthy after ${Date.now() - killedAt} ms`)
  assert.notEqual(killed.reason, '')

  // SIGTERM: a last beat saying "stopping", exit 0 within two seconds.
  const stoppedAt = Date.now()
  agents[1]!.kill('SIGTERM')
  const exit = await agents[1]!.exited
  assert.equal(exit.code, 0)
  assert.ok(Date.now() - stoppedAt < 2000, `exited after ${Date.now() - stoppedAt} ms`)
  const bravo = await waitFor(async () => {
    const node = (await fetchJson(fleetUrl)).nodes.find((n: any) => n.nickname === 'bravo')
    return node.status === 'stopped' ? node : undefined
  }, { what: 'bravo stopped' })
  assert.match(bravo.reason, /graceful stop/)
  const charlie = (await fetchJson(fleetUrl)).nodes.find((n: any) => n.nickname === 'charlie')
  assert.equal(charlie.status, 'healthy')
})

test('an agent aimed at a dead address: one WARN, then DEBUG, then an ERROR after a second or more', async (t) => {
  const agent = startAgentProcess(`/ip4/127.0.0.1/tcp/9/p2p/${PEER}`, ['--reconnect-period', '100ms', '--error-log-period', '1s', '--log-level', 'debug'])
  t.after(async () => { await agent.stop() })
  const failures = (): Array<{ level: string, time: string }> => agent.lines.filter((l) => l.msg.startsWith('heartbeat service failed to connect')) as any
  const error = await agent.waitForLog((l) => l.level === 'error' && l.msg.startsWith('heartbeat service failed to connect'), 10_000)
  const seen = failures()
  assert.equal(seen[0]?.level, 'warn')
  assert.equal(seen.filter((l) => l.level === 'warn').length, 1, 'exactly one WARN')
  const errorIndex = seen.findIndex((l) => l.level === 'error')
  assert.ok(seen.slice(1, errorIndex).length >= 3 && seen.slice(1, errorIndex).every((l) => l.level === 'debug'), 'DEBUG lines between')
  assert.ok(Date.parse(String(error.time)) - Date.parse(seen[0]!.time) >= 1000, 'the ERROR comes a second or more after the WARN')
  assert.match(String(error.msg), /connection refused|failed to connect for/)
})

test('with FIL_HEARTBEAT_ALERTS set, the node shows on both aggregators', async (t) => {
  const primary = await startAggregatorProcess()
  const alerts = await startAggregatorProcess()
  const agent = startAgentProcess(primary.multiaddr, ['--nickname', 'dual', '--beat-period', '500ms'], { FIL_HEARTBEAT_ALERTS: alerts.multiaddr })
  t.after(async () => { await Promise.all([agent.stop(), primary.process.stop(), alerts.process.stop()]) })
  for (const aggregator of [primary, alerts]) {
    const node = await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/fleet`)).nodes.find((n: any) => n.nickname === 'dual'), { what: `the node on ${aggregator.url}` })
    assert.equal(node.status, 'healthy')
  }
  const alertsNode = (await fetchJson(`${alerts.url}/api/v1/fleet`)).nodes[0]
  assert.equal(alertsNode.period, 10_000, 'the alerts service beats every 10 s')
  const one = await fetchJson(`${primary.url}/api/v1/nodes/${alertsNode.peerId}`)
  assert.equal(one.nickname, 'dual')
  const missing = await fetch(`${primary.url}/api/v1/nodes/12D3KooWnope`)
  assert.equal(missing.status, 404)
  assert.equal((await missing.json() as any).error.code, 'ERR_NODE_NOT_FOUND')
})
