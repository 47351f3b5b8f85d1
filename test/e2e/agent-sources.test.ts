import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { FakeLotus, LOTUS_TOKEN } from '../support/fake-lotus.ts'
import { startDevNode, type DevNode } from '../support/ganache.ts'
import { fetchJson, startAgentProcess, startAggregatorProcess, tempDir, type RunningAggregator, type Spawned } from '../support/processes.ts'
import { refusedPort, startHttpServer, type RunningServer } from '../support/servers.ts'
import { waitFor } from '../support/wait.ts'

interface FleetNode {
  peerId: string
  head: string
  height: number
  network: string
  seq: number
  status: string
  health: { status: string, components: Record<string, { status: string, details?: Record<string, unknown> }> }
}

const BEAT_MS = 500
const SOURCE_TIMEOUT_MS = 1_000

async function fleetNode (aggregator: RunningAggregator, peerId: string): Promise<FleetNode | undefined> {
  const fleet = await fetchJson<{ nodes: FleetNode[] }>(`${aggregator.url}/api/v1/fleet`)
  return fleet.nodes.find((n) => n.peerId === peerId)
}

async function agentPeerId (agent: Spawned): Promise<string> {
  const started = await agent.waitForLog((l) => l.msg === 'heartbeat agent started', 30_000)
  return started.peerId as string
}

