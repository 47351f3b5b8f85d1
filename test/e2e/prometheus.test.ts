import { freePort } from '../support/ports.ts'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { PROMETHEUS, get } from '../support/health.ts'
import { startAgentProcess, startAggregatorProcess, tempDir, type Spawned } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const cleanups: Array<() => Promise<void>> = []
after(async () => { for (const c of cleanups.reverse()) await c().catch(() => {}) })


const hostPort = (url: string): string => new URL(url).host

/** A real Prometheus from Debian's package, on loopback, scraping every second into a temp dir. */
async function startPrometheus (targets: Record<string, string>): Promise<string> {
  const dir = tempDir('hb-prom-')
  const jobs = Object.entries(targets).map(([job, target]) => `  - job_name: ${job}\n    static_configs:\n      - targets: ['${target}']\n`).join('')
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${jobs}`)
  const port = await freePort()
  const proc = spawn(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise((resolve) => { proc.on('exit', resolve) })
  cleanups.push(async () => {
    proc.kill('SIGTERM')
    const timer = setTimeout(() => { proc.kill('SIGKILL') }, 10_000)
    await exited
    clearTimeout(timer)
  })
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => proc.exitCode === null && (await get(`${url}/-/ready`)).status === 200, { what: `Prometheus to be ready (stderr: ${stderr.slice(-500)})`, timeoutMs: 60_000, intervalMs: 250 })
  return url
}

/** Instant query through Prometheus' HTTP API: one value per series. */
async function query (prometheus: string, promql: string): Promise<Array<{ metric: Record<string, string>, value: number }>> {
  const answer = await get(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`)
  const body = JSON.parse(answer.text) as { status: string, data: { result: Array<{ metric: Record<string, string>, value: [number, string] }> } }
  assert.equal(body.status, 'success', answer.text)
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
}

describe('a real Prometheus scrapes the aggregator and the agent', () => {
  it('returns the fleet metrics through its query API', async () => {
    const aggregator = await startAggregatorProcess()
    cleanups.push(async () => { await aggregator.process.stop() })
    const agent: Spawned = startAgentProcess(aggregator.multiaddr, ['--nickname', 'prom-1', '--beat-period', '500ms', '--health-listen', '127.0.0.1:0'])
    cleanups.push(async () => { await agent.stop() })
    const agentStarted = await agent.waitForLog((l) => l.msg === 'heartbeat agent started')
    const agentHealth = await agent.waitForLog((l) => l.msg === 'health endpoints listening')
    const agentPeerId = agentStarted.peerId as string

    const prometheus = await startPrometheus({
      'heartbeat-aggregator': hostPort(aggregator.url),
      'heartbeat-agent': hostPort(agentHealth.url as string),
    })

    const healthy = await waitFor(async () => {
      const r = await query(prometheus, 'heartbeat_fleet_nodes{status="healthy"}')
      return r[0]?.value === 1 && r
    }, { what: 'heartbeat_fleet_nodes{status="healthy"} == 1 in Prometheus', timeoutMs: 60_000, intervalMs: 500 })
    assert.equal(healthy[0]?.metric.job, 'heartbeat-aggregator')

    const height = await query(prometheus, 'heartbeat_node_height')
    assert.equal(height.length, 1)
    assert.equal(height[0]?.metric.peer_id, agentPeerId)
    assert.equal(height[0]?.metric.nickname, 'prom-1')
    assert.ok((height[0]?.value ?? 0) > 0)

    // Both targets scraped successfully (Prometheus spreads first scrapes over the interval: wait for both).
    const up = await waitFor(async () => {
      const r = await query(prometheus, 'up == 1')
      return r.length === 2 && r
    }, { what: 'up == 1 for both jobs', timeoutMs: 30_000, intervalMs: 500 })
    assert.deepEqual(up.map((r) => r.metric.job).sort(), ['heartbeat-agent', 'heartbeat-aggregator'])

    const beats = await waitFor(async () => {
      const r = await query(prometheus, 'heartbeat_agent_beats_sent_total{service="primary"}')
      return (r[0]?.value ?? 0) > 0 && r
    }, { what: 'agent beats in Prometheus', timeoutMs: 30_000, intervalMs: 500 })
    assert.equal(beats[0]?.metric.job, 'heartbeat-agent')
  })
})
