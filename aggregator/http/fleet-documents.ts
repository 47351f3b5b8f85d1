import { createHash } from 'node:crypto'
import type { Clock } from '../../shared/clock.ts'
import { FLEET_DOCUMENT_REBUILD_MS, FLEET_RENDITIONS_KEPT, NODE_VIEW_MAX_AGE_MS } from '../constants.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { fleetSummary, type FleetSummary, type NodeView } from '../fleet/view.ts'
import { CHECK_STATUS_OF_NODE, FLEET_HEALTH_LINKS, fleetHealthHead, HEALTH_JSON, nodeChecks, type CheckStatus } from '../health/fleet-health.ts'
import { exposeNode } from '../fleet/exposure.ts'
import { CachedBody } from './cached-body.ts'
import { commaJoined, entryJson, type FleetViewCache, type NodeEntry } from './fleet-view-cache.ts'
import { selectPage, type FleetQuery } from './fleet-query.ts'

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
  clock: Clock
  info: () => AggregatorInfo
  /** The parts' top-level fields of the fleet document (HttpRegistry.fleetFields). */
  fields: (nodes: readonly NodeView[], now: number) => Record<string, unknown>
  rebuildMs?: number
  maxAgeMs?: number
}

const JSON_TYPE = 'application/json; charset=utf-8'

/** When a document was built and what it had heard by then: whether it may still be served. */
interface Freshness {
  builtAt: number
  notices: number
  urgentNotices: number
  /** Until then, changes of the beat stream alone do not rebuild it. */
  heldUntil: number
}

/** One build of the fleet document for one exposure: the pieces filtered answers reuse. */
interface Built extends Freshness {
  version: number
  generation: number
  tag: string
  body: CachedBody
  entries: NodeEntry[]
  /** `{"aggregator":…,"generatedAt":…,"summary":…,"nodes":[` */
  head: Buffer
  /** `,"alerts":…,"maintenance":…}` (the parts' fields and the closing brace). */
  fields: Buffer
  summary: FleetSummary
}

