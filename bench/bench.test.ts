// The small version of every benchmark runs in npm test so the harness never rots.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BENCHMARKS } from './index.ts'
import { parseBenchArgs, printTable } from './harness.ts'

for (const bench of BENCHMARKS) {
  test(`benchmark ${bench.name} runs (quick)`, async () => {
    const result = await bench.run({ quick: true, log: () => {} })
    assert.equal(result.name, bench.name)
    assert.ok(result.rows.length > 0, 'it measured something')
    for (const row of result.rows) {
      for (const [key, value] of Object.entries(row)) {
        if (typeof value === 'number') assert.ok(Number.isFinite(value), `${bench.name}: ${key} is a real number`)
      }
    }
    assert.ok(printTable(result.rows).includes('|'))
  })
}

test('benchmark flags: --flag value, and --flag=value for a value that starts with dashes', () => {
  assert.deepEqual(parseBenchArgs(['fleet-size', '--agents', '1000', '--aggregator-node-options=--v8-pool-size=1', '--quick']),
    { names: ['fleet-size'], quick: true, flags: { agents: '1000', 'aggregator-node-options': '--v8-pool-size=1' } })
  assert.throws(() => parseBenchArgs(['fleet-size', '--agents', '--quick']), /--agents needs a value/)
})
