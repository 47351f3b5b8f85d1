import type { FastifyInstance, FastifyReply, FastifyRequest, RouteGenericInterface, RouteHandlerMethod } from 'fastify'

export type HttpMethod = 'GET' | 'POST' | 'DELETE'

/**
 * One HTTP route as data: what it answers, what --help says of it, and its
 * handler. Both programs describe their routes this way; fastify answers HEAD
 * for every GET as well.
 */
export interface HttpRoute<R extends RouteGenericInterface = RouteGenericInterface> {
  method: HttpMethod
  /** fastify's syntax: /api/v1/nodes/:peerId */
  path: string
  /** One line for --help. */
  summary: string
  /** Query parameters worth naming in --help, e.g. `?since=&until=`. */
  query?: string
  /** Served but left out of --help (a page's assets, per-check probe paths). */
  hidden?: boolean
  handler: (request: FastifyRequest<R>, reply: FastifyReply) => unknown
}

/** Registers one route on a fastify app, behind `preHandler` when given (the admin guard). */
export function mountRoute (app: FastifyInstance, route: HttpRoute<any>, preHandler?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>): void {
  app.route({
    method: route.method,
    url: route.path,
    handler: route.handler as RouteHandlerMethod,
    ...(preHandler === undefined ? {} : { preHandler }),
  })
}