describe('agent executable with real sources and checks', () => {
  let aggregator: RunningAggregator
  let web: RunningServer
  before(async () => {
    // The tests read component details, which anonymous callers see only with --details always (docs/security.md).
    aggregator = await startAggregatorProcess({ args: ['--details', 'always'] })
    web = await startHttpServer((req, res) => {
      res.writeHead(req.url === '/ok' ? 200 : 503)
      res.end()
    })
  })
  after(async () => {
    await aggregator.process.stop()
    await web.close()
  })

  it('--source eth beside a dev node: real head in the fleet, follows blocks, chain_source not_ready when the node stops', async () => {
    const node: DevNode = await startDevNode()
    const refused = await refusedPort()
    const configFile = join(tempDir('hb-agent-config-'), 'agent.yaml')
    writeFileSync(configFile, `
nickname: eth-1
checks:
  - name: backup
    kind: http
    target: ${web.url}/down
    level: auxiliary
    interval: 500ms
  - name: rpc
    kind: jsonrpc
    target: ${node.url}
    method: eth_blockNumber
    interval: 500ms
    timeout: 1s
`)
    const agent = startAgentProcess(aggregator.multiaddr, [
      '--source', 'eth', '--source-url', node.url, '--source-timeout', `${SOURCE_TIMEOUT_MS}ms`,
      '--beat-period', `${BEAT_MS}ms`, '--config', configFile,
      '--check', `web=http:${web.url}/ok`, '--check', `p2p=tcp:127.0.0.1:${refused}`,
    ])
    try {
      const peerId = await agentPeerId(agent)
      await node.mine(5)
      const latest = await node.latest()
      const shown = await waitFor(async () => {
        const n = await fleetNode(aggregator, peerId)
        return n !== undefined && n.height === latest.number && n ? n : undefined
      }, { timeoutMs: 15_000, what: "the node's real block in the fleet" })
      assert.equal(shown.head, latest.hash, "the fleet shows the node's real block hash")
      assert.match(shown.network, /^eip155:1337\/0x[0-9a-f]{64}$/)
      const components = shown.health.components
      assert.equal(components.chain_source?.status, 'ready')
      assert.equal(components.sync?.status, 'ready')
      assert.equal(components.web?.status, 'ready', '--check http, 200')
      assert.equal(components.backup?.status, 'affected', 'config-file auxiliary http check, 503')
      assert.equal(components.backup?.details?.reportedStatus, undefined)
      assert.equal(components.rpc?.status, 'ready', 'config-file jsonrpc check')
      assert.equal(components.p2p?.status, 'not_ready', '--check tcp on a refused port')

      await node.mine(2)
      const next = await node.latest()
      await waitFor(async () => {
        const n = await fleetNode(aggregator, peerId)
        return n?.height === next.number && n.head === next.hash
      }, { timeoutMs: 10_000, what: 'the fleet to follow new blocks' })

      const before = await fleetNode(aggregator, peerId) as FleetNode
      const stoppedAt = Date.now()
      await node.close()
      const failing = await waitFor(async () => {
        const n = await fleetNode(aggregator, peerId)
        return n?.health.components.chain_source?.status === 'not_ready' ? n : undefined
      }, { timeoutMs: 10_000, intervalMs: 25, what: 'chain_source to turn not_ready' })
      const tookMs = Date.now() - stoppedAt
      // One beat for the failed poll to land in a beat, plus the source timeout, plus slack for a busy machine.
      assert.ok(tookMs <= BEAT_MS + SOURCE_TIMEOUT_MS + 1_500, `chain_source not_ready ${tookMs} ms after the node stopped`)
      console.log(`# chain_source turned not_ready on the fleet view ${tookMs} ms after the dev node stopped`)
      const details = failing.health.components.chain_source?.details ?? {}
      assert.match(String(details.error), /ECONNREFUSED/)
      assert.equal(failing.head, next.hash, 'the last known head stays')
      assert.equal(failing.height, next.number)
      assert.equal(typeof details.headAgeMs, 'number')
      assert.equal(failing.health.components.rpc?.status, 'not_ready', 'the jsonrpc check sees the node gone too')
      assert.equal(failing.health.components.sync, undefined, "a dead node's sync state is not reported as current")

      // The agent keeps beating: seq moves on, the node is unhealthy, not silent.
      await waitFor(async () => {
        const n = await fleetNode(aggregator, peerId)
        return n !== undefined && n.seq >= failing.seq + 3
      }, { timeoutMs: 10_000, what: 'beats to continue' })
      const still = await fleetNode(aggregator, peerId) as FleetNode
      assert.ok(still.seq > before.seq)
      assert.notEqual(still.status, 'stale')
      assert.notEqual(still.status, 'down')
    } finally {
      await agent.stop()
      await node.close()
    }
  })

  it('--source lotus with a token file: the tipset key in the fleet, the token never in the logs', async () => {
    const lotus = new FakeLotus()
    await lotus.start()
    const tokenFile = join(tempDir('hb-token-'), 'token')
    writeFileSync(tokenFile, `${LOTUS_TOKEN}\n`, { mode: 0o600 })
    const agent = startAgentProcess(aggregator.multiaddr, [
      '--source', 'lotus', '--source-url', lotus.url, '--source-token-file', tokenFile,
      '--beat-period', `${BEAT_MS}ms`, '--log-level', 'debug', '--miner-address', 'f01234',
    ])
    try {
      const peerId = await agentPeerId(agent)
      const shown = await waitFor(async () => {
        const n = await fleetNode(aggregator, peerId)
        return n?.health.components.chain_source?.status === 'ready' ? n : undefined
      }, { timeoutMs: 15_000, what: 'the lotus node in the fleet' })
      assert.match(shown.head, /^\{ bafy\S+ bafy\S+ \}$/)
      assert.equal(shown.height, lotus.height)
      assert.equal(shown.network, lotus.genesis)
      assert.ok(lotus.authorizations.every((a) => a === `Bearer ${LOTUS_TOKEN}`), 'the token from the file is sent')
    } finally {
      await agent.stop()
      await lotus.server.close()
    }
    assert.ok(!agent.stderr.includes(LOTUS_TOKEN) && !agent.stdout.includes(LOTUS_TOKEN), 'the token is never logged')
  })

  it('refuses bad sources, checks and config files with a clear error and exit 2', async () => {
    const dir = tempDir('hb-bad-')
    const badConfig = join(dir, 'agent.json')
    writeFileSync(badConfig, JSON.stringify({ checks: [{ name: 'x', kind: 'tcp', target: 'localhost:1', timeout: '3 seconds' }] }))
    const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
      [['--check', 'api=http:nowhere'], /invalid --check "api=http:nowhere": target: invalid http target "nowhere"/],
      [['--config', badConfig], /config file .*agent\.json: checks\[0\]\.timeout: invalid duration "3 seconds"/],
      [['--config', join(dir, 'missing.yaml')], /cannot read config file .*missing\.yaml/],
      [['--source', 'command'], /--source command needs --source-command/],
      [['--source', 'eth', '--source-url', 'ftp://127.0.0.1:8546'], /only http:\/\/, https:\/\/, ws:\/\/ and wss:\/\/ are supported/],
      [['--source', 'lotus'], /^heartbeat-agent: FULLNODE_API_INFO is not usable: the multiaddr has no \/tcp\/PORT after the host/, { FULLNODE_API_INFO: `${LOTUS_TOKEN}:/ip4/127.0.0.1/udp/1234` }],
      [['--source', 'lotus', '--source-token-file', join(dir, 'no-token')], /cannot read the source token file/],
    ]
    for (const [args, message, env] of cases) {
      const agent = startAgentProcess(aggregator.multiaddr, args, env)
      const { code } = await agent.exited
      assert.equal(code, 2, `exit 2 for ${args.join(' ')}: ${agent.stderr}`)
      assert.match(agent.stderr, message)
      assert.doesNotMatch(agent.stderr, /\n\s+at /, 'no stack trace')
      assert.equal(agent.stderr.includes('not-a-real-signature'), false, 'never the token')
    }
  })
})
