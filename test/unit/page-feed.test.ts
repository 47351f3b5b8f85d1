import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { FleetFeed, type FeedEnvironment, type FeedHandlers, type FeedState } from '../../aggregator/web/src/feed.ts'
import { FEED_RESYNC_MIN_MS, FEED_SILENCE_MS } from '../../aggregator/web/src/constants.ts'
import { ROOT } from '../support/processes.ts'

/** An EventSource stand-in the test drives by hand. */
class FakeEventSource {
  readonly url: string
  closed = false
  private readonly listeners = new Map<string, Array<(event: unknown) => void>>()
  constructor (url: string) { this.url = url }
  addEventListener (name: string, fn: (event: unknown) => void): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), fn])
  }

  close (): void { this.closed = true }
  /** `id`: the SSE id EventSource reports as lastEventId (it keeps the last one given). */
  private lastEventId = ''
  emit (name: string, data?: unknown, id?: number): void {
    if (id !== undefined) this.lastEventId = String(id)
    for (const fn of this.listeners.get(name) ?? []) fn({ data: typeof data === 'string' ? data : JSON.stringify(data), lastEventId: this.lastEventId })
  }
}

/** A clock and timers the test advances. */
function fakeEnvironment (): FeedEnvironment & { sources: FakeEventSource[], advance (ms: number): void, pending (): number[] } {
  let now = 0
  let nextId = 1
  const timers = new Map<number, { at: number, fn: () => void }>()
  const sources: FakeEventSource[] = []
  return {
    sources,
    openEventSource: (url) => {
      const source = new FakeEventSource(url)
      sources.push(source)
      return source as unknown as EventSource
    },
    now: () => now,
    random: () => 0.5,
    setTimeout: (fn, ms) => {
      const id = nextId++
      timers.set(id, { at: now + ms, fn })
      return id
    },
    clearTimeout: (id) => { timers.delete(id) },
    advance (ms: number) {
      const end = now + ms
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
        if (due === undefined) break
        timers.delete(due[0])
        now = due[1].at
        due[1].fn()
      }
      now = end
    },
    pending: () => [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b),
  }
}

function recordingHandlers (): FeedHandlers & { log: string[], states: FeedState[], applies: boolean } {
  const log: string[] = []
  const states: FeedState[] = []
  return {
    log,
    states,
    /** What `delta` answers: whether the model could apply it. */
    applies: true,
    delta (delta) { log.push(`delta:${delta.nodes.length}+${delta.changes.length}`); return this.applies },
    snapshot: (doc) => { log.push(`snapshot:${doc.nodes.length}`) },
    node: (node) => { log.push(`node:${node.peerId}`) },
    status: (change) => { log.push(`status:${change.peerId}:${change.to}`) },
    remove: (peerId) => { log.push(`remove:${peerId}`) },
    summary: () => { log.push('summary') },
    alerts: (doc) => { log.push(`alerts:${doc.alerts.firing.length}`) },
    ping: (at) => { log.push(`ping:${at}`) },
    state: (state) => { states.push(state) },
  }
}

const SNAPSHOT = { aggregator: { peerId: 'agg', multiaddrs: [], version: '0', startedAt: '' }, generatedAt: '', summary: {}, nodes: [{ peerId: 'a' }] }

