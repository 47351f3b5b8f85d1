// One aggregator and one agent run from an installation (a global npm install,
// the single executables), as an operator would start them: the checks the
// installation tests share.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { fetchJson, Spawned, tempDir } from './processes.ts'
import { waitFor } from './wait.ts'

/** The promise: an agent started from an installation shows as healthy within this. */
export const HEALTHY_WITHIN_MS = 10_000

export interface InstalledPrograms {
  aggregator: string
  agent: string
  /** The environment both run in (PATH decides which Node.js an npm install runs on). */
  env: NodeJS.ProcessEnv
}

export interface FleetRun {
  /** From the agent's start to the aggregator listing it healthy. */
  healthyAfterMs: number
  node: FleetNode
  aggregatorVersion: string
  page: { html: string, scriptBytes: number, scriptType: string | null }
}

export interface FleetNode { peerId: string, nickname: string, status: string, height: number, network: string }

export interface AgentOptions {
  /** More flags for the agent (its source, ...). */
  args?: string[]
  /** More environment for the agent. */
  env?: NodeJS.ProcessEnv
  /** What the healthy node must also show (e.g. the height its source reports). */
  expect?: (node: FleetNode) => boolean
}

/**
 * Starts the aggregator, then the agent, waits for the agent to show as
 * healthy, reads the page, and stops both gracefully (the agent shows as
 * stopped, both exit 0).
 */
export async function runInstalledFleet (programs: InstalledPrograms, nickname: string, options: AgentOptions = {}): Promise<FleetRun> {
  const data = tempDir('hb-installed-')
  const aggregator = new Spawned(programs.aggregator, ['--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', '--data-dir', join(data, 'aggregator')], programs.env, { direct: true })
  let agent: Spawned | undefined
  try {
    const started = await aggregator.waitForLog((l) => l.msg === 'heartbeat aggregator started', 30_000)
    const url = started.http as string
    const target = (started.multiaddrs as string[])[0] as string
    const agentStarted = Date.now()
    const args = ['--target', target, '--nickname', nickname, '--beat-period', '1s', '--key-file', join(data, 'agent.key'), ...(options.args ?? [])]
    agent = new Spawned(programs.agent, args, { ...programs.env, ...options.env }, { direct: true })
    const expect = options.expect ?? (() => true)
    const node = await waitFor(async () => {
      const fleet = await fetchJson<{ nodes: FleetNode[] }>(`${url}/api/v1/fleet`)
      return fleet.nodes.find((n) => n.nickname === nickname && n.status === 'healthy' && expect(n))
    }, { timeoutMs: HEALTHY_WITHIN_MS, what: `${nickname} to show as healthy (agent stderr: ${agent.stderr.slice(-1000)})` })
    const healthyAfterMs = Date.now() - agentStarted
    const fleet = await fetchJson<{ aggregator: { version: string } }>(`${url}/api/v1/fleet`)
    const html = await (await fetch(`${url}/`)).text()
    const script = await fetch(`${url}/assets/app.js`)
    const scriptBytes = (await script.arrayBuffer()).byteLength
    const page = { html, scriptBytes, scriptType: script.headers.get('content-type') }

    agent.kill('SIGTERM')
    assert.deepEqual(await agent.exited, { code: 0, signal: null }, 'the agent stops cleanly')
    await waitFor(async () => (await fetchJson<{ nodes: FleetNode[] }>(`${url}/api/v1/fleet`)).nodes.find((n) => n.nickname === nickname && n.status === 'stopped'), { what: `${nickname} to show as stopped` })
    aggregator.kill('SIGTERM')
    assert.deepEqual(await aggregator.exited, { code: 0, signal: null }, 'the aggregator stops cleanly')
    return { healthyAfterMs, node, aggregatorVersion: fleet.aggregator.version, page }
  } finally {
    await agent?.stop()
    await aggregator.stop()
  }
}
