import type { FastifyInstance, FastifyReply } from 'fastify'
import type { HealthRegistry } from './health-registry.ts'
import { type HttpRoute, mountRoute } from './http-route.ts'
import {
  actuatorAnswer, kubernetesAnswer, kubernetesSingleAnswer, parseKubernetesQuery, zkSyncAnswer, type ProbeAnswer,
} from './probe-formats.ts'

export interface ProbeRoutesOptions {
  registry: HealthRegistry
  /** The `/actuator/info` document (Layotto's info contributors, merged). */
  info: () => Record<string, unknown>
}

const TEXT = 'text/plain; charset=utf-8'

/**
 * The probe endpoints both programs serve, from one health registry:
 * `/health` (zkSync), `/actuator/health[/liveness|/readiness]` and
 * `/actuator/info` (Layotto, Spring Boot), `/livez`, `/readyz` and their
 * per-check paths (Kubernetes).
 */
export function probeRoutes (options: ProbeRoutesOptions): Array<HttpRoute<any>> {
  const { registry, info } = options
  const routes: Array<HttpRoute<any>> = [
    { method: 'GET', path: '/health', summary: 'own health (zkSync shape), 200 or 503', handler: async (_request, reply) => await sendJson(reply, zkSyncAnswer(registry.health('health'))) },
    { method: 'GET', path: '/actuator/health', summary: 'own health (Spring Boot actuator shape)', handler: async (_request, reply) => await sendJson(reply, actuatorAnswer(registry.health('health'))) },
    { method: 'GET', path: '/actuator/health/liveness', summary: 'liveness (actuator shape)', handler: async (_request, reply) => await sendJson(reply, actuatorAnswer(registry.health('liveness'))) },
    { method: 'GET', path: '/actuator/health/readiness', summary: 'readiness (actuator shape)', handler: async (_request, reply) => await sendJson(reply, actuatorAnswer(registry.health('readiness'))) },
    { method: 'GET', path: '/actuator/info', summary: 'build, runtime and effective configuration', handler: async (_request, reply) => await reply.header('cache-control', 'no-store').send(info()) },
  ]
  for (const [endpoint, probe] of [['livez', 'liveness'], ['readyz', 'readiness']] as const) {
    routes.push({
      method: 'GET',
      path: `/${endpoint}`,
      query: '?verbose&exclude=CHECK',
      summary: `Kubernetes ${probe} probe; /${endpoint}/CHECK for one check`,
      handler: async (request, reply) => {
        const answer = kubernetesAnswer(endpoint, registry.run(probe), parseKubernetesQuery(request.query as Record<string, unknown>))
        return await sendText(reply, answer)
      },
    }, {
      method: 'GET',
      path: `/${endpoint}/:check`,
      summary: `one ${probe} check`,
      hidden: true,
      handler: async (request, reply) => {
        const name = (request.params as { check: string }).check
        const result = registry.names(probe).includes(name) ? registry.runOne(name) : undefined
        // Go's ServeMux answers an unknown path this way, and so does Kubernetes.
        if (result === undefined) return await sendText(reply, { statusCode: 404, body: '404 page not found\n' })
        return await sendText(reply, kubernetesSingleAnswer(result))
      },
    })
  }
  return routes
}

/** Registers probeRoutes on an app (the agent's health server). */
export function registerProbeRoutes (app: FastifyInstance, options: ProbeRoutesOptions): void {
  for (const route of probeRoutes(options)) mountRoute(app, route)
}

async function sendJson (reply: FastifyReply, answer: ProbeAnswer<unknown>): Promise<FastifyReply> {
  return await reply.status(answer.statusCode).header('cache-control', 'no-store').send(answer.body)
}

async function sendText (reply: FastifyReply, answer: ProbeAnswer<string>): Promise<FastifyReply> {
  return await reply.status(answer.statusCode).header('cache-control', 'no-store').type(TEXT).send(answer.body)
}