describe('live feed client', () => {
  it('hands each event to its handler and is live from the snapshot on', () => {
    const env = fakeEnvironment()
    const handlers = recordingHandlers()
    const feed = new FleetFeed(handlers, env, '/events')
    feed.start()
    const source = env.sources[0] as FakeEventSource
    assert.equal(source.url, '/events')
    assert.equal(handlers.states.at(-1)?.kind, 'connecting')
    source.emit('snapshot', SNAPSHOT)
    assert.equal(handlers.states.at(-1)?.kind, 'live')
    source.emit('node', { peerId: 'a' })
    source.emit('nodes', [{ peerId: 'b' }, { peerId: 'c' }])
    source.emit('status', { peerId: 'a', to: 'down' })
    source.emit('remove', { peerId: 'b' })
    source.emit('remove', { nope: 1 })
    source.emit('summary', {})
    source.emit('alerts', { alerts: { firing: [{ id: 'x' }], pending: 0 }, maintenance: { fleet: null, nodes: [] } })
    source.emit('alerts', 'null')
    source.emit('ping', { at: 'T' })
    source.emit('node', '{not json')
    assert.deepEqual(handlers.log, ['snapshot:1', 'node:a', 'node:b', 'node:c', 'status:a:down', 'remove:b', 'summary', 'alerts:1', 'ping:T'])
    feed.stop()
  })

  it('reconnects on error with growing waits, and resets once a snapshot arrives', () => {
    const env = fakeEnvironment()
    const handlers = recordingHandlers()
    const feed = new FleetFeed(handlers, env)
    feed.start()
    ;(env.sources[0] as FakeEventSource).emit('snapshot', SNAPSHOT)
    const waits: number[] = []
    for (let attempt = 0; attempt < 4; attempt++) {
      const source = env.sources.at(-1) as FakeEventSource
      source.emit('error')
      assert.equal(source.closed, true, 'EventSource\'s own retry is cut off')
      const state = handlers.states.at(-1)
      assert.equal(state?.kind, 'waiting')
      if (state?.kind !== 'waiting') return
      waits.push(state.retryAt - env.now())
      assert.equal(state.lostAt, 0, 'the loss time stays the first one')
      env.advance(state.retryAt - env.now())
      assert.equal(env.sources.length, attempt + 2, 'a new connection after the wait')
    }
    assert.deepEqual(waits, [500, 1000, 2000, 4000])
    // Back: the next loss starts the backoff from the beginning again.
    ;(env.sources.at(-1) as FakeEventSource).emit('snapshot', SNAPSHOT)
    ;(env.sources.at(-1) as FakeEventSource).emit('error')
    const state = handlers.states.at(-1)
    assert.equal(state?.kind === 'waiting' ? state.retryAt - env.now() : -1, 500)
    feed.stop()
    assert.deepEqual(env.pending(), [], 'stop leaves no timer behind')
  })

  it('treats a silent feed as lost, and "retry now" skips the wait', () => {
    const env = fakeEnvironment()
    const handlers = recordingHandlers()
    const feed = new FleetFeed(handlers, env)
    feed.start()
    const first = env.sources[0] as FakeEventSource
    first.emit('snapshot', SNAPSHOT)
    env.advance(FEED_SILENCE_MS - 1)
    first.emit('ping', { at: 'T' })
    env.advance(FEED_SILENCE_MS - 1)
    assert.equal(first.closed, false, 'each event re-arms the silence timer')
    env.advance(1)
    assert.equal(first.closed, true)
    assert.equal(handlers.states.at(-1)?.kind, 'waiting')
    feed.retryNow()
    assert.equal(env.sources.length, 2)
    // Events from the old connection no longer count.
    first.emit('node', { peerId: 'late' })
    assert.equal(handlers.log.includes('node:late'), false)
    feed.stop()
  })
})

describe('live feed deltas', () => {
  const DELTA = { nodes: [], changes: [{ peerId: 'a', height: 5 }] }

  it('applies deltas that follow each other, numbered from the snapshot on', () => {
    const env = fakeEnvironment()
    const handlers = recordingHandlers()
    const feed = new FleetFeed(handlers, env)
    feed.start()
    const source = env.sources[0] as FakeEventSource
    source.emit('snapshot', SNAPSHOT, 41)
    source.emit('delta', DELTA, 42)
    source.emit('remove', { peerId: 'b' })
    source.emit('delta', { nodes: [{ peerId: 'c' }], changes: [] }, 43)
    assert.deepEqual(handlers.log, ['snapshot:1', 'delta:0+1', 'remove:b', 'delta:1+0'])
    assert.equal(env.sources.length, 1, 'no reconnect')
    feed.stop()
  })

  it('resyncs on a gap: a fresh connection at once, and with backoff when it happens again soon', () => {
    const env = fakeEnvironment()
    const handlers = recordingHandlers()
    const feed = new FleetFeed(handlers, env)
    feed.start()
    const first = env.sources[0] as FakeEventSource
    first.emit('snapshot', SNAPSHOT, 7)
    first.emit('delta', DELTA, 9)
    assert.equal(first.closed, true, 'a lost event: the copy is out of step')
    assert.equal(handlers.log.includes('delta:0+1'), false, 'the delta after the gap is not applied')
    assert.equal(env.sources.length, 2, 'reconnected at once')
    assert.equal(handlers.states.at(-1)?.kind, 'connecting')
    const second = env.sources[1] as FakeEventSource
    second.emit('snapshot', SNAPSHOT, 100)
    second.emit('delta', DELTA, 101)
    assert.equal(second.closed, false)
    // Within FEED_RESYNC_MIN_MS of the first resync: back off as for a lost connection.
    env.advance(FEED_RESYNC_MIN_MS - 1)
    second.emit('delta', DELTA, 105)
    assert.equal(second.closed, true)
    const state = handlers.states.at(-1)
    assert.equal(state?.kind, 'waiting')
    env.advance(state?.kind === 'waiting' ? state.retryAt - env.now() : 0)
    assert.equal(env.sources.length, 3)
    feed.stop()
  })

  it('resyncs when the model cannot apply a delta (a change for a node it never had)', () => {
    const env = fakeEnvironment()
    const handlers = recordingHandlers()
    const feed = new FleetFeed(handlers, env)
    feed.start()
    ;(env.sources[0] as FakeEventSource).emit('snapshot', SNAPSHOT, 1)
    handlers.applies = false
    ;(env.sources[0] as FakeEventSource).emit('delta', DELTA, 2)
    assert.equal((env.sources[0] as FakeEventSource).closed, true)
    assert.equal(env.sources.length, 2)
    feed.stop()
  })
})

describe('page sources', () => {
  it('never put text into the page as HTML', () => {
    const dir = join(ROOT, 'aggregator', 'web', 'src')
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8')
      assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|\beval\(|new Function\(/, `${file} must build DOM with textContent only`)
    }
  })
})
