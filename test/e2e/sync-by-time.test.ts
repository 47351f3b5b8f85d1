// Sync judged by time, through the executables: agents whose node reports a
// head one hour old, all at the same height (so they agree perfectly), are
// none of them healthy, say the age in their reason, and fire
// FleetBehindClock; an agent whose node never answered is unhealthy, says so
// with the error, and counts towards nothing.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { fetchJson, startAgentProcess, startAggregatorProcess, type RunningAggregator, type Spawned } from '../support/processes.ts'
import { freePort } from '../support/ports.ts'
import { waitFor } from '../support/wait.ts'
import { startWebhookSink, type WebhookSink } from '../support/webhook-sink.ts'

const MAINNET = 'bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2'
const GENESIS_MS = 1_598_306_400_000
const EPOCH_MS = 30_000

interface NodeJson { peerId: string, nickname: string, status: string, reason: string, network: string, headAgeMs: number | null, epochsBehindClock: number | null }
interface NetworkJson { network: string, inConsensus: number, reporting: number, nodes: number, behindClock: boolean, epochsBehindClock: number | null, heaviestHead: string | null }

const cleanup: Array<() => Promise<void>> = []
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {})
})

describe('sync judged by time', () => {
  it('every node on a head an hour old at one height: none healthy, the age in the reason, FleetBehindClock fires; a node that never read a head counts towards nothing', { timeout: 120_000 }, async () => {
    const sink: WebhookSink = await startWebhookSink()
    cleanup.push(async () => { await sink.close() })
    const aggregator: RunningAggregator = await startAggregatorProcess({ args: ['--alert-webhook', sink.url, '--alert-for', '2s'] })
    cleanup.push(async () => { await aggregator.process.stop() })

    // A Filecoin mainnet head of an hour ago: 120 epochs behind the clock, its block's time exact.
    const height = Math.floor((Date.now() - 3_600_000 - GENESIS_MS) / EPOCH_MS)
    const reading = JSON.stringify({ head: `{bafy-old-${height}}`, height, headTime: GENESIS_MS + height * EPOCH_MS, network: MAINNET })
    const agents: Spawned[] = []
    for (const nickname of ['old-1', 'old-2', 'old-3']) {
      const agent = startAgentProcess(aggregator.multiaddr, ['--nickname', nickname, '--beat-period', '1s', '--source', 'command', '--source-command', `echo '${reading}'`])
      agents.push(agent)
      cleanup.push(async () => { await agent.stop() })
    }
    // An agent whose Lotus never answers (nothing listens on the port).
    const deadPort = await freePort()
    const headless = startAgentProcess(aggregator.multiaddr, ['--nickname', 'never-read', '--beat-period', '1s', '--source', 'lotus', '--source-url', `http://127.0.0.1:${deadPort}/rpc/v1`, '--source-timeout', '500ms'])
    cleanup.push(async () => { await headless.stop() })

    const fleet = async (): Promise<{ nodes: NodeJson[], summary: { networks: NetworkJson[] } }> => await fetchJson(`${aggregator.url}/api/v1/fleet`)
    const doc = await waitFor(async () => {
      const f = await fleet()
      return f.nodes.length === 4 && f.nodes.every((n) => n.reason !== '') ? f : undefined
    }, { timeoutMs: 60_000, intervalMs: 250, what: 'four nodes with their reasons' })

    const old = doc.nodes.filter((n) => n.nickname.startsWith('old-'))
    assert.equal(old.length, 3)
    for (const n of old) {
      assert.equal(n.status, 'degraded', `${n.nickname} is not healthy: ${n.reason}`)
      assert.match(n.reason, /^head older than 2m30s: its block is from \d\d:\d\d:\d\dZ \(1h[01]m\d+s old at the last heartbeat, 12\d epochs behind the clock\)$/)
      assert.ok(n.headAgeMs !== null && n.headAgeMs >= 3_600_000, `head age ${n.headAgeMs}`)
    }
    const mainnet = doc.summary.networks.find((n) => n.network === MAINNET)
    assert.equal(mainnet?.inConsensus, 3, 'they agree...')
    assert.equal(mainnet?.behindClock, true, '...and the network is behind the clock')

    const never = doc.nodes.find((n) => n.nickname === 'never-read')
    assert.equal(never?.status, 'unhealthy')
    assert.match(never?.reason ?? '', /^has not read a head from its node yet: .*ECONNREFUSED/)
    const unnamed = doc.summary.networks.find((n) => n.network === '')
    assert.deepEqual([unnamed?.heaviestHead, unnamed?.inConsensus, unnamed?.reporting, unnamed?.nodes], [null, 0, 0, 1], 'it counts towards nothing')
    const metrics = await (await fetch(`${aggregator.url}/metrics`)).text()
    assert.doesNotMatch(metrics, /^heartbeat_fleet_nodes_in_consensus\{network=""\} 1$/m)
    assert.match(metrics, /^heartbeat_fleet_nodes_in_consensus\{network=""\} 0$/m)
    assert.match(metrics, new RegExp(`^heartbeat_fleet_behind_clock\\{network="${MAINNET}"\\} 1$`, 'm'))
    assert.match(metrics, /^heartbeat_node_head_age_seconds\{peer_id="[^"]+",nickname="old-1"\} 36\d\d(\.\d+)?$/m)

    // The alert, with the age in its words.
    const behind = await waitFor(() => sink.received.find((r) => r.body?.alert?.name === 'FleetBehindClock' && r.body?.status === 'firing'), { timeoutMs: 30_000, what: 'FleetBehindClock at the webhook' })
    assert.equal(behind.body.alert.severity, 'critical')
    assert.match(behind.body.alert.summary, new RegExp(`^every reporting node \\(3\\) of network ${MAINNET} is behind the clock: its freshest head is 1h[01]m0s old, 12\\d epochs behind$`))
  })
})
