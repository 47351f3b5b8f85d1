import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type Clock, systemClock } from '../../shared/clock.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { NODE_STATUSES, type NodeStatus } from '../fleet/types.ts'
import { fleetVerdict, type FleetVerdict } from '../fleet/verdict.ts'
import type { Uptime } from '../store/uptime.ts'
import { badgeSvg, type BadgeTone, escapeXml, STATUS_TONE } from './badges.ts'
import type { HttpRegistry } from './registry.ts'

/**
 * The public status page (GET /status) and badges (GET /badge/fleet.svg,
 * GET /badge/node/<nickname>.svg), on only with --status-page.
 *
 * What is published (docs/security.md, "The public status page"): the
 * fleet's counts by status, and per node its nickname, status, whether it is
 * in maintenance, and its uptime over the hour, day and week. Never a peer
 * id, address, miner address, head, height, network, agent version,
 * component, reason or maintenance reason: those map an operator's
 * infrastructure or carry error texts. Nodes without a nickname are counted
 * but not listed (a made-up "node 7" would change as nodes come and go).
 *
 * Cheap at any fleet size: the page and the badges' statuses are rebuilt
 * only after something they show changed, at most once per second, plus
 * once a minute for uptime; every other request gets the bytes already made,
 * and a browser or proxy holding them gets a 304 (ETag, max-age).
 */

/** At most one rebuild per this interval, however fast the fleet changes. */
export const STATUS_RENDER_MIN_MS = 1_000
/** Uptime moves without any event: the page is rebuilt at least this often when asked for. */
export const STATUS_UPTIME_REFRESH_MS = 60_000
/** How long browsers and proxies may keep the page and the badges without asking again. */
export const STATUS_MAX_AGE_S = 15
export const BADGE_MAX_AGE_S = 60
/** Nodes listed by name on the page (problems first); the rest are counted. */
export const STATUS_PAGE_MAX_NODES = 1_000
/** Badge texts remembered (rendered once per distinct label, message and colour). */
const BADGE_MEMO_LIMIT = 10_000

const LOOK: Record<NodeStatus, { glyph: string, label: string, rank: number }> = {
  unhealthy: { glyph: '✕', label: 'Unhealthy', rank: 0 },
  down: { glyph: '▼', label: 'Down', rank: 1 },
  stale: { glyph: '◷', label: 'Stale', rank: 2 },
  degraded: { glyph: '▲', label: 'Degraded', rank: 3 },
  stopped: { glyph: '■', label: 'Stopped', rank: 4 },
  healthy: { glyph: '✓', label: 'Healthy', rank: 5 },
}
const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'base' })

/** One node as the public may see it. */
export interface PublicNode {
  name: string
  status: NodeStatus
  maintenance: boolean
  uptime: Uptime | undefined
}

export interface PublicStatus {
  /** Wall clock, ms. */
  at: number
  total: number
  byStatus: Record<NodeStatus, number>
  verdict: FleetVerdict
  /** Named nodes, problems first, then by name. */
  nodes: PublicNode[]
  /** Nodes without a nickname, by status. */
  unnamed: Record<NodeStatus, number>
  /** The whole fleet is in maintenance (until when, if known; its reason is not published). */
  fleetMaintenance: { until: number | undefined } | undefined
}

function emptyCounts (): Record<NodeStatus, number> {
  return Object.fromEntries(NODE_STATUSES.map((s) => [s, 0])) as Record<NodeStatus, number>
}

/** Builds the public view from nodes reduced to what may be published (pure). */
export function publicStatus (nodes: Iterable<{ nickname: string, status: NodeStatus, maintenance: boolean, uptime: Uptime | undefined }>, at: number, fleetMaintenance?: { until: number | undefined }): PublicStatus {
  const byStatus = emptyCounts()
  const unnamed = emptyCounts()
  const named: PublicNode[] = []
  let total = 0
  for (const node of nodes) {
    total++
    byStatus[node.status]++
    const name = node.nickname.trim()
    if (name === '') unnamed[node.status]++
    else named.push({ name, status: node.status, maintenance: node.maintenance, uptime: node.uptime })
  }
  named.sort((a, b) => LOOK[a.status].rank - LOOK[b.status].rank || byName.compare(a.name, b.name))
  return { at, total, byStatus, verdict: fleetVerdict(byStatus, total), nodes: named, unnamed, fleetMaintenance }
}

