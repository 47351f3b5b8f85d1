import { createHash } from 'node:crypto'
import { type Clock, type Instant, instantOf, type Timer } from '../../shared/clock.ts'
import { FLEET_DEMAND_MS, FLEET_DOCUMENT_HOLD_FACTOR, FLEET_DOCUMENT_REBUILD_MS, FLEET_PUBLISH_TICK_MS, FLEET_RENDITIONS_KEPT, FLEET_RENDITIONS_MAX_BYTES, NODE_VIEW_MAX_AGE_MS } from '../constants.ts'
import { exposeNode } from '../fleet/exposure.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { fleetSummary, type FleetSummary, type NodeView } from '../fleet/view.ts'
import { CHECK_STATUS_OF_NODE, FLEET_HEALTH_LINKS, fleetHealthHead, HEALTH_JSON, nodeChecks, type CheckStatus } from '../health/fleet-health.ts'
import { CachedBody, type ContentEncoding } from './cached-body.ts'
import { selectPage, type FleetQuery } from './fleet-query.ts'
import { commaJoined, entryJson, type FleetViewCache, type NodeEntry } from './fleet-view-cache.ts'

/** Who the fleet documents say made them (GET /api/v1/fleet's `aggregator`; the health document's serviceId and releaseId). */
export interface AggregatorInfo {
  peerId: string
  multiaddrs: string[]
  version: string
  startedAt: string
}

export interface FleetDocumentsOptions {
  cache: FleetViewCache
  fleet: FleetState
  /** Wall clock for `generatedAt`, monotonic for the intervals, and the publisher's timer. */
  clock: Clock
  info: () => AggregatorInfo
  /** The parts' top-level fields of the fleet document (HttpRegistry.fleetFields). */
  fields: (nodes: readonly NodeView[], now: Instant) => Record<string, unknown>
  /** The longest a document holds back the beat stream (FLEET_DOCUMENT_REBUILD_MS). */
  rebuildMs?: number
  maxAgeMs?: number
  /** Measures what a build cost (ms); the monotonic clock by default. */
  stopwatch?: () => number
}

const JSON_TYPE = 'application/json; charset=utf-8'
const HEALTH_TYPE = `${HEALTH_JSON}; charset=utf-8`

type Kind = 'fleet' | 'health'

/** One build of a document for one exposure. */
interface Built {
  /** Monotonic clock. */
  builtAt: number
  /** The cache's notice counters when it was built: whether anything may have changed since. */
  notices: number
  urgentNotices: number
  /** Until then, changes of the beat stream alone do not rebuild it. */
  heldUntil: number
  /** The cache generation it holds: every node view built up to it. */
  generation: number
  /** The JSON of what is not node views, to tell a rebuild that changed nothing. */
  rest: string
  body: CachedBody
  /** The fleet document's pieces, for its filtered and paged answers. */
  parts?: FleetParts
}

interface FleetParts {
  version: number
  tag: string
  entries: NodeEntry[]
  /** `{"aggregator":…,"generatedAt":…,"summary":…,"nodes":[` */
  head: Buffer
  /** `,"alerts":…,"maintenance":…}` (the parts' fields and the closing brace). */
  fields: Buffer
}

/** A document people read: its last build and what they asked for lately. */
interface Slot {
  kind: Kind
  details: boolean
  current: Built | undefined
  /** Monotonic: when it was last asked for, and in which encodings. */
  demandedAt: number
  encodings: Map<ContentEncoding, number>
}

/**
 * The fleet's documents, serialised once per change and served as the same
 * bytes until the next: GET /api/v1/fleet (whole, or filtered and paged), the
 * live feed's snapshot, and GET /api/v1/fleet/health. A document is built
 * from the cached node views (FleetViewCache: only changed nodes are
 * serialised again), per exposure (with or without details).
 *
 * When it is rebuilt: not while nothing changed (until it is `maxAgeMs` old:
 * time alone moves phi); at the next request after a change; but a document
 * that replaced an older one holds back further changes of the beat stream
 * for FLEET_DOCUMENT_HOLD_FACTOR times what it cost to build, at most
 * `rebuildMs`: a fleet that never stops changing is serialised at most once
 * per interval however many read it (about a second at 10,000 nodes, at once
 * for a small fleet). What is not the beat stream (a node's status changed,
 * on a beat or on a deadline; an operator's action, an alert, a window, a
 * removed node) is never held back: no document shows a status the fleet has
 * left, and a client that changed something reads its change.
 *
 * While a document is read (within FLEET_DEMAND_MS), a publisher keeps it
 * current ahead of the requests: every tick it rebuilds the changed node
 * views (serialised at once, so the work is spread), and once the hold is
 * over it builds the next version and compresses it in the encodings asked
 * for; requests then only pick up bytes already made.
 */