interface HealthBuilt extends Freshness {
  body: CachedBody
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
 * for `rebuildMs`, so a fleet that never stops changing is serialised at
 * most once per interval however many read it. What is not the beat stream
 * (an operator's action, an alert, a window, a removed node) is never held
 * back: a client that changed something reads its change.
 */
export class FleetDocuments {
  private readonly options: FleetDocumentsOptions
  private readonly rebuildMs: number
  private readonly maxAgeMs: number
  private readonly fleetDocs: [Built | undefined, Built | undefined] = [undefined, undefined]
  private readonly healthDocs: [HealthBuilt | undefined, HealthBuilt | undefined] = [undefined, undefined]
  /** Filtered and paged answers, least recently used first. */
  private readonly renditions = new Map<string, { version: number, body: CachedBody }>()
  private versions = 0

  constructor (options: FleetDocumentsOptions) {
    this.options = options
    this.rebuildMs = options.rebuildMs ?? FLEET_DOCUMENT_REBUILD_MS
    this.maxAgeMs = options.maxAgeMs ?? NODE_VIEW_MAX_AGE_MS
  }

  /**
   * The whole fleet document. `atLeastGeneration`: it must hold every node
   * view built up to that cache generation (the live feed's snapshot must not
   * be older than the deltas already sent).
   */
  fleet (details: boolean, atLeastGeneration?: number): CachedBody {
    return this.built(details, atLeastGeneration).body
  }

  /** A filtered or paged answer: the document's head and fields, the chosen nodes, and `page`. */
  query (details: boolean, query: FleetQuery): CachedBody {
    const built = this.built(details)
    const key = `${details ? 1 : 0}|${query.key}`
    const kept = this.renditions.get(key)
    if (kept !== undefined) {
      this.renditions.delete(key)
      if (kept.version === built.version) {
        this.renditions.set(key, kept)
        return kept.body
      }
    }
    const page = selectPage(built.entries, (e) => e.view, searchText, query)
    const pageJson = JSON.stringify({ matched: page.matched, offset: query.offset ?? null, limit: query.limit ?? null, nextCursor: page.nextCursor })
    const bytes = Buffer.concat([built.head, ...commaJoined(page.items.map((e) => entryJson(e, details))), Buffer.from(`],"page":${pageJson}`), built.fields])
    const tag = `${built.tag}.${createHash('sha1').update(query.key).digest('base64url').slice(0, 12)}`
    const body = new CachedBody(bytes, tag, JSON_TYPE)
    this.renditions.set(key, { version: built.version, body })
    while (this.renditions.size > FLEET_RENDITIONS_KEPT) this.renditions.delete(this.renditions.keys().next().value as string)
    return body
  }

  /** The fleet's summary now (no document built). */
  summary (): FleetSummary {
    const { fleet, clock } = this.options
    return fleetSummary(fleet, fleet.consensus(clock.wall()))
  }

  /** GET /api/v1/fleet/health (application/health+json), with each node's checks cached beside its view. */
  health (details: boolean): CachedBody {
    const slot = details ? 1 : 0
    const now = this.options.clock.wall()
    const kept = this.healthDocs[slot]
    if (kept !== undefined && this.fresh(kept, now)) return kept.body
    const { notices, urgentNotices } = this.options.cache
    this.options.cache.refresh(now)
    const entries = this.options.cache.ordered()
    const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 }
    const parts: Buffer[] = []
    for (const entry of entries) {
      counts[CHECK_STATUS_OF_NODE[entry.view.status]]++
      parts.push(checksJson(entry, details))
    }
    const info = this.options.info()
    const { statusCode, head } = fleetHealthHead(counts, { aggregatorPeerId: info.peerId, releaseId: info.version })
    const bytes = Buffer.concat([
      Buffer.from(`${JSON.stringify(head).slice(0, -1)},"checks":{`),
      ...commaJoined(parts.filter((p) => p.length > 0)),
      Buffer.from(`},"links":${JSON.stringify(FLEET_HEALTH_LINKS)}}`),
    ])
    const body = new CachedBody(bytes, `${this.epoch(info)}-h${++this.versions}-${slot}`, `${HEALTH_JSON}; charset=utf-8`, statusCode)
    this.healthDocs[slot] = { ...this.freshness(kept, now, notices, urgentNotices), body }
    return body
  }

  private fresh (kept: Freshness, now: number): boolean {
    const { cache } = this.options
    const age = now - kept.builtAt
    // A clock that stepped back: built in the future, rebuild.
    if (age < 0) return false
    if (kept.notices === cache.notices) return age < this.maxAgeMs
    return kept.urgentNotices === cache.urgentNotices && now < kept.heldUntil
  }

  /**
   * What a document built now has heard. One that replaced another holds back
   * the beat stream for an interval; the first holds nothing back. After a
   * quiet interval the next change is therefore shown at once.
   */
  private freshness (kept: Freshness | undefined, now: number, notices: number, urgentNotices: number): Freshness {
    return { builtAt: now, notices, urgentNotices, heldUntil: kept === undefined ? now : now + this.rebuildMs }
  }

  private built (details: boolean, atLeastGeneration?: number): Built {
    const slot = details ? 1 : 0
    const now = this.options.clock.wall()
    const kept = this.fleetDocs[slot]
    if (kept !== undefined && this.fresh(kept, now) && (atLeastGeneration === undefined || kept.generation >= atLeastGeneration)) return kept
    const { cache, fleet, info } = this.options
    const { notices, urgentNotices } = cache
    const consensus = cache.refresh(now)
    const entries = cache.ordered()
    const summary = fleetSummary(fleet, consensus)
    const about = info()
    const head = Buffer.from(`{"aggregator":${JSON.stringify(about)},"generatedAt":"${new Date(now).toISOString()}","summary":${JSON.stringify(summary)},"nodes":[`)
    const fieldsJson = JSON.stringify(this.options.fields(entries.map((e) => e.view), now))
    const fields = Buffer.from(fieldsJson === '{}' ? '}' : `,${fieldsJson.slice(1)}`)
    const version = ++this.versions
    const tag = `${this.epoch(about)}-${version}-${slot}`
    const bytes = Buffer.concat([head, ...commaJoined(entries.map((e) => entryJson(e, details))), Buffer.from(']'), fields])
    const built: Built = { ...this.freshness(kept, now, notices, urgentNotices), version, generation: cache.generation, tag, body: new CachedBody(bytes, tag, JSON_TYPE), entries, head, fields, summary }
    this.fleetDocs[slot] = built
    return built
  }

  /** Sets this aggregator's ETags apart from another's and from its own before a restart (the versions start again at 1). */
  private epoch (about: AggregatorInfo): string {
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