/** The status a nickname's badge shows: the worst of the nodes carrying it (nicknames are not unique). */
export function worstByName (status: PublicStatus): Map<string, NodeStatus> {
  const worst = new Map<string, NodeStatus>()
  for (const node of status.nodes) {
    const known = worst.get(node.name)
    if (known === undefined || LOOK[node.status].rank < LOOK[known].rank) worst.set(node.name, node.status)
  }
  return worst
}

function percent (ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—'
  const value = ratio * 100
  return `${value === 100 ? '100' : value.toFixed(value >= 99 ? 2 : 1)}%`
}

function utc (ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

const count = new Intl.NumberFormat('en-US')

/** The page, server-rendered: the fleet page's stylesheet, no script (CSP script-src 'self' and none is needed). */
export function renderStatusPage (status: PublicStatus, limit: number = STATUS_PAGE_MAX_NODES): string {
  const { verdict } = status
  const counts = NODE_STATUSES.slice().sort((a, b) => LOOK[a].rank - LOOK[b].rank)
    .map((s) => `<li class="status-count tone-${STATUS_TONE[s]}${status.byStatus[s] === 0 ? ' zero' : ''}"><span class="glyph" aria-hidden="true">${LOOK[s].glyph}</span> <span class="label">${LOOK[s].label}</span> <span class="count">${count.format(status.byStatus[s])}</span></li>`)
    .join('')
  const listed = status.nodes.slice(0, limit)
  const rows = listed.map((n) => {
    const look = LOOK[n.status]
    const maint = n.maintenance ? ' <span class="maint-tag"><span class="glyph" aria-hidden="true">⚒</span><span>maintenance</span></span>' : ''
    return `<tr><th scope="row" class="status-name">${escapeXml(n.name)}${maint}</th>` +
      `<td><span class="badge tone-${STATUS_TONE[n.status]}"><span aria-hidden="true">${look.glyph}</span> ${look.label}</span></td>` +
      `<td class="num" data-label="1 h">${percent(n.uptime?.hour)}</td><td class="num" data-label="24 h">${percent(n.uptime?.day)}</td><td class="num" data-label="7 d">${percent(n.uptime?.week)}</td></tr>`
  }).join('')
  const notes: string[] = []
  if (status.nodes.length > listed.length) notes.push(`${count.format(status.nodes.length - listed.length)} more named nodes are not listed here (the counts above include them).`)
  const unnamedTotal = NODE_STATUSES.reduce((n, s) => n + status.unnamed[s], 0)
  if (unnamedTotal > 0) {
    const parts = NODE_STATUSES.filter((s) => status.unnamed[s] > 0).map((s) => `${count.format(status.unnamed[s])} ${s}`).join(', ')
    notes.push(`${count.format(unnamedTotal)} node${unnamedTotal === 1 ? '' : 's'} without a nickname ${unnamedTotal === 1 ? 'is' : 'are'} counted above but not listed: ${parts}.`)
  }
  const maintenance = status.fleetMaintenance === undefined
    ? ''
    : `<p class="notice tone-maint" role="status"><span class="glyph" aria-hidden="true">⚒</span><strong>Scheduled maintenance</strong>${status.fleetMaintenance.until === undefined ? ' until further notice' : ` until ${utc(status.fleetMaintenance.until)}`}.</p>`
  const table = listed.length === 0
    ? '<p class="muted">No named node to list.</p>'
    : '<div class="status-table-wrap" role="region" aria-label="Nodes: status and uptime" tabindex="0"><table class="status-table"><caption class="sr-only">Nodes: status and uptime</caption>' +
      '<thead><tr><th scope="col">Node</th><th scope="col">Status</th><th scope="col" class="num">Uptime 1 h</th><th scope="col" class="num">24 h</th><th scope="col" class="num">7 d</th></tr></thead>' +
      `<tbody>${rows}</tbody></table></div>`
  return '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    // No meta refresh: a page that reloads itself under a reader is an accessibility failure (WCAG 2.2.1); reloading is the reader's call.
    '<meta name="color-scheme" content="light dark">' +
    `<title>${verdict.tone === 'ok' ? '' : '(!) '}Fleet status</title><link rel="icon" href="/assets/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/assets/app.css"></head>` +
    '<body class="public-status"><header class="top"><div class="brand"><img src="/assets/favicon.svg" alt="" width="22" height="22"><h1>Fleet status</h1></div></header>' +
    `${maintenance}<main class="status-main">` +
    `<section class="status-verdict tone-${verdict.tone}" aria-labelledby="verdict"><p id="verdict" class="tile-value verdict">${escapeXml(verdict.text)}</p>` +
    `<p class="tile-sub">${escapeXml([`${count.format(status.total)} node${status.total === 1 ? '' : 's'}`, verdict.sub].filter((s) => s !== '').join(' · '))}</p>` +
    `<p class="tile-sub">Updated <time datetime="${new Date(status.at).toISOString()}">${utc(status.at)}</time>.</p></section>` +
    `<section aria-labelledby="counts-title"><h2 id="counts-title" class="sr-only">Nodes by status</h2><ul class="status-counts">${counts}</ul></section>` +
    `<section aria-labelledby="nodes-title"><h2 id="nodes-title">Nodes</h2>${table}${notes.map((n) => `<p class="note">${escapeXml(n)}</p>`).join('')}</section>` +
    '<p class="note">Uptime: the share of the time this aggregator watched the node in which it was healthy or degraded.</p>' +
    '</main></body></html>\n'
}

/** Bytes ready to send, with their validator. */
export interface Rendered {
  body: string
  etag: string
}

function rendered (body: string): Rendered {
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }
}

