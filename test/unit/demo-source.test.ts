import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DemoChainSource } from '../../agent/sources/demo.ts'

test('the demo chain advances one height per block time and agents sharing an origin agree', async () => {
  let now = 1_000_000
  const a = new DemoChainSource({ blockTimeMs: 1000, originMs: 0, now: () => now })
  const b = new DemoChainSource({ blockTimeMs: 1000, originMs: 0, now: () => now })
  const first = await a.read()
  assert.equal(first.height, 1000)
  assert.deepEqual(await b.read(), first)
  now += 999
  assert.equal((await a.read()).height, 1000)
  now += 1
  const next = await a.read()
  assert.equal(next.height, 1001)
  assert.notEqual(next.head, first.head)
  assert.match(next.head, /^\{bafy[a-z0-9]+\}$/)
  assert.equal(next.network, 'demo')
})
