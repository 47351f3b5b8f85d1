import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { AgentHealthServer } from '../../agent/health-server.ts'
import { startTestAggregator } from '../support/in-process.ts'
import { startTestAgent, weighted } from '../support/agents.ts'
import { get, promtoolCheck } from '../support/health.ts'
import { waitFor } from '../support/wait.ts'

const cleanups: Array<() => Promise<void>> = []
after(async () => { for (const c of cleanups.reverse()) await c().catch(() => {}) })

/** The value of one sample line, e.g. value(text, 'heartbeat_fleet_nodes_connected'). */
function value (text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('GET /metrics over real HTTP', () => {
  it('the aggregator exposes fleet, per-node and ingest metrics that pass promtool', async () => {
    const agg = await startTestAggregator()
    cleanups.push(async () => { await agg.stop() })
    const target = agg.multiaddrs()[0] as string
    const alpha = await startTestAgent({ targets: [weighted(target)], reconnectPeriodMs: 300, nickname: 'alpha' })
    cleanups.push(async () => { await alpha.stop() })
    const odd = await startTestAgent({ targets: [weighted(target)], reconnectPeriodMs: 300, nickname: 'odd "name"\n{with} braces' })
    cleanups.push(async () => { await odd.stop() })

    const scrape = async (): Promise<string> => {
      const answer = await get(`${agg.url}/metrics`)
      assert.equal(answer.status, 200)
      assert.equal(answer.contentType, 'text/plain; version=0.0.4; charset=utf-8')
      return answer.text
    }
    const text = await waitFor(async () => {
      const t = await scrape()
      return value(t, 'heartbeat_fleet_nodes_connected') === 2 && (value(t, 'heartbeat_ingest_frames_accepted_total') ?? 0) >= 4 && t
    }, { what: 'both agents in the metrics' })

    const check = promtoolCheck(text)
    assert.equal(check.status, 0, `promtool check metrics: ${check.output}`)

    assert.ok(text.includes(`heartbeat_node_height{peer_id="${alpha.peerId}",nickname="alpha"}`))
    assert.ok(text.includes(`heartbeat_node_status{peer_id="${odd.peerId}",nickname="odd _name___with_ braces",status="healthy"} 1`), 'nickname sanitised')
    assert.ok(text.includes(`heartbeat_node_component_status{peer_id="${alpha.peerId}",nickname="alpha",component="chain_source",status="ready"} 1`))
    assert.ok(text.includes(`heartbeat_node_info{peer_id="${alpha.peerId}",nickname="alpha",network="demo",miner_address="",agent_version="0.1.0",protocol="v2",aggregator="${agg.peerId}"} 1`))
    assert.equal(value(text, 'heartbeat_fleet_nodes{status="healthy"}'), 2)
    const lastBeat = value(text, `heartbeat_node_last_heartbeat_timestamp_seconds{peer_id="${alpha.peerId}",nickname="alpha"}`) ?? 0
    assert.ok(Math.abs(lastBeat - Date.now() / 1000) < 30, `last heartbeat ${lastBeat} is recent, in seconds`)
    const received = value(text, 'heartbeat_ingest_frames_received_total') ?? 0
    const accepted = value(text, 'heartbeat_ingest_frames_accepted_total') ?? 0
    assert.ok(received >= accepted && accepted >= 4)
    assert.ok((value(text, 'heartbeat_ingest_duration_seconds_count') ?? 0) >= 4)
    assert.ok((value(text, 'heartbeat_aggregator_libp2p_connections') ?? 0) >= 2)
    assert.ok(/^process_cpu_seconds_total \d/m.test(text), 'process metrics')
    assert.ok(/^nodejs_heap_size_used_bytes \d/m.test(text), 'runtime metrics')

    // A graceful stop shows in the state set.
    await odd.stop()
    await waitFor(async () => (await scrape()).includes(`heartbeat_node_status{peer_id="${odd.peerId}",nickname="odd _name___with_ braces",status="stopped"} 1`), { what: 'the stopped node in the metrics' })
  })

  it('the agent exposes beats sent, connect failures, the current target and the last send time, passing promtool', async () => {
    const agg = await startTestAggregator()
    cleanups.push(async () => { await agg.stop() })
    const target = agg.multiaddrs()[0] as string
    const a = await startTestAgent({ targets: [weighted(target)], reconnectPeriodMs: 300 })
    cleanups.push(async () => { await a.stop() })
    const server = new AgentHealthServer({ agent: a, host: '127.0.0.1', port: 0, config: {} })
    cleanups.push(async () => { await server.close() })
    await server.start()
    server.running()

    const text = await waitFor(async () => {
      const t = (await get(`${server.url}/metrics`)).text
      return (value(t, 'heartbeat_agent_beats_sent_total{service="primary"}') ?? 0) >= 2 && t
    }, { what: 'beats in the agent metrics' })
    const check = promtoolCheck(text)
    assert.equal(check.status, 0, `promtool check metrics: ${check.output}`)
    assert.equal(value(text, 'heartbeat_agent_connected{service="primary"}'), 1)
    assert.equal(value(text, 'heartbeat_agent_connect_failures_total{service="primary"}'), 0)
    assert.equal(value(text, `heartbeat_agent_current_target{service="primary",target="${target}"}`), 1)
    const lastSend = value(text, 'heartbeat_agent_last_send_timestamp_seconds{service="primary"}') ?? 0
    assert.ok(Math.abs(lastSend - Date.now() / 1000) < 30)
    assert.ok((value(text, 'heartbeat_agent_chain_height') ?? 0) > 0)
    assert.equal(value(text, 'heartbeat_agent_component_status{component="heartbeat_primary",status="ready"}'), 1)

    // The aggregator goes away: connect failures count up while the agent retries.
    await agg.stop()
    await waitFor(async () => {
      const t = (await get(`${server.url}/metrics`)).text
      return value(t, 'heartbeat_agent_connected{service="primary"}') === 0 && (value(t, 'heartbeat_agent_connect_failures_total{service="primary"}') ?? 0) >= 1
    }, { what: 'connect failures in the agent metrics', timeoutMs: 15_000 })
  })
})
