import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import { createHeartbeatAgent } from '../../agent/index.ts'
import { createLogger } from '../../shared/log.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { fetchJson, ROOT, Spawned } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const EXAMPLE = join(ROOT, 'examples', 'embedding.ts')
const DOC = join(ROOT, 'docs', 'embedding.md')

interface FleetNode { peerId: string, nickname: string, height: number, head: string, minerAddress: string, status: string, health: { components: Record<string, { status: string, details?: Record<string, unknown> }> } }

describe('the embedding API', () => {
  let aggregator: Aggregator
  // The tests read component details, which anonymous callers see only with --details always (docs/security.md).
  before(async () => { aggregator = await startTestAggregator({ exposure: { details: 'always' } }) })
  after(async () => { await aggregator.stop() })

  const node = async (peerId: string): Promise<FleetNode | undefined> => {
    const fleet = await fetchJson<{ nodes: FleetNode[] }>(`${aggregator.url}/api/v1/fleet`)
    return fleet.nodes.find((n) => n.peerId === peerId)
  }

  it('docs/embedding.md shows examples/embedding.ts exactly', () => {
    const doc = readFileSync(DOC, 'utf8')
    const block = /<!-- example: examples\/embedding\.ts -->\n```ts\n([\s\S]*?)```/.exec(doc)?.[1]
    assert.ok(block !== undefined, 'the doc has the example block')
    assert.equal(block, readFileSync(EXAMPLE, 'utf8'))
  })

  it('the documented example runs: the node, its indicators and its check reach the fleet, and it stops gracefully', async () => {
    // fil-heartbeat/agent from the sources, not the build (package.json "exports": the fil-heartbeat-source condition).
    const example = new Spawned(EXAMPLE, [aggregator.multiaddrs()[0] as string], { TEST_LOG_LEVEL: 'info', NODE_OPTIONS: '--conditions=fil-heartbeat-source' })
    try {
      const line = await waitFor(() => /beating to \S+ as (\S+)/.exec(example.stdout)?.[1], { timeoutMs: 30_000, what: `the example to start (stderr: ${example.stderr.slice(-500)})` })
      const shown = await waitFor(async () => {
        const n = await node(line)
        return n !== undefined && n.height >= 2 ? n : undefined
      }, { timeoutMs: 15_000, what: 'the example node in the fleet' })
      assert.equal(shown.nickname, 'embedded-example')
      assert.equal(shown.head, `toy-block-${shown.height}`)
      assert.equal(shown.minerAddress, 'f01234')
      const components = shown.health.components
      assert.equal(components.chain_source?.status, 'ready')
      assert.ok(['ready', 'affected'].includes(components.mempool?.status ?? ''), 'the in-memory indicator')
      assert.equal(typeof components.disk?.details?.freePercent, 'number', 'the I/O indicator')
      assert.equal(components.shell?.status, 'ready', 'the command check')
      example.kill('SIGTERM')
      const { code } = await example.exited
      assert.equal(code, 0)
      await waitFor(async () => (await node(line))?.status === 'stopped', { what: 'the node to show as stopped' })
    } finally {
      await example.stop()
    }
  })

  it('turns chain_source not_ready when the head getter throws, answers nonsense or hangs, and keeps beating', async () => {
    let mode: 'ok' | 'throw' | 'nonsense' | 'hang' = 'ok'
    const agent = await createHeartbeatAgent({
      targets: [aggregator.multiaddrs()[0] as string],
      nickname: 'getter-test',
      logger: createLogger({ name: 'test-agent', level: 'silent' }),
      beatPeriodMs: 200,
      headTimeoutMs: 300,
      headGetter: async () => {
        if (mode === 'throw') throw new Error('node database locked')
        if (mode === 'nonsense') return { head: '', height: -1 }
        if (mode === 'hang') return await new Promise(() => {})
        return { head: ['bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2'], height: 7 }
      },
      indicators: { broken: () => ({ status: 'fine' as never }) },
    })
    await agent.start()
    try {
      const peerId = agent.peerId
      const shown = await waitFor(async () => { const n = await node(peerId); return n?.health.components.chain_source?.status === 'ready' ? n : undefined })
      assert.equal(shown.head, '{ bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2 }', 'CIDs are written as a tipset key')
      assert.equal(shown.health.components.broken?.status, 'not_ready', 'an indicator returning nonsense is a failed component')
      for (const [next, error] of [['throw', /node database locked/], ['nonsense', /head getter returned/], ['hang', /did not answer within 300 ms/]] as const) {
        mode = next
        const failing = await waitFor(async () => {
          const n = await node(peerId)
          const c = n?.health.components.chain_source
          return c?.status === 'not_ready' && error.test(String(c.details?.error)) ? n : undefined
        }, { what: `chain_source not_ready for ${next}` })
        assert.equal(failing.height, 7, 'the last head stays')
        mode = 'ok'
        await waitFor(async () => (await node(peerId))?.health.components.chain_source?.status === 'ready', { what: 'recovery' })
      }
    } finally {
      await agent.stop()
    }
  })

  it('refuses bad options with a clear error', async () => {
    await assert.rejects(createHeartbeatAgent({ targets: ['/ip4/127.0.0.1/tcp/1'], headGetter: () => ({ head: 'h', height: 1 }) }), /does not name the aggregator's peer id/)
    const target = aggregator.multiaddrs()[0] as string
    await assert.rejects(createHeartbeatAgent({ targets: [target], headGetter: () => ({ head: 'h', height: 1 }), indicators: { 'no spaces': () => ({ status: 'ready' }) } }), /indicator name "no spaces" must be/)
    await assert.rejects(createHeartbeatAgent({ targets: [target], headGetter: () => ({ head: 'h', height: 1 }), checks: [{ name: 'x', kind: 'tcp', target: 'nowhere' }] }), /checks\[0\]\.target: invalid tcp target/)
    await assert.rejects(createHeartbeatAgent({ targets: [target], headGetter: () => ({ head: 'h', height: 1 }), beatPeriodMs: 0 }), /beatPeriodMs must be a positive/)
  })
})