export class FleetDocuments {
  private readonly options: FleetDocumentsOptions
  private readonly rebuildMs: number
  private readonly maxAgeMs: number
  private readonly stopwatch: () => number
  private readonly slots = new Map<string, Slot>()
  /** Filtered and paged answers, least recently used first. */
  private readonly renditions = new Map<string, { version: number, body: CachedBody }>()
  private renditionBytes = 0
  private versions = 0
  private publisher: Timer | undefined
  /** The parts' fields, as last computed, and what they had heard (see fieldsJson). */
  private fieldsMemo: { urgentNotices: number, membership: number, at: number, json: string } | undefined

  constructor (options: FleetDocumentsOptions) {
    this.options = options
    this.rebuildMs = options.rebuildMs ?? FLEET_DOCUMENT_REBUILD_MS
    this.maxAgeMs = options.maxAgeMs ?? NODE_VIEW_MAX_AGE_MS
    this.stopwatch = options.stopwatch ?? options.clock.monotonic
  }

  /** The whole fleet document, for a request that takes `encoding` (kept ready for the next ones). */
  fleet (details: boolean, encoding?: ContentEncoding): CachedBody {
    return this.serve(this.slot('fleet', details), encoding).body
  }

  /**
   * The live feed's snapshot: the fleet document holding every node view
   * built up to cache generation `atLeast` (never older than a delta already
   * sent). Not counted as demand: the feed keeps itself current.
   */
  snapshot (details: boolean, atLeast: number): CachedBody {
    const slot = this.slot('fleet', details)
    const now = this.options.clock.monotonic()
    if (slot.current !== undefined && slot.current.generation >= atLeast && this.usable(slot.current, now)) return slot.current.body
    return this.build(slot, now).body
  }

  /** A filtered or paged answer: the document's head and fields, the chosen nodes, and `page`. */
  query (details: boolean, query: FleetQuery): CachedBody {
    const built = this.serve(this.slot('fleet', details), undefined)
    const parts = built.parts as FleetParts
    const key = `${details ? 1 : 0}|${query.key}`
    const kept = this.renditions.get(key)
    if (kept !== undefined) {
      this.renditions.delete(key)
      this.renditionBytes -= kept.body.bytes.length
      if (kept.version === parts.version) {
        this.renditionBytes += kept.body.bytes.length
        this.renditions.set(key, kept)
        return kept.body
      }
    }
    const page = selectPage(parts.entries, (e) => e.view, searchText, query)
    const pageJson = JSON.stringify({ matched: page.matched, offset: query.offset ?? null, limit: query.limit ?? null, nextCursor: page.nextCursor })
    const bytes = Buffer.concat([parts.head, ...commaJoined(page.items.map((e) => entryJson(e, details))), Buffer.from(`],"page":${pageJson}`), parts.fields])
    const tag = `${parts.tag}.${createHash('sha1').update(query.key).digest('base64url').slice(0, 12)}`
    const body = new CachedBody(bytes, tag, JSON_TYPE)
    this.renditions.set(key, { version: parts.version, body })
    this.renditionBytes += bytes.length
    // Bounded in count and in bytes (a filter that keeps most of 10,000 nodes is most of the document).
    while (this.renditions.size > FLEET_RENDITIONS_KEPT || this.renditionBytes > FLEET_RENDITIONS_MAX_BYTES) {
      const [oldest, dropped] = this.renditions.entries().next().value as [string, { body: CachedBody }]
      this.renditions.delete(oldest)
      this.renditionBytes -= dropped.body.bytes.length
    }
    return body
  }

  /** GET /api/v1/fleet/health (application/health+json), with each node's checks cached beside its view. */
  health (details: boolean, encoding?: ContentEncoding): CachedBody {
    return this.serve(this.slot('health', details), encoding).body
  }

