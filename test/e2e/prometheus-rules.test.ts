// deploy/prometheus/heartbeat-rules.yml through promtool: the rules parse (`check rules`), do what
// their unit tests say (`test rules` with heartbeat-rules.test.yml), the tests catch a wrong rule,
// and the first group is the built-in rules' twin (names, severities, `for`, thresholds).
// test/e2e/grafana-dashboard.test.ts loads the same rules into a Prometheus scraping a real aggregator.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parse as parseYaml } from 'yaml'
import { DEFAULT_ALERT_FOR_MS, DEFAULT_HEAD_STUCK_AFTER_MS, DEFAULT_MAX_LAG_BLOCKS } from '../../aggregator/alerts/constants.ts'
import { builtInRules } from '../../aggregator/alerts/rules.ts'
import { parseDuration } from '../../shared/duration.ts'
import { PROMTOOL } from '../support/health.ts'
import { ROOT, tempDir } from '../support/processes.ts'

const DIR = join(ROOT, 'deploy/prometheus')
const RULES = 'heartbeat-rules.yml'
const TESTS = 'heartbeat-rules.test.yml'

interface PromRule { alert: string, expr: string, for?: string, labels: Record<string, string>, annotations: Record<string, string> }
interface RuleGroup { name: string, rules: PromRule[] }
const groups = (parseYaml(readFileSync(join(DIR, RULES), 'utf8')) as { groups: RuleGroup[] }).groups
const rules = groups.flatMap((g) => g.rules)

function promtool (args: string[], cwd: string): { status: number | null, output: string } {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}

/** promtool test rules on a copy of the rules with one edit: the tests must notice. */
function testMutated (from: string, to: string): { status: number | null, output: string } {
  const dir = tempDir('hb-rules-')
  const text = readFileSync(join(DIR, RULES), 'utf8')
  assert.ok(text.includes(from), `the rules contain ${from}`)
  writeFileSync(join(dir, RULES), text.replace(from, to))
  copyFileSync(join(DIR, TESTS), join(dir, TESTS))
  return promtool(['test', 'rules', TESTS], dir)
}

describe('the Prometheus alerting rules', () => {
  it('pass promtool check rules (and a broken expression does not)', () => {
    const check = promtool(['check', 'rules', RULES], DIR)
    assert.equal(check.status, 0, check.output)
    assert.match(check.output, new RegExp(`SUCCESS: ${rules.length} rules found`))
    const dir = tempDir('hb-rules-')
    writeFileSync(join(dir, RULES), readFileSync(join(DIR, RULES), 'utf8').replace('heartbeat_fleet_nodes_in_dispute > 0', 'heartbeat_fleet_nodes_in_dispute >'))
    assert.notEqual(promtool(['check', 'rules', RULES], dir).status, 0)
  })

  it('pass their promtool unit tests, which expect every rule to fire', () => {
    const run = promtool(['test', 'rules', TESTS], DIR)
    assert.equal(run.status, 0, run.output)
    const tests = parseYaml(readFileSync(join(DIR, TESTS), 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string, exp_alerts: unknown[] }> }> }
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test).filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname))
    for (const r of rules) assert.ok(fired.has(r.alert), `${TESTS} has a case where ${r.alert} fires`)
  })

  it('the unit tests catch a wrong threshold, a lost identity and a rule that reads non-current nodes', () => {
    for (const [from, to] of [
      ['heartbeat_node_lag > 10', 'heartbeat_node_lag >= 10'],
      ['max without (status) (heartbeat_node_status{status=~"down|stale"}) == 1', 'heartbeat_node_status{status=~"down|stale"} == 1'],
      ['heartbeat_node_component_status{status="panicked"} == 1\n          and on (job, instance, peer_id)', 'heartbeat_node_component_status{status="panicked"} == 1\n          or on (job, instance, peer_id)'],
      ['sum without (status) (heartbeat_fleet_nodes{status!="stopped"}) > 0', 'sum without (status) (heartbeat_fleet_nodes) > 0'],
      ['heartbeat_fleet_behind_clock == 1', 'heartbeat_fleet_behind_clock >= 0'],
    ] as const) {
      const run = testMutated(from, to)
      assert.notEqual(run.status, 0, `the tests pass with ${to}`)
      assert.match(run.output, /FAILED/)
    }
  })

  it('the first group mirrors the built-in rules: names, severities, `for` and thresholds', () => {
    const fleet = groups.find((g) => g.name === 'heartbeat-fleet') as RuleGroup
    const builtIns = builtInRules()
    assert.deepEqual(fleet.rules.map((r) => r.alert), builtIns.map((r) => r.name))
    for (const [i, r] of fleet.rules.entries()) {
      const builtIn = builtIns[i]!
      assert.equal(r.labels.severity, builtIn.severity, `${r.alert} severity`)
      assert.equal(parseDuration(r.for ?? '0s'), DEFAULT_ALERT_FOR_MS, `${r.alert} for = --alert-for's default`)
      assert.ok(r.annotations.summary !== undefined && r.annotations.description !== undefined, `${r.alert} has a summary and a description`)
      if (r.alert !== 'FleetBelowMinimum' && r.alert !== 'NetworkInDispute' && r.alert !== 'FleetBehindClock') {
        assert.ok(r.annotations.summary.includes('$labels.nickname') && r.annotations.summary.includes('$labels.peer_id'), `${r.alert}: the summary names the node`)
      }
    }
    const expr = (name: string): string => fleet.rules.find((r) => r.alert === name)?.expr ?? ''
    assert.match(expr('NodeLagging'), new RegExp(`heartbeat_node_lag > ${DEFAULT_MAX_LAG_BLOCKS}\\b`))
    assert.match(expr('HeadStuck'), new RegExp(`> ${DEFAULT_HEAD_STUCK_AFTER_MS / 1000}\\b`))
    // Every rule is annotated with the built-in it mirrors, or says it is not one.
    const text = readFileSync(join(DIR, RULES), 'utf8')
    for (const b of builtIns) assert.match(text, new RegExp(`# Built-in ${b.name} \\(`), `a comment names the built-in ${b.name}`)
    const watchdog = rules.find((r) => r.alert === 'Watchdog')
    assert.equal(watchdog?.expr, 'vector(1)')
    assert.equal(watchdog?.labels.severity, 'none')
    assert.ok(rules.some((r) => r.expr === 'up{job="heartbeat-aggregator"} == 0'), 'a rule on the aggregator\'s scrape')
  })
})