/** What the public status page may know of maintenance (the alerting part's statusSource): whether, and until when; never why. */
export interface PublicMaintenance {
  inMaintenance: (peerId: string, now: number) => boolean
  fleet: (now: number) => { until: number | undefined } | undefined
  /** Calls back when a window changed; returns the unsubscribe function. */
  subscribe: (listener: () => void) => () => void
}

export interface StatusPageOptions {
  fleet: FleetState
  /** The node's uptime (the store's fleet-wide cache). */
  uptimeOf: (peerId: string) => Uptime | undefined
  /** Maintenance (the alerting part), when the aggregator alerts. */
  maintenance?: PublicMaintenance
  clock?: Clock
}

/**
 * Holds the public view and its renderings, rebuilt lazily: a change marks
 * it stale, and the next request at least STATUS_RENDER_MIN_MS after the
 * last rebuild makes a new one. Requests in between get the last one.
 */
export class PublicStatusCache {
  private readonly options: StatusPageOptions
  private readonly clock: Clock
  private status: PublicStatus | undefined
  private builtAt = Number.NEGATIVE_INFINITY
  private stale = true
  private page: Rendered | undefined
  private worst = new Map<string, NodeStatus>()
  /** Nicknames as of the last rebuild: a beat only matters here when it renames a node or adds one. */
  private names = new Map<string, string>()
  private readonly badges = new Map<string, Rendered>()
  private readonly unsubscribe: Array<() => void> = []

  constructor (options: StatusPageOptions) {
    this.options = options
    this.clock = options.clock ?? systemClock
    const { fleet } = options
    this.unsubscribe.push(fleet.subscribe({
      onStatusChanged: () => { this.stale = true },
      onNodeForgotten: () => { this.stale = true },
      onNodeChanged: (peerId) => {
        if (!this.stale && this.names.get(peerId) !== fleet.get(peerId)?.beat.nickname) this.stale = true
      },
    }))
    if (options.maintenance !== undefined) this.unsubscribe.push(options.maintenance.subscribe(() => { this.stale = true }))
  }

  /** The public view now (rebuilt if due). */
  current (): PublicStatus {
    const now = this.clock.monotonic()
    const age = now - this.builtAt
    if (this.status === undefined || (this.stale && age >= STATUS_RENDER_MIN_MS) || age >= STATUS_UPTIME_REFRESH_MS) this.rebuild(now)
    return this.status as PublicStatus
  }

  statusPage (): Rendered {
    this.current()
    this.page ??= rendered(renderStatusPage(this.status as PublicStatus))
    return this.page
  }

  fleetBadge (): Rendered {
    const { verdict } = this.current()
    return this.badge('fleet', verdict.words, verdict.tone)
  }

