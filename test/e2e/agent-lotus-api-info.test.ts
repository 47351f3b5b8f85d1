import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { FakeLotus, LOTUS_TOKEN } from '../support/fake-lotus.ts'
import { fetchJson, startAgentProcess, startAggregatorProcess, tempDir, type RunningAggregator, type Spawned } from '../support/processes.ts'
import { freePort } from '../support/ports.ts'
import { waitFor } from '../support/wait.ts'

interface FleetNode {
  peerId: string
  height: number
  network: string
  headTime: string | null
  source: string | null
  health: { components: Record<string, { status: string, details?: Record<string, unknown> }> }
}

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

async function fleetNode (aggregator: RunningAggregator, peerId: string): Promise<FleetNode | undefined> {
  const fleet = await fetchJson<{ nodes: FleetNode[] }>(`${aggregator.url}/api/v1/fleet`)
  return fleet.nodes.find((n) => n.peerId === peerId)
}

/** Starts an agent with only the environment a Lotus operator has: FULLNODE_API_INFO, no --source, no --source-url. */
function lotusOperatorsAgent (aggregator: RunningAggregator, apiInfo: string, args: string[] = []): Spawned {
  const agent = startAgentProcess(aggregator.multiaddr, ['--beat-period', '500ms', ...args], { FULLNODE_API_INFO: apiInfo })
  cleanup.push(async () => { await agent.stop() })
  return agent
}

/**
 * Lotus as Lotus operators configure it (docs/sources-and-checks.md):
 * FULLNODE_API_INFO=TOKEN:MULTIADDR, through the executables, against a
 * local server speaking Lotus's JSON-RPC shapes over HTTP and websocket.
 */