  /** The fleet's summary now (no document built). */
  summary (): FleetSummary {
    const { fleet, clock } = this.options
    const now = instantOf(clock)
    return fleetSummary(fleet, fleet.consensus(now), now)
  }

  close (): void {
    this.publisher?.cancel()
    this.publisher = undefined
  }

  private slot (kind: Kind, details: boolean): Slot {
    const key = `${kind}:${details ? 1 : 0}`
    let slot = this.slots.get(key)
    if (slot === undefined) {
      slot = { kind, details, current: undefined, demandedAt: Number.NEGATIVE_INFINITY, encodings: new Map() }
      this.slots.set(key, slot)
    }
    return slot
  }

  private serve (slot: Slot, encoding: ContentEncoding | undefined): Built {
    const now = this.options.clock.monotonic()
    slot.demandedAt = now
    if (encoding !== undefined) slot.encodings.set(encoding, now)
    this.publisher ??= this.options.clock.every(FLEET_PUBLISH_TICK_MS, () => { this.publish() }, { unref: true })
    const kept = slot.current
    return kept !== undefined && this.usable(kept, now) ? kept : this.build(slot, now)
  }

  /** Whether a build may still be served at `now`. */
  private usable (kept: Built, now: number): boolean {
    const { cache } = this.options
    const age = now - kept.builtAt
    // A clock that went back: rebuild.
    if (age < 0) return false
    if (kept.notices === cache.notices) return age < this.maxAgeMs
    if (kept.urgentNotices !== cache.urgentNotices) return false
    // A held document is replaced by the publisher's next tick after its hold: no request need wait for that
    // (a cheap one, held briefly, is as cheap to build for the request).
    const grace = this.publisher !== undefined ? Math.min(FLEET_PUBLISH_TICK_MS, kept.heldUntil - kept.builtAt) : 0
    return now < kept.heldUntil + grace
  }

  /** The publisher's tick: node views brought up to date, and documents whose hold is over rebuilt and compressed. */
  private publish (): void {
    const now = this.options.clock.monotonic()
    const demanded = [...this.slots.values()].filter((s) => now - s.demandedAt < FLEET_DEMAND_MS && s.current !== undefined)
    if (demanded.length === 0) {
      this.close()
      return
    }
    this.options.cache.refresh(this.preparer(demanded))
    const { cache } = this.options
    for (const slot of demanded) {
      const kept = slot.current as Built
      const changed = kept.notices !== cache.notices
      if ((changed && now >= kept.heldUntil) || (!changed && now - kept.builtAt >= this.maxAgeMs)) this.build(slot, now)
    }
  }

  /** Serialises each rebuilt node view for the documents being read, as it is built. */
  private preparer (slots: readonly Slot[]): (entry: NodeEntry) => void {
    const fleet = [false, true].filter((d) => slots.some((s) => s.kind === 'fleet' && s.details === d))
    const health = [false, true].filter((d) => slots.some((s) => s.kind === 'health' && s.details === d))
    return (entry) => {
      for (const details of fleet) entryJson(entry, details)
      for (const details of health) checksJson(entry, details)
    }
  }

  private build (slot: Slot, now: number): Built {
    const kept = slot.current
    const { cache } = this.options
    const { notices, urgentNotices } = cache
    const started = this.stopwatch()
    const consensus = cache.refresh(this.preparer([slot]))
    const built = slot.kind === 'fleet' ? this.buildFleet(slot.details, consensus, kept) : this.buildHealth(slot.details, kept)
    // One that replaced another holds back the beat stream in proportion to what it cost; the first holds nothing back.
    const hold = kept === undefined ? 0 : Math.min(this.rebuildMs, FLEET_DOCUMENT_HOLD_FACTOR * Math.max(0, this.stopwatch() - started))
    const next: Built = { ...built, builtAt: now, notices, urgentNotices, heldUntil: now + hold }
    slot.current = next
    // Compressed ahead for the encodings asked for lately (off the event loop), so their requests find them made.
    if (next.body !== kept?.body) {
      // A failed compression is the request's to report (it awaits the same promise), not a crash here.
      for (const [encoding, at] of slot.encodings) if (now - at < FLEET_DEMAND_MS) next.body.encode(encoding).catch(() => undefined)
    }
    return next
  }

