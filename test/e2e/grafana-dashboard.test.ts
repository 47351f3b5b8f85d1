// The Grafana dashboard (deploy/grafana/dashboards/) and the Prometheus rules (deploy/prometheus/)
// against the real thing: an aggregator (bin/heartbeat-aggregator.js) with two agents, one healthy
// and one whose disk check fails, a peer that sends garbage, and Debian's Prometheus scraping the
// aggregator every second with the rules loaded. Every panel's query, with the template variables
// resolved and interpolated as Grafana does, must be valid and return data; every rule must evaluate
// cleanly, and the ones the broken agent trips must say so with its nickname and peer id.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { HEARTBEAT_PROTOCOL } from '../../shared/protocol.ts'
import {
  ALL, allPanels, type Dashboard, type DashboardPanel, type DashboardTarget, formatSelection, interpolate, type Selected,
  type TemplateVariable, variableOptions, variableQuery, type VariableOption,
} from '../support/grafana.ts'
import { get } from '../support/health.ts'
import { createHostilePeer, streamClosed } from '../support/hostile.ts'
import { freePort } from '../support/ports.ts'
import { ROOT, type RunningAggregator, startAgentProcess, startAggregatorProcess, type Spawned } from '../support/processes.ts'
import { hostPort, prometheusApi, query, queryRange, type RunningPrometheus, startPrometheus } from '../support/prometheus.ts'
import { waitFor } from '../support/wait.ts'

const DASHBOARD_FILE = 'deploy/grafana/dashboards/heartbeat-fleet.json'
const RULES_FILE = join(ROOT, 'deploy/prometheus/heartbeat-rules.yml')
const GRID_COLUMNS = 24
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' }
const dashboard = JSON.parse(readFileSync(join(ROOT, DASHBOARD_FILE), 'utf8')) as Dashboard
const panels = allPanels(dashboard)
const queryPanels = panels.filter((p) => p.type !== 'row')
const variables = dashboard.templating.list

const cleanups: Array<() => Promise<void>> = []
after(async () => { for (const c of cleanups.reverse()) await c().catch(() => {}) })

describe('the Grafana dashboard is well formed', () => {
  it('a current schema, unique panel ids, and a grid with no overlap', () => {
    assert.ok(dashboard.schemaVersion >= 39, `schemaVersion ${dashboard.schemaVersion}`)
    assert.match(dashboard.uid, /^[a-zA-Z0-9_-]{1,40}$/, 'a uid Grafana accepts')
    const ids = panels.map((p) => p.id)
    assert.ok(ids.every((id) => Number.isInteger(id) && id > 0))
    assert.equal(new Set(ids).size, ids.length, 'unique panel ids')
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos
      assert.ok([x, y, w, h].every(Number.isInteger), `${p.title}: integer gridPos`)
      assert.ok(x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= GRID_COLUMNS, `${p.title}: gridPos inside the ${GRID_COLUMNS} columns`)
    }
    const overlap = (a: DashboardPanel, b: DashboardPanel): boolean =>
      a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w &&
      a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h
    for (const [i, a] of dashboard.panels.entries()) {
      for (const b of dashboard.panels.slice(i + 1)) assert.ok(!overlap(a, b), `"${a.title}" and "${b.title}" overlap`)
    }
  })

  it('imports anywhere: every panel, query and variable reads the datasource variable', () => {
    const ds = variables.find((v) => v.type === 'datasource')
    assert.ok(ds !== undefined && ds.name === 'datasource' && ds.query === 'prometheus', 'a datasource variable of type prometheus')
    assert.deepEqual(variables.map((v) => v.name), ['datasource', 'instance', 'network', 'node'])
    for (const v of variables.filter((v) => v.type === 'query')) assert.deepEqual(v.datasource, DATASOURCE, `variable ${v.name}`)
    for (const p of queryPanels) {
      assert.deepEqual(p.datasource, DATASOURCE, `panel "${p.title}"`)
      assert.ok((p.targets ?? []).length > 0, `panel "${p.title}" has queries`)
      const refIds = (p.targets ?? []).map((t) => t.refId)
      assert.equal(new Set(refIds).size, refIds.length, `panel "${p.title}": unique refIds`)
      for (const t of p.targets ?? []) {
        assert.deepEqual(t.datasource, DATASOURCE, `panel "${p.title}" query ${t.refId}`)
        assert.ok(t.expr.trim() !== '', `panel "${p.title}" query ${t.refId} has an expression`)
      }
    }
    // Every variable a query names is defined (or one of Grafana's own).
    const names: Record<string, string> = Object.fromEntries(variables.map((v) => [v.name, 'x']))
    for (const t of queryPanels.flatMap((p) => p.targets ?? [])) interpolate(t.expr, names)
    for (const v of variables.filter((v) => v.type === 'query')) interpolate(variableQuery(v), names)
  })

  it('has the panels operators need', () => {
    const titles = queryPanels.map((p) => p.title)
    for (const title of ['Nodes by status now', 'Fleet status over time', 'Connected nodes', 'Height per node', 'Lag per node',
      'Head age per node', 'Consensus per network', 'Heaviest height per network', 'Frames per second', 'Ingest latency',
      'Alerts firing', 'Alerts by rule', 'Components', 'Build']) {
      assert.ok(titles.includes(title), `a "${title}" panel`)
    }
  })
})