describe('agent executable reading Lotus from FULLNODE_API_INFO', () => {
  let aggregator: RunningAggregator
  const lotus = new FakeLotus()
  before(async () => {
    aggregator = await startAggregatorProcess()
    cleanup.push(async () => { await aggregator.process.stop() })
    await lotus.start()
    cleanup.push(async () => { await lotus.close() })
  })

  for (const form of ['http', 'ws'] as const) {
    it(`TOKEN:/ip4/127.0.0.1/tcp/PORT/${form}: the fake's height in the fleet, the bearer token seen, headTime and source in the beats`, async () => {
      lotus.authorizations = []
      lotus.upgrades = 0
      const apiInfo = `${LOTUS_TOKEN}:/ip4/127.0.0.1/tcp/${lotus.server.port}/${form}`
      const agent = lotusOperatorsAgent(aggregator, apiInfo)
      const started = await agent.waitForLog((l) => l.msg === 'heartbeat agent started', 30_000)
      const reading = agent.lines.find((l) => String(l.msg).startsWith('reading the lotus node'))
      assert.ok(reading !== undefined, 'the agent says at start which node it reads')
      assert.equal(reading.msg, `reading the lotus node at ${form}://127.0.0.1:${lotus.server.port} (from FULLNODE_API_INFO), token: FULLNODE_API_INFO`)
      assert.equal(reading.level, 'info')
      assert.equal(reading.sourceFrom, 'FULLNODE_API_INFO')
      assert.equal(started.source, 'lotus')

      const shown = await waitFor(async () => {
        const n = await fleetNode(aggregator, started.peerId as string)
        return n !== undefined && n.height === lotus.height ? n : undefined
      }, { timeoutMs: 15_000, what: "the fake's height in /api/v1/fleet" })
      assert.equal(shown.network, lotus.genesis)
      assert.equal(shown.source, 'lotus', 'the beat says where its head comes from')
      const headTime = Date.parse(shown.headTime ?? '')
      assert.ok(Number.isFinite(headTime) && Math.abs(Date.now() - headTime) < 60_000, `headTime is the blocks' Timestamp (${shown.headTime})`)
      assert.equal(new Date(headTime).getUTCSeconds() % 30, 0, 'on the fake chain\'s 30 s grid: it came from the node, not the agent\'s clock')
      assert.equal(shown.health.components.chain_source?.status, 'ready')

      assert.ok(lotus.authorizations.length > 0)
      assert.ok(lotus.authorizations.every((a) => a === `Bearer ${LOTUS_TOKEN}`), 'the token of FULLNODE_API_INFO is sent as a bearer token')
      if (form === 'ws') assert.equal(lotus.upgrades, 1, 'one websocket, kept')
      await agent.stop()
      assert.equal(agent.stderr.includes('not-a-real-signature'), false, 'the token is never logged')
    })
  }

  it('a token file beats the token of FULLNODE_API_INFO, and says so', async () => {
    const file = join(tempDir('hb-token-'), 'token')
    writeFileSync(file, `${LOTUS_TOKEN}\n`, { mode: 0o600 })
    lotus.authorizations = []
    // The variable's own token is wrong: were it sent, the fake would refuse it.
    const agent = lotusOperatorsAgent(aggregator, `eyJhbGciOi.eyJBbGxvdyI6.d3Jvbmc:/ip4/127.0.0.1/tcp/${lotus.server.port}/http`, ['--source-token-file', file])
    const started = await agent.waitForLog((l) => l.msg === 'heartbeat agent started', 30_000)
    const reading = agent.lines.find((l) => String(l.msg).startsWith('reading the lotus node'))
    assert.equal(reading?.tokenFrom, `file ${file}`)
    await waitFor(async () => (await fleetNode(aggregator, started.peerId as string))?.health.components.chain_source?.status === 'ready', { timeoutMs: 15_000, what: 'reads with the file\'s token' })
    assert.ok(lotus.authorizations.every((a) => a === `Bearer ${LOTUS_TOKEN}`))
  })

  it('no --source and no FULLNODE_API_INFO: a demo agent, with a WARN that it reports a simulated chain', async () => {
    const agent = startAgentProcess(aggregator.multiaddr, [], { FULLNODE_API_INFO: '' })
    cleanup.push(async () => { await agent.stop() })
    const warn = await agent.waitForLog((l) => l.level === 'warn' && /simulated chain/.test(String(l.msg)), 30_000)
    assert.match(String(warn.msg), /^no --source given and FULLNODE_API_INFO is not set: this agent reports a simulated chain \(demo\), not a node/)
    const started = await agent.waitForLog((l) => l.msg === 'heartbeat agent started', 30_000)
    const shown = await waitFor(async () => fleetNode(aggregator, started.peerId as string), { timeoutMs: 15_000, what: 'the demo node' })
    assert.equal(shown.source, 'demo', 'the aggregator can tell a demo node from a real one')
    const asked = startAgentProcess(aggregator.multiaddr, ['--source', 'demo'])
    cleanup.push(async () => { await asked.stop() })
    await asked.waitForLog((l) => l.msg === 'heartbeat agent started', 30_000)
    assert.equal(asked.lines.some((l) => l.level === 'warn' && /simulated chain/.test(String(l.msg))), false, 'an explicit --source demo is no surprise')
  })
})

describe('agent executable: fail fast on a --health-listen that cannot be bound', () => {
  let holder: Server
  let port: number
  before(async () => {
    port = await freePort()
    holder = createServer()
    await new Promise<void>((resolve) => { holder.listen(port, '127.0.0.1', resolve) })
  })
  after(async () => { await new Promise((resolve) => { holder.close(resolve) }) })

  it('a taken port: exit 2 within 2 s with one line naming the address and the likely cause, no stack trace', async () => {
    const started = performance.now()
    const agent = startAgentProcess('/ip4/127.0.0.1/tcp/1/p2p/12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc', ['--source', 'demo', '--health-listen', `127.0.0.1:${port}`, '--log-level', 'silent'])
    const { code } = await agent.exited
    const tookMs = performance.now() - started
    assert.equal(code, 2, agent.stderr)
    const lines = agent.stderr.trim().split('\n')
    assert.equal(lines.length, 1, `one line: ${agent.stderr}`)
    assert.equal(lines[0], `heartbeat-agent: --health-listen 127.0.0.1:${port} is already in use (another heartbeat-agent? see \`ss -ltnp 'sport = :${port}'\`)`)
    // From exec to exit, Node's own start included (about 0.5 s here).
    assert.ok(tookMs < 2_000, `exited after ${Math.round(tookMs)} ms`)
  })
})
