import type { FastifyInstance } from 'fastify'

/** What serves a Prometheus exposition: prom-client's Registry, or a wrapper that snapshots first. */
export interface MetricsSource {
  readonly contentType: string
  render: () => Promise<string>
}

/** `GET /metrics`: the Prometheus text exposition, never cached. */
export function registerMetricsRoute (app: FastifyInstance, source: MetricsSource): void {
  app.get('/metrics', async (_request, reply) => {
    const body = await source.render()
    return await reply.header('cache-control', 'no-store').type(source.contentType).send(body)
  })
}