  private buildFleet (details: boolean, consensus: ReturnType<FleetViewCache['refresh']>, kept: Built | undefined): Omit<Built, 'builtAt' | 'notices' | 'urgentNotices' | 'heldUntil'> {
    const { cache, fleet, info } = this.options
    const now = instantOf(this.options.clock)
    const about = JSON.stringify(info())
    const entries = cache.ordered()
    const views = entries.map((e) => e.view)
    const summary = JSON.stringify(fleetSummary(fleet, consensus, now, views))
    const fieldsJson = this.fieldsJson(views, now)
    const rest = `${about}\n${summary}\n${fieldsJson}`
    // Nothing changed after all (only time passed, and it moved nothing): the same bytes, the same ETag.
    if (kept !== undefined && kept.generation === cache.generation && kept.rest === rest) return kept
    const head = Buffer.from(`{"aggregator":${about},"generatedAt":"${new Date(now.wall).toISOString()}","summary":${summary},"nodes":[`)
    const fields = Buffer.from(fieldsJson === '{}' ? '}' : `,${fieldsJson.slice(1)}`)
    const version = ++this.versions
    const tag = `${this.epoch()}-${version}-${details ? 1 : 0}`
    const bytes = Buffer.concat([head, ...commaJoined(entries.map((e) => entryJson(e, details))), Buffer.from(']'), fields])
    return { generation: cache.generation, rest, body: new CachedBody(bytes, tag, JSON_TYPE), parts: { version, tag, entries, head, fields } }
  }

  /**
   * The parts' fields of the fleet document (firing alerts, maintenance
   * windows...), computed again only when a part said something changed
   * (http.changed, an alert notice: the urgent notices), when a node came or
   * went, and at least every maxAgeMs, not for every beat: walking the fleet
   * for them is a large share of a build at 10,000 nodes.
   */
  private fieldsJson (views: readonly NodeView[], now: Instant): string {
    const { cache } = this.options
    const at = now.mono
    const memo = this.fieldsMemo
    if (memo !== undefined && memo.urgentNotices === cache.urgentNotices && memo.membership === cache.membership && at - memo.at < this.maxAgeMs && at >= memo.at) return memo.json
    const json = JSON.stringify(this.options.fields(views, now))
    this.fieldsMemo = { urgentNotices: cache.urgentNotices, membership: cache.membership, at, json }
    return json
  }

  private buildHealth (details: boolean, kept: Built | undefined): Omit<Built, 'builtAt' | 'notices' | 'urgentNotices' | 'heldUntil'> {
    const { cache } = this.options
    const info = this.options.info()
    const rest = JSON.stringify([info.peerId, info.version])
    if (kept !== undefined && kept.generation === cache.generation && kept.rest === rest) return kept
    const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 }
    const checks: Buffer[] = []
    for (const entry of cache.ordered()) {
      counts[CHECK_STATUS_OF_NODE[entry.view.status]]++
      const json = checksJson(entry, details)
      if (json.length > 0) checks.push(json)
    }
    const { statusCode, head } = fleetHealthHead(counts, { aggregatorPeerId: info.peerId, releaseId: info.version })
    const bytes = Buffer.concat([
      Buffer.from(`${JSON.stringify(head).slice(0, -1)},"checks":{`),
      ...commaJoined(checks),
      Buffer.from(`},"links":${JSON.stringify(FLEET_HEALTH_LINKS)}}`),
    ])
    const tag = `${this.epoch()}-h${++this.versions}-${details ? 1 : 0}`
    return { generation: cache.generation, rest, body: new CachedBody(bytes, tag, HEALTH_TYPE, statusCode) }
  }

  /** Sets this aggregator's ETags apart from another's and from its own before a restart (the versions start again at 1). */
  private epoch (): string {
    const about = this.options.info()
    return createHash('sha1').update(`${about.peerId}|${about.startedAt}`).digest('base64url').slice(0, 10)
  }
}

function searchText (entry: NodeEntry): string {
  entry.search ??= `${entry.view.nickname}\n${entry.view.peerId}`.toLowerCase()
  return entry.search
}

/** A node's health checks as the members of the document's `checks` object (no braces), per exposure, made once per entry. */
function checksJson (entry: NodeEntry, details: boolean): Buffer {
  const slot = details ? 1 : 0
  let json = entry.checks[slot]
  if (json === undefined) {
    json = Buffer.from(JSON.stringify(nodeChecks(exposeNode(entry.view, details))).slice(1, -1))
    entry.checks[slot] = json
  }
  return json
}
