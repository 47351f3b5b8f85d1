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
    write: (batch) => {
      const err = options.failWith?.()
      if (err !== undefined) throw err
      batches.push(structuredClone(batch))
    },
  })
  wb.start()
  return { time, batches, wb }
}

test('a thousand beats within one interval become one write, with each node once', () => {
  const { time, batches, wb } = setup()
  for (let i = 0; i < 1000; i++) {
    wb.markNode(`peer-${i % 10}`)
    if (i % 100 === 0) wb.addSample({ peerId: `peer-${i % 10}`, at: time.wall(), height: i, head: 'h' })
    if (i % 10 === 9) time.advance(9)
  }
  time.advance(99)
  assert.equal(batches.length, 0, 'nothing is written before the interval ends')
  time.advance(1)
  assert.equal(batches.length, 1)
  assert.equal(batches[0]?.nodes.length, 10)
  assert.deepEqual(new Set(batches[0]?.nodes), new Set(Array.from({ length: 10 }, (_, i) => `peer-${i}`)))
  assert.equal(batches[0]?.samples.length, 10)
  assert.deepEqual(wb.pending, { nodes: 0, samples: 0, transitions: 0 })
})

test('one write per interval while changes keep coming, none while idle', () => {
  const { time, batches, wb } = setup()
  for (let second = 0; second < 5; second++) {
    wb.markNode('a')
    wb.addTransition({ peerId: 'a', at: time.wall(), from: 'healthy', to: 'stale', reason: 'quiet' })
    time.advance(1000)
  }
  assert.equal(batches.length, 5)
  assert.ok(batches.every((b) => b.nodes.length === 1 && b.transitions.length === 1))
  time.advance(10_000)
  assert.equal(batches.length, 5, 'no empty writes')
  assert.equal(wb.stats.flushes, 5)
})

test('while idle, an empty write still marks the run alive every idleWriteMs', () => {
  const { time, batches } = setup({ idleWriteMs: 15_000 })
  time.advance(14_000)
  assert.equal(batches.length, 0)
  time.advance(1_000)
  assert.equal(batches.length, 1)
  assert.deepEqual(batches[0], { nodes: [], samples: [], transitions: [] })
  time.advance(15_000)
  assert.equal(batches.length, 2)
})

test('a failed write keeps the batch, in order, for the next interval', () => {
  let failing = true
  const { time, batches, wb } = setup({ failWith: () => failing ? new Error('disk full') : undefined })
  wb.markNode('a')
  wb.addTransition({ peerId: 'a', at: 1, from: null, to: 'healthy', reason: '' })
  time.advance(1000)
  assert.equal(batches.length, 0)
  assert.equal(wb.stats.failures, 1)
  assert.equal(wb.stats.lastError, 'disk full')
  wb.addTransition({ peerId: 'a', at: 2, from: 'healthy', to: 'down', reason: 'gone' })
  failing = false
  time.advance(1000)
  assert.equal(batches.length, 1)
  assert.deepEqual(batches[0]?.nodes, ['a'])
  assert.deepEqual(batches[0]?.transitions.map((t) => t.at), [1, 2])
  assert.equal(wb.stats.lastError, undefined)
})

test('while writes keep failing, memory stays bounded: samples go before status changes', () => {
  const { time, wb } = setup({ failWith: () => new Error('read-only'), maxPendingRows: 10 })
  for (let i = 0; i < 8; i++) wb.addSample({ peerId: 'a', at: i, height: i, head: 'h' })
  for (let i = 0; i < 6; i++) wb.addTransition({ peerId: 'a', at: i, from: null, to: 'healthy', reason: '' })
  time.advance(1000)
  assert.deepEqual(wb.pending, { nodes: 0, samples: 4, transitions: 6 })
  assert.equal(wb.stats.dropped, 4)
})

test('stop writes what is left and stops the timer', () => {
  const { time, batches, wb } = setup()
  wb.markNode('a')
  wb.stop()
  assert.equal(batches.length, 1)
  assert.equal(time.pendingTimers, 0)
})
