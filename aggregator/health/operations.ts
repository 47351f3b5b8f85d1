import type { Libp2p } from '@libp2p/interface'
import type { FastifyRequest } from 'fastify'
import { buildInfo, runtimeInfo, type BuildInfo } from '../../shared/build-info.ts'
import { type Clock, instantOf, type Timer } from '../../shared/clock.ts'
import type { ComponentHealth } from '../../shared/health.ts'
import { HealthRegistry } from '../../shared/health-registry.ts'
import { infoDocument } from '../../shared/info.ts'
import { metricsRoute } from '../../shared/metrics-route.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { registerHealthRoutes } from '../http/health-routes.ts'
import type { HttpRegistry } from '../http/registry.ts'
import type { IngestStats } from '../ingest/stats.ts'
import type { Part } from '../parts.ts'
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
  /** The sampler's timer, and the stamps of phases and samples (wall clock). */
  clock: Clock
  processMetrics?: boolean
  build?: BuildInfo
  /** Whether a request may see nodes' component details on /api/v1/fleet/health (--details); never when absent. */
  showDetails?: (request: FastifyRequest) => boolean
  /** The store's health (undefined before it starts). */
  store?: () => ComponentHealth | undefined
  /** The aggregator holding a node's connection, for the per-node metrics. */
  holderOf?: (peerId: string) => string
}

/**
 * What operators and their tools see of the aggregator itself: its health
 * components (a registry of indicators), its lifecycle, its metrics, and the
 * routes that serve them. A part, listed last: `start` (everything listens:
 * ready), `drain` (readiness turns DOWN), `stop`. Adding a component is one
 * `health.register` line.
 */
export class AggregatorOperations implements Part {
  readonly name = 'operations'
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

  private sampler: Timer | undefined

  constructor (options: OperationsOptions) {
    this.options = options
    this.build = options.build ?? buildInfo()
    this.lifecycle = new Lifecycle(options.startedAt)
    const { stats } = options
    const clock = options.clock

    // Liveness: the process answers. Never the fleet, never a dependency.
    this.health.register('ping', () => ({ status: 'ready' }), ['liveness'])
    // Readiness and health: can it take agents and serve the view?
    this.health.register('lifecycle', () => this.lifecycle.health(), ['health', 'readiness'])
    this.health.register('libp2p', () => libp2pHealth(options.libp2p()), ['health', 'readiness'])
    this.health.register('http', () => { const h = options.http(); return httpHealth(h.listening, h.url) }, ['health', 'readiness'])
    // Health only: rejecting hostile input degrades the aggregator, it does not take it out of service.
    // The reject window is an interval: monotonic.
    this.health.register('ingest', () => this.ingestWindow.evaluate(clock.monotonic(), ingestTotals(stats)), ['health'])
    // Health only: an aggregator that cannot write history still takes heartbeats and serves the live view (docs/store.md).
    const store = options.store
    if (store !== undefined) this.health.register('store', () => store() ?? { status: 'not_ready', details: { reason: 'the store has not started' } }, ['health'])

    this.metrics = new AggregatorMetrics({
      fleet: options.fleet,
      stats,
      health: this.health,
      connections: () => options.libp2p()?.getConnections().length,
      build: this.build,
      runtime: runtimeInfo(),
      processMetrics: options.processMetrics,
      now: () => instantOf(clock),
      holderOf: options.holderOf,
    })
  }

  /** The probe, fleet-health and metrics routes. */
  routes (http: HttpRegistry): void {
    registerHealthRoutes(http, {
      showDetails: this.options.showDetails,
      registry: this.health,
      info: () => this.info(),
      fleet: this.options.fleet,
      aggregatorPeerId: () => this.options.libp2p()?.peerId.toString() ?? '',
      releaseId: this.build.version,
      clock: this.options.clock,
    })
    http.route(metricsRoute(this.metrics))
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
      now: this.options.clock.wall(),
      config: this.options.config(),
    })
  }

  /** Everything listens: ready. Starts sampling the ingest window. */
  start (): void {
    const { clock, stats } = this.options
    this.lifecycle.running(clock.wall())
    const sample = (): void => { this.ingestWindow.sample(clock.monotonic(), ingestTotals(stats)) }
    // The first sample is the baseline: what comes in from now on is judged against it.
    sample()
    this.sampler ??= clock.every(INGEST_HEALTH_SAMPLE_MS, sample, { unref: true })
  }

  /** Readiness turns DOWN; everything still serves. */
  drain (): void {
    this.lifecycle.draining(this.options.clock.wall())
  }

  stop (): void {
    this.lifecycle.stopped(this.options.clock.wall())
    this.sampler?.cancel()
    this.sampler = undefined
  }
}

function ingestTotals (stats: IngestStats): { accepted: number, rejected: number } {
  return { accepted: stats.accepted, rejected: stats.totalRejected() }
}
