import type { Libp2p } from '@libp2p/interface'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { buildInfo, runtimeInfo, type BuildInfo } from '../../shared/build-info.ts'
import { HealthRegistry } from '../../shared/health-registry.ts'
import { infoDocument } from '../../shared/info.ts'
import { registerMetricsRoute } from '../../shared/metrics-route.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { registerHealthRoutes } from '../http/health-routes.ts'
import type { IngestStats } from '../ingest/stats.ts'
import { AggregatorMetrics } from '../metrics/aggregator-metrics.ts'
import {
  INGEST_AFFECTED_REJECT_RATIO, INGEST_HEALTH_MIN_ATTEMPTS, INGEST_HEALTH_MIN_SAMPLE_SPACING_MS, INGEST_HEALTH_SAMPLE_MS,
  INGEST_HEALTH_WINDOW_MS,
} from './constants.ts'
import { httpHealth, libp2pHealth } from './indicators.ts'
import { IngestRejectWindow } from './ingest-window.ts'
import { Lifecycle } from '../../shared/lifecycle.ts'

export const AGGREGATOR_DESCRIPTION = 'Takes heartbeats from agents over libp2p and serves the fleet\'s health.'

export interface OperationsOptions {
  fleet: FleetState
  stats: IngestStats
  libp2p: () => Libp2p | undefined
  http: () => { listening: boolean, url: string }
  /** The effective configuration (secrets are redacted before it is shown). */
  config: () => unknown
  startedAt: number
  now: () => number
  processMetrics?: boolean
  build?: BuildInfo
}

/**
 * What operators and their tools see of the aggregator itself: its health
 * components (a registry of indicators), its lifecycle, its metrics, and the
 * routes that serve them. The aggregator calls `routes`, `started`,
 * `draining` and `stopped`; adding a component is one `health.register` line.
 */
export class AggregatorOperations {
  readonly health = new HealthRegistry()
  readonly lifecycle: Lifecycle
  readonly metrics: AggregatorMetrics
  readonly build: BuildInfo
  private readonly options: OperationsOptions
  private readonly ingestWindow = new IngestRejectWindow({
    windowMs: INGEST_HEALTH_WINDOW_MS,
    affectedRatio: INGEST_AFFECTED_REJECT_RATIO,
    minAttempts: INGEST_HEALTH_MIN_ATTEMPTS,
    minSampleSpacingMs: INGEST_HEALTH_MIN_SAMPLE_SPACING_MS,
  })

  private sampler: NodeJS.Timeout | undefined

  constructor (options: OperationsOptions) {
    this.options = options
    this.build = options.build ?? buildInfo()
    this.lifecycle = new Lifecycle(options.startedAt)
    const { now, stats } = options

    // Liveness: the process answers. Never the fleet, never a dependency.
    this.health.register('ping', () => ({ status: 'ready' }), ['liveness'])
    // Readiness and health: can it take agents and serve the view?
    this.health.register('lifecycle', () => this.lifecycle.health(), ['health', 'readiness'])
    this.health.register('libp2p', () => libp2pHealth(options.libp2p()), ['health', 'readiness'])
    this.health.register('http', () => { const h = options.http(); return httpHealth(h.listening, h.url) }, ['health', 'readiness'])
    // Health only: rejecting hostile input degrades the aggregator, it does not take it out of service.
    this.health.register('ingest', () => this.ingestWindow.evaluate(now(), ingestTotals(stats)), ['health'])

    this.metrics = new AggregatorMetrics({
      fleet: options.fleet,
      stats,
      health: this.health,
      connections: () => options.libp2p()?.getConnections().length,
      build: this.build,
      runtime: runtimeInfo(),
      processMetrics: options.processMetrics,
      now: options.now,
    })
  }

  /**
   * Registers the probe, fleet-health and metrics routes on the aggregator's HTTP server.
   * `showDetails` says whether a request may see nodes' component details (--details).
   */
  routes (app: FastifyInstance, access: { showDetails?: (request: FastifyRequest) => boolean } = {}): void {
    registerHealthRoutes(app, {
      showDetails: access.showDetails,
      registry: this.health,
      info: () => this.info(),
      fleet: this.options.fleet,
      aggregatorPeerId: () => this.options.libp2p()?.peerId.toString() ?? '',
      releaseId: this.build.version,
      now: this.options.now,
    })
    registerMetricsRoute(app, this.metrics)
  }

  info (): Record<string, unknown> {
    const node = this.options.libp2p()
    return infoDocument({
      program: { name: 'heartbeat-aggregator', description: AGGREGATOR_DESCRIPTION },
      build: this.build,
      runtime: runtimeInfo(),
      peerId: node?.peerId.toString(),
      multiaddrs: node?.getMultiaddrs().map((m) => m.toString()) ?? [],
      startedAt: this.options.startedAt,
      now: this.options.now(),
      config: this.options.config(),
    })
  }

  /** Everything listens: ready. Starts sampling the ingest window. */
  started (): void {
    this.lifecycle.running(this.options.now())
    const sample = (): void => { this.ingestWindow.sample(this.options.now(), ingestTotals(this.options.stats)) }
    // The first sample is the baseline: what comes in from now on is judged against it.
    sample()
    this.sampler ??= setInterval(sample, INGEST_HEALTH_SAMPLE_MS).unref()
  }

  /** Readiness turns DOWN; everything still serves. */
  draining (): void {
    this.lifecycle.draining(this.options.now())
  }

  stopped (): void {
    this.lifecycle.stopped(this.options.now())
    clearInterval(this.sampler)
    this.sampler = undefined
  }
}

function ingestTotals (stats: IngestStats): { accepted: number, rejected: number } {
  return { accepted: stats.accepted, rejected: stats.totalRejected() }
}