  /** A nickname's badge; undefined when no node carries it (the route answers 404 with an "unknown" badge). */
  nodeBadge (nickname: string): Rendered | undefined {
    this.current()
    const status = this.worst.get(nickname)
    return status === undefined ? undefined : this.badge(nickname, status, STATUS_TONE[status])
  }

  unknownBadge (nickname: string): Rendered {
    return this.badge(nickname, 'unknown', 'off')
  }

  close (): void {
    for (const u of this.unsubscribe.splice(0)) u()
  }

  private badge (label: string, message: string, tone: BadgeTone): Rendered {
    const key = `${tone}\u0000${label}\u0000${message}`
    let badge = this.badges.get(key)
    if (badge === undefined) {
      if (this.badges.size >= BADGE_MEMO_LIMIT) this.badges.clear()
      badge = rendered(badgeSvg(label, message, tone))
      this.badges.set(key, badge)
    }
    return badge
  }

  private rebuild (now: number): void {
    const { fleet, uptimeOf, maintenance } = this.options
    const wall = this.clock.wall()
    const names = new Map<string, string>()
    const nodes: Array<{ nickname: string, status: NodeStatus, maintenance: boolean, uptime: Uptime | undefined }> = []
    for (const record of fleet.nodes()) {
      const verdict = fleet.verdict(record.peerId)
      if (verdict === undefined) continue
      names.set(record.peerId, record.beat.nickname)
      nodes.push({
        nickname: record.beat.nickname,
        status: verdict.status,
        maintenance: maintenance?.inMaintenance(record.peerId, wall) ?? false,
        uptime: uptimeOf(record.peerId),
      })
    }
    this.status = publicStatus(nodes, wall, maintenance?.fleet(wall))
    this.worst = worstByName(this.status)
    this.names = names
    this.page = undefined
    this.stale = false
    this.builtAt = now
  }
}

function send (request: FastifyRequest, reply: FastifyReply, item: Rendered, type: string, maxAge: number, status = 200): FastifyReply {
  void reply.header('cache-control', `public, max-age=${maxAge}`).header('etag', item.etag)
  if (status === 200 && request.headers['if-none-match'] === item.etag) return reply.status(304).send()
  return reply.status(status).type(type).send(item.body)
}

/** The badge route's tail: "<nickname>.svg", percent-decoded by the router. */
function badgeName (tail: string): string | undefined {
  return tail.endsWith('.svg') && tail.length > 4 ? tail.slice(0, -4) : undefined
}

/**
 * Registers GET /status, /badge/fleet.svg and /badge/node/<nickname>.svg on
 * `cache` (the views part makes it on start and closes it on stop).
 */
export function registerStatusPageRoutes (http: HttpRegistry, cache: () => PublicStatusCache): void {
  http.route({
    method: 'GET',
    path: '/status',
    summary: 'public status page: statuses and uptime by nickname, no peer ids (--status-page)',
    handler: async (request, reply) => send(request, reply, cache().statusPage(), 'text/html; charset=utf-8', STATUS_MAX_AGE_S),
  })
  http.route({
    method: 'GET',
    path: '/badge/fleet.svg',
    summary: 'the fleet\'s SVG badge (--status-page)',
    handler: async (request, reply) => send(request, reply, cache().fleetBadge(), 'image/svg+xml; charset=utf-8', BADGE_MAX_AGE_S),
  })
  http.route<{ Params: { '*': string } }>({
    method: 'GET',
    path: '/badge/node/*',
    summary: 'a node\'s SVG badge: /badge/node/NICKNAME.svg (--status-page)',
    handler: async (request, reply) => {
      const badges = cache()
      const name = badgeName(request.params['*'])
      if (name === undefined) return await reply.status(404).type('image/svg+xml; charset=utf-8').send(badges.unknownBadge('node').body)
      const badge = badges.nodeBadge(name)
      // Unknown: still an image (a README shows "unknown", not a broken picture), with a 404 for whoever checks.
      return badge === undefined
        ? send(request, reply, badges.unknownBadge(name), 'image/svg+xml; charset=utf-8', BADGE_MAX_AGE_S, 404)
        : send(request, reply, badge, 'image/svg+xml; charset=utf-8', BADGE_MAX_AGE_S)
    },
  })
}
