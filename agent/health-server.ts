import Fastify, { type FastifyInstance } from 'fastify'
import { buildInfo, runtimeInfo, type BuildInfo } from '../shared/build-info.ts'
import type { HealthRegistry } from '../shared/health-registry.ts'
import { httpUrlFor } from '../shared/host-port.ts'
import { infoDocument } from '../shared/info.ts'
import { Lifecycle } from '../shared/lifecycle.ts'
import { registerMetricsRoute } from '../shared/metrics-route.ts'
import { registerProbeRoutes } from '../shared/probe-routes.ts'
import type { Agent } from './agent.ts'
import { createAgentHealth } from './health.ts'
import { AgentMetrics } from './metrics.ts'

export const AGENT_DESCRIPTION = 'Streams heartbeats of the node beside it to heartbeat aggregators over libp2p.'

export interface AgentHealthServerOptions {
  agent: Agent
  host: string
  port: number
  /** The effective configuration (secrets are redacted before it is shown). */
  config: unknown
  now?: () => number
  processMetrics?: boolean
  build?: BuildInfo
}

/**
 * `--health-listen`: the agent's probe endpoints and metrics, so it runs as a
 * Kubernetes sidecar. Liveness: its own loops run. Readiness: connected to at
 * least one target. `/health`: its components (chain source, each heartbeat
 * service). Same shapes as the aggregator's.
 */
export class AgentHealthServer {
  readonly lifecycle: Lifecycle
  readonly health: HealthRegistry
  readonly metrics: AgentMetrics
  private readonly options: AgentHealthServerOptions
  private readonly now: () => number
  private readonly app: FastifyInstance
  private address = ''

  constructor (options: AgentHealthServerOptions) {
    this.options = options
    this.now = options.now ?? Date.now
    const { agent } = options
    const build = options.build ?? buildInfo()
    this.lifecycle = new Lifecycle(this.now())
    this.health = createAgentHealth(agent, this.lifecycle)
    this.metrics = new AgentMetrics({
      status: () => agent.status(),
      chain: () => agent.chain(),
      health: this.health,
      build,
      runtime: runtimeInfo(),
      processMetrics: options.processMetrics,
    })
    this.app = Fastify({ logger: false, return503OnClosing: true, forceCloseConnections: true })
    this.app.addHook('onSend', async (_request, reply) => { reply.header('x-content-type-options', 'nosniff') })
    registerProbeRoutes(this.app, {
      registry: this.health,
      info: () => infoDocument({
        program: { name: 'heartbeat-agent', description: AGENT_DESCRIPTION },
        build,
        runtime: runtimeInfo(),
        peerId: agent.peerId,
        multiaddrs: agent.libp2p.getMultiaddrs().map((m) => m.toString()),
        startedAt: agent.startedAt,
        now: this.now(),
        config: options.config,
      }),
    })
    registerMetricsRoute(this.app, this.metrics)
  }

  /** The base URL, e.g. http://127.0.0.1:9464 (after start). */
  get url (): string {
    return this.address
  }

  async start (): Promise<void> {
    await this.app.listen({ host: this.options.host, port: this.options.port })
    const address = this.app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : this.options.port
    this.address = httpUrlFor(this.options.host, port)
  }

  /** The agent runs: readiness now follows the targets. */
  running (): void {
    this.lifecycle.running(this.now())
  }

  /** Stopping: readiness turns DOWN before the last beat goes out. */
  draining (): void {
    this.lifecycle.draining(this.now())
  }

  async close (): Promise<void> {
    this.lifecycle.stopped(this.now())
    await this.app.close()
  }
}
