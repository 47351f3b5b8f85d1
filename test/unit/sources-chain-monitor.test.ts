import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ChainMonitor } from '../../agent/chain-monitor.ts'
import type { ChainReading, ChainSource } from '../../agent/source.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { ManualClock } from '../support/manual-clock.ts'

/** A source whose next answer the test decides. */
class ScriptedSource implements ChainSource {
  readonly kind = 'scripted'
  next: () => Promise<ChainReading> = async () => { throw new Error('no answer scripted') }
  async read (): Promise<ChainReading> { return await this.next() }
}

const details = (m: ChainMonitor): Record<string, unknown> => m.snapshot().component.details as Record<string, unknown>

describe('ChainMonitor (the chain_source component)', () => {
  it('walks ready -> failing (last head kept, marked old) -> ready', async () => {
    const clock = new ManualClock({ wallStart: 1_700_000_000_000 })
    const source = new ScriptedSource()
    const monitor = new ChainMonitor(source, { timeoutMs: 1_000, clock })
    assert.equal(monitor.snapshot().component.status, 'not_ready', 'no reading yet')
    assert.equal(monitor.snapshot().reading, undefined)

    source.next = async () => ({ head: 'h1', height: 10, network: 'n', details: { peers: 4 }, components: { sync: { status: 'ready' } } })
    await monitor.poll()
    assert.equal(monitor.snapshot().component.status, 'ready')
    assert.equal(details(monitor).peers, 4, "the source's details join chain_source's")
    assert.equal(details(monitor).height, 10)
    assert.deepEqual(monitor.snapshot().reading?.components, { sync: { status: 'ready' } })

    clock.advance(7_000)
    // The age of the head is an interval: a step of the wall clock does not change it.
    clock.stepWall(-600_000)
    source.next = async () => { throw new HeartbeatError(ErrorCodes.SOURCE_FAILED, 'connect ECONNREFUSED') }
    await monitor.poll()
    const snap = monitor.snapshot()
    assert.equal(snap.component.status, 'not_ready')
    assert.equal(snap.reading?.head, 'h1', 'the last known head stays')
    assert.equal(snap.reading?.height, 10)
    assert.equal(snap.reading?.components, undefined, "a dead node's components are not reported as current")
    assert.equal(details(monitor).error, 'connect ECONNREFUSED')
    assert.equal(details(monitor).code, ErrorCodes.SOURCE_FAILED)
    assert.equal(details(monitor).headAgeMs, 7_000)
    assert.equal(details(monitor).lastHeight, 10)

    clock.advance(3_000)
    await monitor.poll()
    assert.equal(details(monitor).headAgeMs, 10_000, 'the age grows while failing')

    source.next = async () => ({ head: 'h2', height: 11 })
    await monitor.poll()
    assert.equal(monitor.snapshot().component.status, 'ready')
    assert.equal(monitor.snapshot().reading?.head, 'h2')
  })

  it('fails a source that answers late, even one that ignores its signal, exactly at its deadline', async () => {
    const clock = new ManualClock()
    const source = new ScriptedSource()
    source.next = async () => await new Promise(() => {}) // never answers, never aborts
    const monitor = new ChainMonitor(source, { timeoutMs: 100, clock })
    let done = false
    const poll = monitor.poll().then(() => { done = true })
    await clock.advanceAsync(99)
    assert.equal(done, false, 'still waiting 1 ms before the deadline')
    await clock.advanceAsync(1)
    await poll
    assert.equal(monitor.snapshot().component.status, 'not_ready')
    assert.equal(details(monitor).code, ErrorCodes.TIMEOUT)
    assert.match(String(details(monitor).error), /did not answer within 100 ms/)
    assert.equal(clock.pendingTimers, 0, 'the deadline timer is gone')
  })

  it('does not count an abort by the agent (stopping) as a node failure', async () => {
    const source = new ScriptedSource()
    source.next = async () => ({ head: 'h', height: 1 })
    const monitor = new ChainMonitor(source, { timeoutMs: 1_000 })
    await monitor.poll()
    source.next = async () => await new Promise(() => {})
    const stopping = new AbortController()
    const poll = monitor.poll(stopping.signal)
    stopping.abort()
    await poll
    assert.equal(monitor.snapshot().component.status, 'ready')
  })
})
