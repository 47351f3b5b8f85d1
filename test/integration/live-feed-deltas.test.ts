// The live feed's deltas through real HTTP, on a clock the test drives: a
// client that applies its snapshot and then every delta holds exactly what
// GET /api/v1/fleet holds, whenever it connected; ids follow each other; a
// new node comes whole and a removed one as `remove`.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { FleetState } from '../../aggregator/fleet/fleet-state.ts'
import { serveEvents } from '../../aggregator/http/events.ts'
import { FleetDocuments } from '../../aggregator/http/fleet-documents.ts'
import { FleetViewCache } from '../../aggregator/http/fleet-view-cache.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { heartbeat } from '../support/heartbeats.ts'
import { instantOf } from '../../shared/clock.ts'
import { ManualClock } from '../support/manual-clock.ts'

const FLUSH_MS = 20

/** One feed client: parses events as they come and keeps the fleet they describe. */
class Follower {
  readonly nodes = new Map<string, Record<string, unknown>>()
  readonly ids: number[] = []
  readonly events: string[] = []
  /** Whole views that came in `nodes` of a delta, and partial changes, counted. */
  whole = 0
  partial = 0
  private readonly controller = new AbortController()
  private waiters: Array<{ test: () => boolean, resolve: () => void }> = []
  readonly done: Promise<void>

  constructor (url: string) {
    this.done = this.read(url)
  }

  /** Resolves once `test` holds (checked after every event). */
  async until (test: () => boolean): Promise<void> {
    if (test()) return
    await new Promise<void>((resolve) => { this.waiters.push({ test, resolve }) })
  }

  close (): void { this.controller.abort() }

  private async read (url: string): Promise<void> {
    const response = await fetch(url, { signal: this.controller.signal })
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.take(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
        }
        this.waiters = this.waiters.filter((w) => { if (!w.test()) return true; w.resolve(); return false })
      }
    } catch { /* closed */ }
  }

  private take (block: string): void {
    const event = /^event: (.*)$/m.exec(block)?.[1]
    const data = /^data: (.*)$/m.exec(block)?.[1]
    const id = /^id: (.*)$/m.exec(block)?.[1]
    if (event === undefined || data === undefined) return
    this.events.push(event)
    if (id !== undefined) this.ids.push(Number(id))
    const payload = JSON.parse(data)
    if (event === 'snapshot') {
      this.nodes.clear()
      for (const node of payload.nodes) this.nodes.set(node.peerId, node)
    } else if (event === 'delta') {
      for (const node of payload.nodes) { this.nodes.set(node.peerId, node); this.whole++ }
      for (const change of payload.changes) {
        const old = this.nodes.get(change.peerId)
        assert.ok(old !== undefined, `a change for ${change.peerId}, which this client never had`)
        this.nodes.set(change.peerId, { ...old, ...change })
        this.partial++
      }
    } else if (event === 'remove') {
      this.nodes.delete(payload.peerId)
    }
  }
}

