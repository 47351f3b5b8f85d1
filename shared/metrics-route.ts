import type { FastifyInstance } from 'fastify'
import { type HttpRoute, mountRoute } from './http-route.ts'

/** What serves a Prometheus exposition: prom-client's Registry, or a wrapper that snapshots first. */
export interface MetricsSource {
  readonly contentType: string
  render: () => Promise<string>
}

/** `GET /metrics`: the Prometheus text exposition, never cached. */
export function metricsRoute (source: MetricsSource): HttpRoute {
  return {
    method: 'GET',
    path: '/metrics',
    summary: 'Prometheus metrics',
    handler: async (_request, reply) => {
      const body = await source.render()
      return await reply.header('cache-control', 'no-store').type(source.contentType).send(body)
    },
  }
}

/** Registers metricsRoute on an app (the agent's health server). */
export function registerMetricsRoute (app: FastifyInstance, source: MetricsSource): void {
  mountRoute(app, metricsRoute(source))
}
