import type { FastifyInstance, FastifyReply } from 'fastify'
import type { HealthRegistry } from './health-registry.ts'
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
 * per-check paths (Kubernetes). Fastify answers HEAD for each GET as well.
 */
export function registerProbeRoutes (app: FastifyInstance, options: ProbeRoutesOptions): void {
  const { registry, info } = options

  app.get('/health', async (_request, reply) => await sendJson(reply, zkSyncAnswer(registry.health('health'))))

  app.get('/actuator/health', async (_request, reply) => await sendJson(reply, actuatorAnswer(registry.health('health'))))
  app.get('/actuator/health/liveness', async (_request, reply) => await sendJson(reply, actuatorAnswer(registry.health('liveness'))))
  app.get('/actuator/health/readiness', async (_request, reply) => await sendJson(reply, actuatorAnswer(registry.health('readiness'))))
  app.get('/actuator/info', async (_request, reply) => await reply.header('cache-control', 'no-store').send(info()))

  for (const [endpoint, probe] of [['livez', 'liveness'], ['readyz', 'readiness']] as const) {
    app.get<{ Querystring: Record<string, unknown> }>(`/${endpoint}`, async (request, reply) => {
      const answer = kubernetesAnswer(endpoint, registry.run(probe), parseKubernetesQuery(request.query))
      return await sendText(reply, answer)
    })
    app.get<{ Params: { check: string } }>(`/${endpoint}/:check`, async (request, reply) => {
      const name = request.params.check
      const result = registry.names(probe).includes(name) ? registry.runOne(name) : undefined
      // Go's ServeMux answers an unknown path this way, and so does Kubernetes.
      if (result === undefined) return await sendText(reply, { statusCode: 404, body: '404 page not found\n' })
      return await sendText(reply, kubernetesSingleAnswer(result))
    })
  }
}

async function sendJson (reply: FastifyReply, answer: ProbeAnswer<unknown>): Promise<FastifyReply> {
  return await reply.status(answer.statusCode).header('cache-control', 'no-store').send(answer.body)
}

async function sendText (reply: FastifyReply, answer: ProbeAnswer<string>): Promise<FastifyReply> {
  return await reply.status(answer.statusCode).header('cache-control', 'no-store').type(TEXT).send(answer.body)
}
