import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ChainMonitor } from '../../agent/chain-monitor.ts'
import type { ChainReading, ChainSource } from '../../agent/source.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'

/** A source whose next answer the test decides. */
class ScriptedSource implements ChainSource {
  readonly kind = 'scripted'
  next: () => Promise<ChainReading> = async () => { throw new Error('no answer scripted') }
  async read (): Promise<ChainReading> { return await this.next() }
}

const details = (m: ChainMonitor): Record<string, unknown> => m.snapshot().component.details as Record<string, unknown>

describe('ChainMonitor (the chain_source component)', () => {
  it('walks ready -> failing (last head kept, marked old) -> ready', async () => {
    let now = 1_000_000
    const source = new ScriptedSource()
    const monitor = new ChainMonitor(source, { timeoutMs: 1_000, now: () => now })
    assert.equal(monitor.snapshot().component.status, 'not_ready', 'no reading yet')
    assert.equal(monitor.snapshot().reading, undefined)

    source.next = async () => ({ head: 'h1', height: 10, network: 'n', details: { peers: 4 }, components: { sync: { status: 'ready' } } })
    await monitor.poll()
    assert.equal(monitor.snapshot().component.status, 'ready')
    assert.equal(details(monitor).peers, 4, "the source's details join chain_source's")
    assert.equal(details(monitor).height, 10)
    assert.deepEqual(monitor.snapshot().reading?.components, { sync: { status: 'ready' } })

    now += 7_000
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

    now += 3_000
    await monitor.poll()
    assert.equal(details(monitor).headAgeMs, 10_000, 'the age grows while failing')

    source.next = async () => ({ head: 'h2', height: 11 })
    await monitor.poll()
    assert.equal(monitor.snapshot().component.status, 'ready')
    assert.equal(monitor.snapshot().reading?.head, 'h2')
  })

  it('fails a source that answers late, even one that ignores its signal', async () => {
    const source = new ScriptedSource()
    source.next = async () => await new Promise(() => {}) // never answers, never aborts
    const monitor = new ChainMonitor(source, { timeoutMs: 100 })
    const started = Date.now()
    await monitor.poll()
    const took = Date.now() - started
    assert.ok(took >= 90 && took < 2_000, `poll ended after the timeout (${took} ms)`)
    assert.equal(monitor.snapshot().component.status, 'not_ready')
    assert.equal(details(monitor).code, ErrorCodes.TIMEOUT)
    assert.match(String(details(monitor).error), /did not answer within 100 ms/)
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
