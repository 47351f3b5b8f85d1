// The live feed: GET /api/v1/events (server-sent events). EventSource retries
// on its own at a fixed pace and never notices a feed that went quiet, so
// this closes it on any error or long silence and reconnects with backoff.
// Every connection starts with a `snapshot`, so a reconnect re-fetches the
// whole fleet state and nothing missed while away lingers. Node changes come
// as `delta` events (only the fields that changed), numbered by their SSE
// ids: one that does not follow the last (a lost event) or that the model
// cannot apply (a node it never had) means the page's copy is no longer the
// aggregator's, and a fresh connection brings a fresh snapshot.
import { reconnectDelay } from './backoff.ts'
import { EVENTS_URL, FEED_RESYNC_MIN_MS, FEED_SILENCE_MS } from './constants.ts'
import type { AlertsEvent, DeltaEvent, FleetDocument, PageNode, PageSummary, StatusChangeEvent } from './types.ts'

export type FeedState =
  | { kind: 'connecting', attempt: number }
  | { kind: 'live', since: number }
  | { kind: 'waiting', attempt: number, retryAt: number, lostAt: number }

export interface FeedHandlers {
  snapshot (doc: FleetDocument): void
  node (node: PageNode): void
  /** Node changes of one flush; false when they could not all be applied (the feed then resyncs). */
  delta (delta: DeltaEvent): boolean
  status (change: StatusChangeEvent): void
  remove (peerId: string): void
  summary (summary: PageSummary): void
  /** Firing alerts and maintenance changed (the snapshot's `alerts` and `maintenance` fields, again). */
  alerts (doc: AlertsEvent): void
  ping (serverTime: string): void
  state (state: FeedState): void
}

/** What the feed needs from its environment; tests pass fakes. */
export interface FeedEnvironment {
  openEventSource (url: string): EventSource
  now (): number
  random (): number
  setTimeout (fn: () => void, ms: number): number
  clearTimeout (id: number): void
}

export const browserEnvironment: FeedEnvironment = {
  openEventSource: (url) => new EventSource(url),
  now: () => Date.now(),
  random: () => Math.random(),
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: (id) => { window.clearTimeout(id) },
}

const EVENT_NAMES = ['snapshot', 'node', 'nodes', 'delta', 'status', 'remove', 'summary', 'alerts', 'ping'] as const

export class FleetFeed {
  private readonly handlers: FeedHandlers
  private readonly env: FeedEnvironment
  private readonly url: string
  private source: EventSource | undefined
  private attempt = 0
  private retryTimer: number | undefined
  private silenceTimer: number | undefined
  private lostAt: number | undefined
  private stopped = true
  /** The id of the last `delta` (or of the snapshot: the last delta it holds); undefined when the aggregator numbers none. */
  private lastDeltaId: number | undefined
  /** When the feed last reconnected for a gap: a second gap soon after backs off as a lost connection does. */
  private resyncedAt: number | undefined

  constructor (handlers: FeedHandlers, env: FeedEnvironment = browserEnvironment, url: string = EVENTS_URL) {
    this.handlers = handlers
    this.env = env
    this.url = url
  }

  start (): void {
    this.stopped = false
    this.connect()
  }

