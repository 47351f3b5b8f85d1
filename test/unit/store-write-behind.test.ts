import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WriteBehind, type PendingBatch } from '../../aggregator/store/write-behind.ts'
import { ManualClock } from '../support/manual-clock.ts'

function setup (options: { failWith?: () => Error | undefined, maxPendingRows?: number, idleWriteMs?: number } = {}): { time: ManualClock, batches: PendingBatch[], wb: WriteBehind } {
  const time = new ManualClock()
  const batches: PendingBatch[] = []
  const wb = new WriteBehind({
    intervalMs: 1000,
    clock: time,
    maxPendingRows: options.maxPendingRows,
    idleWriteMs: options.idleWriteMs,
    // No jitter: the retry delays are the policy's ceilings.
    random: () => 0,
    retry: { initialMs: 1000, base: 2, capMs: 8000, jitter: { kind: 'down', share: 0 } },
    write: async (batch) => {
      const err = options.failWith?.()
      if (err !== undefined) throw err
      batches.push(structuredClone(batch))
    },
  })
  wb.start()
  return { time, batches, wb }
}

/** Moves the clock and lets the write its timer started finish. */
async function advance (time: ManualClock, wb: WriteBehind, ms: number): Promise<void> {
  time.advance(ms)
  await wb.idle()
}

test('a thousand beats within one interval become one write, with each node once', async () => {
  const { time, batches, wb } = setup()
  for (let i = 0; i < 1000; i++) {
    wb.markNode(`peer-${i % 10}`)
    if (i % 100 === 0) wb.addSample({ peerId: `peer-${i % 10}`, at: time.wall(), height: i, head: 'h' })
    if (i % 10 === 9) await advance(time, wb, 9)
  }
  await advance(time, wb, 99)
  assert.equal(batches.length, 0, 'nothing is written before the interval ends')
  await advance(time, wb, 1)
  assert.equal(batches.length, 1)
  assert.equal(batches[0]?.nodes.length, 10)
  assert.deepEqual(new Set(batches[0]?.nodes), new Set(Array.from({ length: 10 }, (_, i) => `peer-${i}`)))
  assert.equal(batches[0]?.samples.length, 10)
  assert.deepEqual(wb.pending, { nodes: 0, samples: 0, transitions: 0 })
})

test('one write per interval while changes keep coming, none while idle', async () => {
  const { time, batches, wb } = setup()
  for (let second = 0; second < 5; second++) {
    wb.markNode('a')
    wb.addTransition({ peerId: 'a', at: time.wall(), from: 'healthy', to: 'stale', reason: 'quiet' })
    await advance(time, wb, 1000)
  }
  assert.equal(batches.length, 5)
  assert.ok(batches.every((b) => b.nodes.length === 1 && b.transitions.length === 1))
  for (let s = 0; s < 10; s++) await advance(time, wb, 1000)
  assert.equal(batches.length, 5, 'no empty writes')
  assert.equal(wb.stats.flushes, 5)
})

test('while idle, an empty write still marks the run alive every idleWriteMs', async () => {
  const { time, batches, wb } = setup({ idleWriteMs: 15_000 })
  for (let s = 0; s < 14; s++) await advance(time, wb, 1000)
  assert.equal(batches.length, 0)
  await advance(time, wb, 1_000)
  assert.equal(batches.length, 1)
  assert.deepEqual(batches[0], { nodes: [], samples: [], transitions: [] })
  for (let s = 0; s < 15; s++) await advance(time, wb, 1000)
  assert.equal(batches.length, 2)
})

test('a failed write keeps the batch, in order, and is tried again after a growing backoff', async () => {
  let failing = true
  const { time, batches, wb } = setup({ failWith: () => failing ? new Error('disk full') : undefined })
  wb.markNode('a')
  wb.addTransition({ peerId: 'a', at: 1, from: null, to: 'healthy', reason: '' })
  await advance(time, wb, 1000)
  assert.equal(batches.length, 0)
  assert.equal(wb.stats.failures, 1)
  assert.equal(wb.stats.lastError, 'disk full')
  assert.ok(wb.waiting.failingSince !== undefined)
  // Backoff: 1 s after the first failure, 2 s after the second, 4 s after the third.
  await advance(time, wb, 1000)
  assert.equal(wb.stats.failures, 2)
  await advance(time, wb, 1000)
  assert.equal(wb.stats.failures, 2, 'waiting out the 2 s backoff')
  await advance(time, wb, 1000)
  assert.equal(wb.stats.failures, 3)
  for (let s = 0; s < 3; s++) await advance(time, wb, 1000)
  assert.equal(wb.stats.failures, 3, 'waiting out the 4 s backoff')
  wb.addTransition({ peerId: 'a', at: 2, from: 'healthy', to: 'down', reason: 'gone' })
  failing = false
  await advance(time, wb, 1000)
  assert.equal(batches.length, 1)
  assert.deepEqual(batches[0]?.nodes, ['a'])
  assert.deepEqual(batches[0]?.transitions.map((t) => t.at), [1, 2])
  assert.equal(wb.stats.lastError, undefined)
  assert.equal(wb.stats.consecutiveFailures, 0)
  assert.equal(wb.waiting.failingSince, undefined)
})

test('while writes keep failing, memory stays bounded and the bound is counted: samples go before status changes', async () => {
  const { time, wb } = setup({ failWith: () => new Error('read-only'), maxPendingRows: 10 })
  for (let i = 0; i < 8; i++) wb.addSample({ peerId: 'a', at: i, height: i, head: 'h' })
  for (let i = 0; i < 6; i++) wb.addTransition({ peerId: 'a', at: i, from: null, to: 'healthy', reason: '' })
  await advance(time, wb, 1000)
  assert.deepEqual(wb.pending, { nodes: 0, samples: 4, transitions: 6 })
  assert.equal(wb.stats.dropped, 4)
})

test('an explicit flush waits for the running write and then writes what came since', async () => {
  let release: (() => void) | undefined
  const time = new ManualClock()
  const batches: PendingBatch[] = []
  const wb = new WriteBehind({
    intervalMs: 1000,
    clock: time,
    write: async (batch) => {
      if (batches.length === 0) await new Promise<void>((resolve) => { release = resolve })
      batches.push(structuredClone(batch))
    },
  })
  wb.start()
  wb.markNode('a')
  time.advance(1000)
  assert.ok(wb.waiting.writingSince !== undefined, 'the timed write is running')
  wb.markNode('b')
  const flushed = wb.flush()
  release?.()
  assert.equal(await flushed, true)
  assert.deepEqual(batches.map((b) => b.nodes), [['a'], ['b']])
})

test('stop writes what is left and stops the timer', async () => {
  const { time, batches, wb } = setup()
  wb.markNode('a')
  await wb.stop()
  assert.equal(batches.length, 1)
  assert.equal(time.pendingTimers, 0)
})
