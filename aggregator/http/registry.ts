import type { FastifyReply, FastifyRequest, RouteGenericInterface } from 'fastify'
import type { Instant } from '../../shared/clock.ts'
import type { HttpRoute } from '../../shared/http-route.ts'
import type { NodeView } from '../fleet/view.ts'

/** Runs before a route's handler; refuses the request by throwing (a HeartbeatError with its code). */
export type RouteGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

/** A route of the aggregator's HTTP API. */
export interface AggregatorRoute<R extends RouteGenericInterface = RouteGenericInterface> extends HttpRoute<R> {
  /** Only for the admin: by default the bearer token of --admin-token-file (the server's guard). */
  admin?: boolean
  /**
   * An admin route's own check, in place of the bearer-only one: what the
   * page offers a signed-in admin (removing a node) also takes an admin
   * session from the page's own origin (viewer-auth.ts, adminGuard).
   */
  guard?: RouteGuard
}

/** Where a node view is going: a list of nodes (fleet document, live feed) or one node's own route. */
export type NodeScope = 'fleet' | 'node'

/** Adds fields kept outside the fleet state to a node view (the store's uptime, the node's maintenance window). */
export type NodeDecorator = (view: NodeView, scope: NodeScope, now: Instant) => NodeView

/** Fetches, before one node's own route is answered, what a decorator needs fresh for it (its uptime from the store). */
export type NodePreparer = (peerId: string) => Promise<void>

/** A top-level field of the fleet document (GET /api/v1/fleet and the feed's snapshot), built from its nodes. */
export type FleetField = (nodes: ReadonlyArray<{ peerId: string }>, now: Instant) => unknown

/**
 * Everything the aggregator serves over HTTP, as parts declare it before
 * anything starts (Part.routes): the routes, the one chain of node-view
 * decorators that every node view passes through (fleet document, node
 * route, live feed), and the fields parts add to the fleet document. The
 * HTTP server mounts the routes; --help lists them.
 */
export class HttpRegistry {
  private readonly table: Array<AggregatorRoute<any>> = []
  private readonly decorators: NodeDecorator[] = []
  private readonly preparers: NodePreparer[] = []
  private readonly fields = new Map<string, FleetField>()

  /** Adds a route; a second route on the same method and path is a mistake. */
  route<R extends RouteGenericInterface> (route: AggregatorRoute<R>): void {
    // A guard replaces the admin check; on a route not marked admin, --help would not say it is guarded.
    if (route.guard !== undefined && route.admin !== true) throw new Error(`${route.method} ${route.path}: a guard is for admin routes (admin: true)`)
    if (this.table.some((r) => r.method === route.method && r.path === route.path)) throw new Error(`two routes for ${route.method} ${route.path}`)
    this.table.push(route as AggregatorRoute<any>)
  }

  /** Adds a decorator to the node-view chain (applied in the order added). */
  decorateNodes (decorator: NodeDecorator): void {
    this.decorators.push(decorator)
  }

  /** Adds a step run before one node's own route is decorated (a decorator itself never waits). */
  prepareNode (preparer: NodePreparer): void {
    this.preparers.push(preparer)
  }

  /** Runs every preparer for one node. */
  async prepare (peerId: string): Promise<void> {
    await Promise.all(this.preparers.map(async (p) => { await p(peerId) }))
  }

  /** Adds a top-level field to the fleet document. */
  fleetField (name: string, build: FleetField): void {
    if (this.fields.has(name)) throw new Error(`two fleet document fields named ${name}`)
    this.fields.set(name, build)
  }

  get routes (): ReadonlyArray<AggregatorRoute<any>> {
    return this.table
  }

  /** A node view through the decorator chain. */
  decorate (view: NodeView, scope: NodeScope, now: Instant): NodeView {
    let decorated = view
    for (const decorator of this.decorators) decorated = decorator(decorated, scope, now)
    return decorated
  }

  /** The parts' fields of a fleet document whose nodes are `nodes`. */
  fleetFields (nodes: ReadonlyArray<{ peerId: string }>, now: Instant): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [name, build] of this.fields) out[name] = build(nodes, now)
    return out
  }
}

const METHOD_WIDTH = 7
const METHOD_ORDER = ['GET', 'POST', 'DELETE']

/** The route table as --help shows it: one line per route that is not hidden, by path. */
export function routeHelp (routes: ReadonlyArray<AggregatorRoute<any>>): string {
  const shown = routes.filter((r) => r.hidden !== true)
    .sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method))
  const target = (r: AggregatorRoute<any>): string => `${r.path}${r.query ?? ''}`
  const width = Math.max(...shown.map((r) => target(r).length)) + 2
  return shown.map((r) => `  ${r.method.padEnd(METHOD_WIDTH)}${target(r).padEnd(width)}${r.admin === true ? '(admin) ' : ''}${r.summary}`).join('\n')
}