describe('against a real Prometheus scraping a real aggregator', { timeout: 170_000 }, () => {
  let aggregator: RunningAggregator
  let prometheus: RunningPrometheus
  const peers: { ok: string, broken: string } = { ok: '', broken: '' }

  before(async () => {
    aggregator = await startAggregatorProcess({ args: ['--alert-for', '1s'] })
    cleanups.push(async () => { await aggregator.process.stop() })
    const start = async (nickname: string, extra: string[]): Promise<string> => {
      const agent: Spawned = startAgentProcess(aggregator.multiaddr, ['--nickname', nickname, '--beat-period', '500ms', ...extra])
      cleanups.push(async () => { await agent.stop() })
      return (await agent.waitForLog((l) => l.msg === 'heartbeat agent started')).peerId as string
    }
    // The broken one's disk check dials a port nobody listens on: component disk not_ready, node unhealthy.
    ;[peers.ok, peers.broken] = await Promise.all([start('dash-ok', []), start('dash-broken', ['--check', `disk=tcp:127.0.0.1:${await freePort()}`])])
    prometheus = await startPrometheus({ 'heartbeat-aggregator': hostPort(aggregator.url) }, { ruleFiles: [RULES_FILE] })
    cleanups.push(prometheus.stop)

    // A peer that sends a frame that is not CBOR: a rejection with a reason, for the ingest panel.
    const hostile = await createHostilePeer()
    cleanups.push(async () => { await hostile.stop() })
    const stream = await hostile.dialProtocol(multiaddr(aggregator.multiaddr), HEARTBEAT_PROTOCOL)
    stream.send(Uint8Array.from([5, 0xff, 0xfe, 0xfd, 0xfc, 0xfb]))
    assert.ok(await streamClosed(stream, 5_000), 'the aggregator resets the garbage stream')

    // Wait for what the panels show to be in Prometheus, with enough samples for the rates.
    const url = prometheus.url
    const has = async (promql: string, ok: (values: number[]) => boolean = (v) => v.length > 0): Promise<boolean> =>
      ok((await query(url, promql)).map((s) => s.value))
    await waitFor(async () => await has('heartbeat_node_status{status="healthy"} == 1', (v) => v.length === 1) &&
      await has('heartbeat_node_status{status="unhealthy"} == 1', (v) => v.length === 1) &&
      await has('rate(heartbeat_ingest_rejected_total{reason="invalid_cbor"}[5s])') &&
      await has('sum(heartbeat_alerts{state="firing"})', (v) => (v[0] ?? 0) > 0) &&
      await has('histogram_quantile(0.5, sum by (le) (rate(heartbeat_ingest_duration_seconds_bucket[5s])))', (v) => v.some(Number.isFinite)) &&
      await has('rate(process_cpu_seconds_total[5s])'),
    { what: 'the fleet, a rejection, a firing alert and ingest rates in Prometheus', timeoutMs: 90_000, intervalMs: 500 })
  })

  /** Resolves the variables in order (each may use the ones before), selecting as told. */
  async function resolve (selection: Record<string, Selected>): Promise<{ values: Record<string, string>, options: Record<string, VariableOption[]> }> {
    const values: Record<string, string> = { datasource: 'prometheus' }
    const options: Record<string, VariableOption[]> = {}
    for (const v of variables.filter((v): v is TemplateVariable => v.type === 'query')) {
      const found = await variableOptions(prometheus.url, v, values)
      options[v.name] = found
      values[v.name] = formatSelection(v, selection[v.name] ?? ALL, found)
    }
    return { values, options }
  }

  /** Runs one target as Grafana would (instant or range); returns the label sets and finite values seen. */
  async function run (target: DashboardTarget, values: Record<string, string>): Promise<{ series: Array<Record<string, string>>, finite: number }> {
    const expr = interpolate(target.expr, values)
    if (target.instant === true) {
      const samples = await query(prometheus.url, expr)
      return { series: samples.map((s) => s.metric), finite: samples.filter((s) => Number.isFinite(s.value)).length }
    }
    const matrix = await queryRange(prometheus.url, expr, 30)
    return { series: matrix.map((s) => s.metric), finite: matrix.flatMap((s) => s.values).filter(([, v]) => Number.isFinite(Number(v))).length }
  }

  it('the variables list the aggregator, its network and both nodes (nickname shown, peer id as the value)', async () => {
    const { options } = await resolve({})
    assert.deepEqual(options.instance?.map((o) => o.value), [hostPort(aggregator.url)])
    assert.deepEqual(options.network?.map((o) => o.value), ['demo'])
    assert.deepEqual(options.node?.sort((a, b) => a.text.localeCompare(b.text)), [{ text: 'dash-broken', value: peers.broken }, { text: 'dash-ok', value: peers.ok }])
  })

  it('every panel query is valid and returns data, with every network and node selected', async () => {
    const { values } = await resolve({})
    for (const panel of queryPanels) {
      for (const target of panel.targets ?? []) {
        const { series, finite } = await run(target, values)
        assert.ok(series.length > 0 && finite > 0, `panel "${panel.title}" query ${target.refId} returns data: ${interpolate(target.expr, values)}`)
      }
    }
  })

  it('selecting one node and its network narrows the per-node panels to it', async () => {
    const { values } = await resolve({ network: ['demo'], node: [peers.ok] })
    let perNode = 0
    for (const panel of queryPanels) {
      for (const target of (panel.targets ?? []).filter((t) => t.expr.includes('$node'))) {
        const { series } = await run(target, values)
        assert.ok(series.every((labels) => labels.peer_id === peers.ok), `panel "${panel.title}" query ${target.refId} shows only the selected node`)
        if (series.length > 0) perNode++
      }
    }
    assert.ok(perNode >= 6, `per-node queries with data for the selected node: ${perNode}`)
    const lag = await run(queryPanels.find((p) => p.title === 'Lag per node')?.targets?.[0] as DashboardTarget, values)
    assert.equal(lag.series.length, 1)
  })

  it('the Prometheus rules evaluate cleanly and alert on the broken node by nickname and peer id', async () => {
    const url = prometheus.url
    interface Rule { name: string, health: string, lastError?: string, lastEvaluation: string }
    const rules = await waitFor(async () => {
      const data = await prometheusApi<{ groups: Array<{ rules: Rule[] }> }>(url, '/api/v1/rules')
      const all = data.groups.flatMap((g) => g.rules)
      return all.length > 0 && all.every((r) => !r.lastEvaluation.startsWith('0001')) && all
    }, { what: 'every rule evaluated once', timeoutMs: 30_000, intervalMs: 500 })
    for (const r of rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError ?? ''}`)

    interface Alert { labels: Record<string, string>, annotations: Record<string, string>, state: string }
    const alerts = await waitFor(async () => {
      const list = (await prometheusApi<{ alerts: Alert[] }>(url, '/api/v1/alerts')).alerts
      return list.some((a) => a.labels.alertname === 'ComponentNotReady') && list.some((a) => a.labels.alertname === 'NodeUnhealthy') && list
    }, { what: 'NodeUnhealthy and ComponentNotReady active in Prometheus', timeoutMs: 30_000, intervalMs: 500 })
    const named = (name: string): Alert[] => alerts.filter((a) => a.labels.alertname === name)
    assert.equal(named('Watchdog')[0]?.state, 'firing')
    const [unhealthy] = named('NodeUnhealthy')
    assert.equal(named('NodeUnhealthy').length, 1, 'only the broken node')
    assert.equal(unhealthy?.labels.peer_id, peers.broken)
    assert.equal(unhealthy?.labels.nickname, 'dash-broken')
    assert.equal(unhealthy?.labels.severity, 'warning')
    assert.equal(unhealthy?.annotations.summary, `dash-broken (${peers.broken}) is unhealthy`)
    assert.match(unhealthy?.annotations.description ?? '', /: disk not_ready \(aggregator 127\.0\.0\.1:\d+\)/)
    const notReady = named('ComponentNotReady')
    assert.deepEqual(notReady.map((a) => [a.labels.peer_id, a.labels.component]), [[peers.broken, 'disk']])
    assert.equal(notReady[0]?.annotations.summary, `dash-broken (${peers.broken}): component disk is not_ready`)
    // Nothing this fleet cannot trip. (Not NodeDown, FleetBelowMinimum or NetworkInDispute: a busy machine can
    // make a node stale for a moment, and at each block the two demo agents briefly disagree; pending is enough.)
    const never = ['NodeLagging', 'HeadStuck', 'ComponentPanicked', 'HeartbeatAggregatorDown', 'HeartbeatAggregatorAbsent', 'HeartbeatAggregatorNotReady', 'HeartbeatAggregatorDegraded']
    assert.deepEqual(alerts.filter((a) => never.includes(a.labels.alertname as string)).map((a) => a.labels), [])
  })

  it('every metric the dashboard names is one the aggregator exports', async () => {
    const exposition = (await get(`${aggregator.url}/metrics`)).text
    const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [`${name as string}_bucket`, `${name as string}_sum`, `${name as string}_count`] : [name as string]))
    const used = new Set(queryPanels.flatMap((p) => p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\b((?:heartbeat|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1] as string)))
    for (const name of used) assert.ok(exported.has(name), `${name} is exported`)
    assert.ok(used.size >= 20, `the dashboard uses ${used.size} metrics`)
    // And docs/operations.md, which the dashboard's description points to, lists every one of ours.
    const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8')
    for (const [, name] of exposition.matchAll(/^# TYPE (heartbeat_\S+) /gm)) assert.ok(doc.includes(`| \`${name as string}\` |`), `docs/operations.md lists ${name as string}`)
  })
})
