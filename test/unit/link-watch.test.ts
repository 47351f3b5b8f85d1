import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LinkPingTimeoutError, watchLink, type PingableLink } from '../../agent/link-watch.ts'
import { ErrorCodes } from '../../shared/errors.ts'
import { ManualClock } from '../support/manual-clock.ts'

const INTERVAL = 10_000
const TIMEOUT = 4_000

/** A link whose remote answers each ping at once, or never (`silent`), honouring the ping's signal as yamux does. */
class FakeLink implements PingableLink {
  status = 'open'
  silent = false
  failWith: Error | undefined
  pings: number[] = []
  aborted: Error[] = []
  private readonly clock: ManualClock
  constructor (clock: ManualClock) { this.clock = clock }

  async ping (options: { signal: AbortSignal }): Promise<number> {
    this.pings.push(this.clock.monotonic())
    if (this.failWith !== undefined) throw this.failWith
    if (!this.silent) return 1
    return await new Promise<number>((_resolve, reject) => {
      options.signal.addEventListener('abort', () => { reject(options.signal.reason) }, { once: true })
    })
  }

  abort (err: Error): void {
    this.aborted.push(err)
    this.status = 'closed'
  }
}

function setUp (): { clock: ManualClock, link: FakeLink, start: number } {
  const clock = new ManualClock()
  const link = new FakeLink(clock)
  return { clock, link, start: clock.monotonic() }
}

describe('link watch (the agent\'s yamux ping with a deadline)', () => {
  it('pings once per interval while the remote answers, and never ends the link', async () => {
    const { clock, link, start } = setUp()
    watchLink(link, { clock, intervalMs: INTERVAL, timeoutMs: TIMEOUT })
    await clock.advanceAsync(INTERVAL - 1)
    assert.equal(link.pings.length, 0, 'the first ping waits one interval')
    await clock.advanceAsync(5 * INTERVAL)
    assert.deepEqual(link.pings, [1, 2, 3, 4, 5].map((k) => start + k * INTERVAL))
    assert.deepEqual(link.aborted, [])
  })

  it('ends the link with a TimeoutError exactly when an answer is overdue', async () => {
    const { clock, link, start } = setUp()
    watchLink(link, { clock, intervalMs: INTERVAL, timeoutMs: TIMEOUT })
    await clock.advanceAsync(INTERVAL)
    link.silent = true
    await clock.advanceAsync(INTERVAL)
    assert.deepEqual(link.pings, [start + INTERVAL, start + 2 * INTERVAL])
    await clock.advanceAsync(TIMEOUT - 1)
    assert.deepEqual(link.aborted, [], 'not before the timeout')
    await clock.advanceAsync(1)
    assert.equal(link.aborted.length, 1)
    const err = (link.aborted as Error[])[0]
    assert.ok(err instanceof LinkPingTimeoutError)
    assert.equal(err.name, 'TimeoutError', 'described as silence by agent/dial-errors.ts')
    assert.equal((err as LinkPingTimeoutError).code, ErrorCodes.TIMEOUT)
    assert.equal((err as LinkPingTimeoutError).timeoutMs, TIMEOUT)
    await clock.advanceAsync(5 * INTERVAL)
    assert.equal(link.pings.length, 2, 'an ended link is not pinged again')
    assert.equal(clock.pendingTimers, 0)
  })

  it('stops without ending anything once the link closes, or a ping fails for another reason', async () => {
    const closed = setUp()
    watchLink(closed.link, { clock: closed.clock, intervalMs: INTERVAL, timeoutMs: TIMEOUT })
    await closed.clock.advanceAsync(INTERVAL)
    closed.link.status = 'closed'
    await closed.clock.advanceAsync(3 * INTERVAL)
    assert.equal(closed.link.pings.length, 1)
    assert.equal(closed.clock.pendingTimers, 0)

    const failing = setUp()
    failing.link.failWith = new Error('Muxer closed remotely')
    watchLink(failing.link, { clock: failing.clock, intervalMs: INTERVAL, timeoutMs: TIMEOUT })
    await failing.clock.advanceAsync(3 * INTERVAL)
    assert.equal(failing.link.pings.length, 1)
    assert.deepEqual(failing.link.aborted, [])
    assert.equal(failing.clock.pendingTimers, 0)
  })

  it('cancel stops it between pings and while one is outstanding', async () => {
    const idle = setUp()
    const timer = watchLink(idle.link, { clock: idle.clock, intervalMs: INTERVAL, timeoutMs: TIMEOUT })
    timer.cancel()
    await idle.clock.advanceAsync(3 * INTERVAL)
    assert.equal(idle.link.pings.length, 0)

    const waiting = setUp()
    waiting.link.silent = true
    const watch = watchLink(waiting.link, { clock: waiting.clock, intervalMs: INTERVAL, timeoutMs: TIMEOUT })
    await waiting.clock.advanceAsync(INTERVAL)
    watch.cancel()
    await waiting.clock.advanceAsync(TIMEOUT + 3 * INTERVAL)
    assert.deepEqual(waiting.link.aborted, [], 'a cancelled watch ends nothing')
    assert.equal(waiting.link.pings.length, 1)
  })
})