describe('live feed deltas', () => {
  const clock = new ManualClock({ wallStart: Date.now() })
  let fleet: FleetState
  let cache: FleetViewCache
  let documents: FleetDocuments
  let app: FastifyInstance
  let url: string
  const followers: Follower[] = []
  const follow = (): Follower => { const f = new Follower(`${url}?delta=1`); followers.push(f); return f }
  const put = (peerId: string, hb: Partial<Heartbeat> = {}): void => {
    fleet.apply({ type: 'beat', peerId, heartbeat: heartbeat({ nickname: peerId, period: 60_000, sentAt: clock.wall(), ...hb }), protocol: 'v2' }, instantOf(clock))
  }
  /** What GET /api/v1/fleet would say now, with the views the feed has sent. */
  const current = (): Map<string, unknown> => new Map(JSON.parse(documents.snapshot(false, cache.generation).bytes.toString()).nodes.map((n: { peerId: string }) => [n.peerId, n]))
  const same = (follower: Follower): boolean => {
    const now = current()
    return now.size === follower.nodes.size && [...now].every(([peerId, node]) => JSON.stringify(node) === JSON.stringify(follower.nodes.get(peerId)))
  }

  before(async () => {
    fleet = new FleetState()
    cache = new FleetViewCache({ fleet, decorate: (view) => view, clock })
    documents = new FleetDocuments({ cache, fleet, clock, info: () => ({ peerId: 'agg', multiaddrs: [], version: 'test', startedAt: new Date(0).toISOString() }), fields: () => ({}) })
    app = Fastify()
    app.get('/events', serveEvents({ fleet, cache, documents }, { flushMs: FLUSH_MS, pingMs: 60_000, summaryMs: 60_000, clock }))
    url = `${await app.listen({ host: '127.0.0.1', port: 0 })}/events`
  })
  after(async () => {
    for (const f of followers) f.close()
    await Promise.all(followers.map(async (f) => { await f.done }))
    await app.close()
    cache.close()
  })

  it('sends only what changed, and a client that applies it holds the fleet, whenever it joined', async () => {
    for (let i = 0; i < 20; i++) put(`n${i}`, { height: 100, seq: 1 })
    const early = follow()
    await early.until(() => early.events.includes('snapshot'))
    assert.equal(early.ids[0], 0, 'the snapshot says which delta it holds')
    assert.equal(early.nodes.size, 20)

    // Rounds of changes, one flush each: beats that move height (and every lag with it), a node that turns
    // unhealthy and back within one flush, a newcomer, a removal, a rename that makes a duplicate nickname.
    let late: Follower | undefined
    for (let round = 1; round <= 6; round++) {
      for (let i = round % 3; i < 20; i += 3) if (fleet.get(`n${i}`) !== undefined) put(`n${i}`, { height: 100 + round, seq: 1 + round })
      if (round === 2) {
        put('n1', { health: { status: 'not_ready', components: { sync: { status: 'not_ready' } } }, seq: 50 })
        documents.fleet(false) // a GET between the two: its snapshot would hold `unhealthy`
        put('n1', { seq: 51 })
      }
      if (round === 3) put('newcomer', { height: 103, seq: 1 })
      if (round === 4) fleet.remove('n5')
      if (round === 5) put('n7', { nickname: 'n8', seq: 60 })
      if (round === 3) {
        // A second client in the middle of it all.
        late = follow()
        await late.until(() => late!.events.includes('snapshot'))
      }
      clock.advance(FLUSH_MS)
      await early.until(() => same(early))
      if (late !== undefined) await late.until(() => same(late!))
    }
    assert.ok(late !== undefined)

    // Ids follow each other from each client's snapshot on.
    for (const follower of [early, late]) {
      for (let i = 1; i < follower.ids.length; i++) assert.equal(follower.ids[i], (follower.ids[i - 1] as number) + 1, `ids ${follower.ids.join(',')}`)
    }
    assert.ok(late.ids[0]! >= 2, 'the late snapshot holds the deltas sent before it')
    assert.ok(early.events.includes('remove'))
    assert.equal(early.nodes.get('n8')?.duplicateNickname, true)
    assert.equal(early.nodes.get('n7')?.duplicateNickname, true)
    assert.ok(early.whole >= 1, 'the newcomer came whole')
    assert.ok(early.partial > early.whole, 'the rest came as changes')
  })

  it('keeps a delta small: the fields a beat changed, not the view', async () => {
    put('solo', { height: 500, seq: 1 })
    const response = await fetch(`${url}?delta=1`)
    const reader = response.body!.getReader()
    try {
      const decoder = new TextDecoder()
      let text = ''
      /** The data of the next delta event. */
      const nextDelta = async (): Promise<any> => {
        let match: RegExpExecArray | null
        while ((match = /event: delta\nid: \d+\ndata: (.*)\n\n/.exec(text)) === null) text += decoder.decode((await reader.read()).value, { stream: true })
        text = text.slice(match.index + match[0].length)
        return JSON.parse(match[1] as string)
      }
      while (!text.includes('event: snapshot')) text += decoder.decode((await reader.read()).value, { stream: true })
      // Whatever the snapshot's build brought goes out first (the feed was already watching for the other clients).
      clock.advance(FLUSH_MS)
      put('solo', { height: 500, seq: 2, minerAddress: 'f0777' })
      clock.advance(FLUSH_MS)
      let change: Record<string, unknown> | undefined
      while (change === undefined) change = (await nextDelta()).changes.find((c: { peerId: string }) => c.peerId === 'solo')
      // What the beat changed, and how long the head has been unchanged (the view is as of its rebuild).
      assert.deepEqual(Object.keys(change).sort(), ['beats', 'headUnchangedForMs', 'lastSeen', 'minerAddress', 'peerId', 'seq'])
    } finally {
      await reader.cancel()
    }
  })
})
