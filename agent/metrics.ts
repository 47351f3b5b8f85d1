import { Counter, Gauge, Registry } from 'prom-client'
import type { BuildInfo, RuntimeInfo } from '../shared/build-info.ts'
import { HEALTH_STATUSES } from '../shared/health.ts'
import type { HealthRegistry } from '../shared/health-registry.ts'
import { registerProcessMetrics } from '../shared/process-metrics.ts'
import type { ChainSnapshot } from './chain-monitor.ts'
import type { HeartbeatServiceStatus } from './service.ts'

const P = 'heartbeat_agent_'

export interface AgentMetricsOptions {
  status: () => HeartbeatServiceStatus[]
  chain: () => ChainSnapshot
  health: HealthRegistry
  build: BuildInfo
  runtime: RuntimeInfo
  processMetrics?: boolean
}

/**
 * The agent's Prometheus metrics, read from its services and chain monitor
 * when scraped (the services already count; nothing is counted twice).
 * Series are labelled by service (`primary`, `alerts`), a handful per agent.
 */
export class AgentMetrics {
  readonly registry = new Registry()

  constructor (options: AgentMetricsOptions) {
    const registers = [this.registry]
    if (options.processMetrics !== false) registerProcessMetrics(this.registry)
    const perService = (fill: (s: HeartbeatServiceStatus) => void): void => { for (const s of options.status()) fill(s) }

    const beats: Counter = new Counter({
      name: `${P}beats_sent_total`, help: 'Heartbeats written to the target, per heartbeat service.', labelNames: ['service'], registers,
      collect: () => { beats.reset(); perService((s) => { beats.inc({ service: s.name }, s.beatsSent) }) },
    })
    const failures: Counter = new Counter({
      name: `${P}connect_failures_total`, help: 'Failed attempts to connect to the target, per heartbeat service.', labelNames: ['service'], registers,
      collect: () => { failures.reset(); perService((s) => { failures.inc({ service: s.name }, s.connectFailures) }) },
    })
    const connected: Gauge = new Gauge({
      name: `${P}connected`, help: '1 while the heartbeat stream of the service is open.', labelNames: ['service'], registers,
      collect: () => { connected.reset(); perService((s) => { connected.set({ service: s.name }, s.connected ? 1 : 0) }) },
    })
    const target: Gauge = new Gauge({
      name: `${P}current_target`, help: 'Always 1; the target label is the multiaddr the service sends to.', labelNames: ['service', 'target'], registers,
      collect: () => { target.reset(); perService((s) => { target.set({ service: s.name, target: s.target }, 1) }) },
    })
    const lastSend: Gauge = new Gauge({
      name: `${P}last_send_timestamp_seconds`, help: 'When the service last wrote a heartbeat (Unix seconds); absent before the first.', labelNames: ['service'], registers,
      collect: () => {
        lastSend.reset()
        perService((s) => { if (s.lastSentAt !== undefined) lastSend.set({ service: s.name }, s.lastSentAt / 1000) })
      },
    })
    // The agent's own view of its aggregators, so a Prometheus beside the nodes can alert when one is gone
    // (docs/operations.md). Only targets the agent has tried: a standby nobody needed has no state.
    const targetUp: Gauge = new Gauge({
      name: `${P}target_up`, help: '1 while the last word about the target is an open heartbeat stream, 0 since an attempt failed or its stream was lost.', labelNames: ['service', 'target'], registers,
      collect: () => {
        targetUp.reset()
        perService((s) => { for (const t of s.targets) if (t.up !== null) targetUp.set({ service: s.name, target: t.target }, t.up ? 1 : 0) })
      },
    })
    const unreachable: Gauge = new Gauge({
      name: `${P}target_unreachable_seconds`, help: 'How long the target has been without an open heartbeat stream (0 while up).', labelNames: ['service', 'target'], registers,
      collect: () => {
        unreachable.reset()
        perService((s) => { for (const t of s.targets) if (t.up !== null) unreachable.set({ service: s.name, target: t.target }, t.unreachableForMs / 1000) })
      },
    })
    const height: Gauge = new Gauge({
      name: `${P}chain_height`, help: 'Chain height of the last good reading from the node; absent before the first.', registers,
      collect: () => {
        height.reset()
        const reading = options.chain().reading
        if (reading !== undefined) height.set(reading.height)
      },
    })
    const components: Gauge = new Gauge({
      name: `${P}component_status`, help: "Status of the agent's components (as its GET /health reports them), as a state set.", labelNames: ['component', 'status'], registers,
      collect: () => {
        components.reset()
        for (const { name, health } of options.health.run('health')) {
          for (const status of HEALTH_STATUSES) components.set({ component: name, status }, health.status === status ? 1 : 0)
        }
      },
    })
    const build = new Gauge({
      name: `${P}build_info`, help: 'Always 1; labels describe the build and runtime.', labelNames: ['version', 'commit', 'node_version', 'libp2p_version'], registers,
    })
    build.set({ version: options.build.version, commit: options.build.commit ?? 'unknown', node_version: options.runtime.node, libp2p_version: options.runtime.libp2p }, 1)
  }

  get contentType (): string {
    return this.registry.contentType
  }

  async render (): Promise<string> {
    return await this.registry.metrics()
  }
}