  stop (): void {
    this.stopped = true
    this.closeSource()
    if (this.retryTimer !== undefined) this.env.clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  /** Skips the rest of the backoff wait (the banner's "Retry now"). */
  retryNow (): void {
    if (this.stopped || this.source !== undefined) return
    if (this.retryTimer !== undefined) this.env.clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.connect()
  }

  /** A fresh connection now (signing in or out changes what the feed may carry; its snapshot replaces everything). */
  restart (): void {
    if (this.stopped) return
    if (this.retryTimer !== undefined) this.env.clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.attempt = 0
    this.connect()
  }

  private connect (): void {
    this.closeSource()
    this.handlers.state({ kind: 'connecting', attempt: this.attempt })
    const source = this.env.openEventSource(this.url)
    this.source = source
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (event) => {
        if (this.source !== source) return
        const message = event as MessageEvent<string>
        this.onMessage(name, message.data, message.lastEventId)
      })
    }
    // Any error (refused, dropped, a non-200 answer): close and back off ourselves.
    source.addEventListener('error', () => {
      if (this.source === source) this.lose()
    })
    this.armSilenceTimer()
  }

  private onMessage (name: typeof EVENT_NAMES[number], data: string, lastEventId: string | undefined): void {
    // For whoever measures the page (the scale test): when the fleet arrived, before the page worked on it.
    if (name === 'snapshot') performance.mark('fleet-snapshot-received')
    this.armSilenceTimer()
    let payload: unknown
    try {
      payload = JSON.parse(data)
    } catch {
      return // A frame the page cannot read changes nothing.
    }
    switch (name) {
      case 'snapshot':
        this.attempt = 0
        this.lostAt = undefined
        this.lastDeltaId = eventId(lastEventId)
        this.handlers.snapshot(payload as FleetDocument)
        this.handlers.state({ kind: 'live', since: this.env.now() })
        break
      case 'delta': {
        const id = eventId(lastEventId)
        const follows = this.lastDeltaId === undefined || id === undefined || id === this.lastDeltaId + 1
        this.lastDeltaId = id
        if (!follows || typeof payload !== 'object' || payload === null || !this.handlers.delta(payload as DeltaEvent)) this.resync()
        break
      }
      case 'node':
        this.handlers.node(payload as PageNode)
        break
      case 'nodes':
        if (Array.isArray(payload)) for (const node of payload) this.handlers.node(node as PageNode)
        break
      case 'status':
        this.handlers.status(payload as StatusChangeEvent)
        break
      case 'remove': {
        const peerId = (payload as { peerId?: unknown } | null)?.peerId
        if (typeof peerId === 'string') this.handlers.remove(peerId)
        break
      }
      case 'summary':
        this.handlers.summary(payload as PageSummary)
        break
      case 'alerts':
        if (typeof payload === 'object' && payload !== null) this.handlers.alerts(payload as AlertsEvent)
        break
      case 'ping': {
        const at = (payload as { at?: unknown } | null)?.at
        if (typeof at === 'string') this.handlers.ping(at)
        break
      }
    }
  }

  /** The page's copy went out of step: a fresh connection (and snapshot) now, or after a backoff if that happened just before. */
  private resync (): void {
    const now = this.env.now()
    const again = this.resyncedAt !== undefined && now - this.resyncedAt < FEED_RESYNC_MIN_MS
    this.resyncedAt = now
    if (again) this.lose()
    else this.connect()
  }

  private lose (): void {
    this.closeSource()
    if (this.stopped) return
    this.lostAt ??= this.env.now()
    const delay = reconnectDelay(this.attempt, this.env.random)
    const attempt = this.attempt
    this.attempt++
    this.handlers.state({ kind: 'waiting', attempt, retryAt: this.env.now() + delay, lostAt: this.lostAt })
    this.retryTimer = this.env.setTimeout(() => {
      this.retryTimer = undefined
      this.connect()
    }, delay)
  }

  private armSilenceTimer (): void {
    if (this.silenceTimer !== undefined) this.env.clearTimeout(this.silenceTimer)
    this.silenceTimer = this.env.setTimeout(() => {
      this.silenceTimer = undefined
      if (this.source !== undefined) this.lose()
    }, FEED_SILENCE_MS)
  }

  private closeSource (): void {
    this.lastDeltaId = undefined
    if (this.silenceTimer !== undefined) this.env.clearTimeout(this.silenceTimer)
    this.silenceTimer = undefined
    this.source?.close()
    this.source = undefined
  }
}

/** An SSE id as a number; undefined when there is none. */
function eventId (text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,15}$/.test(text)) return undefined
  return Number(text)
}
