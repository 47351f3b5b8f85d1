import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Instant } from '../../shared/clock.ts'
import type { BuildInfo, RuntimeInfo } from '../../shared/build-info.ts'
import { HEALTH_STATUSES } from '../../shared/health.ts'
import type { HealthRegistry } from '../../shared/health-registry.ts'
import { registerProcessMetrics } from '../../shared/process-metrics.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { NODE_STATUSES } from '../fleet/types.ts'
import { fleetViews } from '../fleet/view.ts'
import type { IngestStats } from '../ingest/stats.ts'
import { sanitizeLabelValue } from '../../shared/metric-labels.ts'
import { INGEST_DURATION_BUCKETS_SECONDS, METRIC_PREFIX as P } from './constants.ts'
import { fleetSnapshot, type FleetSnapshot } from './fleet-snapshot.ts'

export interface AggregatorMetricsOptions {
  fleet: FleetState
  stats: IngestStats
  /** The aggregator's own health (its components become a state set). */
  health: HealthRegistry
  /** Open libp2p connections, or undefined before the host runs. */
  connections: () => number | undefined
  build: BuildInfo
  runtime: RuntimeInfo
  /** Node.js process metrics (CPU, memory, event loop, GC); on by default. */
  processMetrics?: boolean
  now: () => Instant
  /** The aggregator holding a node's connection (a shared store); this one's name when absent. */
  holderOf?: (peerId: string) => string
}

/**
 * The aggregator's Prometheus metrics, on a registry of its own (never the
 * global one: two aggregators in one process, as in tests, stay apart).
 * Fleet and per-node values are computed when Prometheus scrapes, from one
 * snapshot per scrape, never per heartbeat; per-node series are rebuilt on
 * each scrape, so a node that leaves the fleet leaves the metrics and the
 * series count stays bounded by the node count. Labels carry identities
 * (peer id, sanitised nickname, component name), never details.
 */
export class AggregatorMetrics {
  readonly registry = new Registry()
  private readonly options: AggregatorMetricsOptions
  private readonly ingestDuration: Histogram
  private snapshot: FleetSnapshot | undefined

  constructor (options: AggregatorMetricsOptions) {
    this.options = options
    const registers = [this.registry]
    if (options.processMetrics !== false) registerProcessMetrics(this.registry)
    const fleet = (): FleetSnapshot => this.snapshot ?? fleetSnapshot(fleetViews(options.fleet, options.now()))

    // Fleet gauges.
    const byStatus: Gauge = new Gauge({
      name: `${P}fleet_nodes`, help: 'Nodes in the fleet by derived status.', labelNames: ['status'], registers,
      collect: () => {
        const counts = fleet().byStatus
        for (const status of NODE_STATUSES) byStatus.set({ status }, counts[status])
      },
    })
    const connected: Gauge = new Gauge({
      name: `${P}fleet_nodes_connected`, help: 'Nodes with an open libp2p connection to their aggregator (with a shared store, the whole fleet\'s).', registers,
      collect: () => { connected.set(fleet().connected) },
    })
    const inConsensus: Gauge = new Gauge({
      name: `${P}fleet_nodes_in_consensus`, help: 'Nodes on the heaviest head of their network.', labelNames: ['network'], registers,
      collect: () => { setPerNetwork(inConsensus, fleet(), (n) => n.inConsensus) },
    })
    const inDispute: Gauge = new Gauge({
      name: `${P}fleet_nodes_in_dispute`, help: 'Nodes of a network not on its heaviest head.', labelNames: ['network'], registers,
      collect: () => { setPerNetwork(inDispute, fleet(), (n) => n.inDispute) },
    })
    const heaviestHeight: Gauge = new Gauge({
      name: `${P}fleet_heaviest_height`, help: 'Height of the heaviest head seen on each network.', labelNames: ['network'], registers,
      collect: () => { setPerNetwork(heaviestHeight, fleet(), (n) => n.height) },
    })
    const catchingUp: Gauge = new Gauge({
      name: `${P}fleet_nodes_catching_up`, help: 'Nodes one block behind a height their network reached less than a block time ago (not in dispute).', labelNames: ['network'], registers,
      collect: () => { setPerNetwork(catchingUp, fleet(), (n) => n.catchingUp) },
    })
    const behindClock: Gauge = new Gauge({
      name: `${P}fleet_behind_clock`, help: 'Per network, 1 when every reporting node has a head older than its head-age threshold (FleetBehindClock).', labelNames: ['network'], registers,
      collect: () => { setPerNetwork(behindClock, fleet(), (n) => n.behindClock === undefined ? undefined : (n.behindClock ? 1 : 0)) },
    })
    const networkHeadAge: Gauge = new Gauge({
      name: `${P}fleet_head_age_seconds`, help: 'Per network, the freshest head age among its reporting nodes (block time against the agents\' clocks, aged by the aggregator\'s monotonic clock).', labelNames: ['network'], registers,
      collect: () => { setPerNetwork(networkHeadAge, fleet(), (n) => n.headAgeSeconds) },
    })
    const expectedHeight: Gauge = new Gauge({
      name: `${P}fleet_expected_height`, help: 'Per Filecoin network with a known genesis, the height the clock says (as lotus_chain_node_height_expected).', labelNames: ['network'], registers,
      collect: () => { setPerNetwork(expectedHeight, fleet(), (n) => n.expectedHeight) },
    })

    // Per node: rebuilt on each scrape from the snapshot.
    const nodeLabels = ['peer_id', 'nickname']
    const height: Gauge = new Gauge({
      name: `${P}node_height`, help: 'Chain height the node last reported.', labelNames: nodeLabels, registers,
      collect: () => { height.reset(); for (const n of fleet().nodes) height.set({ peer_id: n.peerId, nickname: n.nickname }, n.height) },
    })
    const lag: Gauge = new Gauge({
      name: `${P}node_lag`, help: 'Blocks the node is behind the heaviest height of its network (0 when on it).', labelNames: nodeLabels, registers,
      collect: () => { lag.reset(); for (const n of fleet().nodes) lag.set({ peer_id: n.peerId, nickname: n.nickname }, n.lag) },
    })
    // A timestamp, not an age, as Prometheus prefers: `time() - x` is the head's age, and HeadStuck's rule reads it.
    const headChanged: Gauge = new Gauge({
      name: `${P}node_head_changed_timestamp_seconds`, help: 'When the head of the node last changed (aggregator clock, Unix seconds).', labelNames: nodeLabels, registers,
      collect: () => { headChanged.reset(); for (const n of fleet().nodes) headChanged.set({ peer_id: n.peerId, nickname: n.nickname }, n.headChangedSeconds) },
    })
    // An age, not a timestamp: it is measured without the aggregator's wall clock (and so cannot be time() - x).
    const headAge: Gauge = new Gauge({
      name: `${P}node_head_age_seconds`, help: 'How old the head of the node is: its block\'s time against the agent\'s send time, aged since by the aggregator\'s monotonic clock (nodes whose head time is known).', labelNames: nodeLabels, registers,
      collect: () => { headAge.reset(); for (const n of fleet().nodes) if (n.headAgeSeconds !== undefined) headAge.set({ peer_id: n.peerId, nickname: n.nickname }, n.headAgeSeconds) },
    })
    const lastHeartbeat: Gauge = new Gauge({
      name: `${P}node_last_heartbeat_timestamp_seconds`, help: 'When the last heartbeat of the node arrived (aggregator clock, Unix seconds).', labelNames: nodeLabels, registers,
      collect: () => { lastHeartbeat.reset(); for (const n of fleet().nodes) lastHeartbeat.set({ peer_id: n.peerId, nickname: n.nickname }, n.lastHeartbeatSeconds) },
    })
    const nodeConnected: Gauge = new Gauge({
      name: `${P}node_connected`, help: '1 while the node has an open libp2p connection to its aggregator (node_info\'s aggregator label).', labelNames: nodeLabels, registers,
      collect: () => { nodeConnected.reset(); for (const n of fleet().nodes) nodeConnected.set({ peer_id: n.peerId, nickname: n.nickname }, n.connected ? 1 : 0) },
    })
    const identityConflict: Gauge = new Gauge({
      name: `${P}node_identity_conflict`, help: '1 while the node\'s peer id is used by two agents at once (docs/fleet-semantics.md), else 0.', labelNames: nodeLabels, registers,
      collect: () => { identityConflict.reset(); for (const n of fleet().nodes) identityConflict.set({ peer_id: n.peerId, nickname: n.nickname }, n.identityConflict ? 1 : 0) },
    })
    const nodeStatus: Gauge = new Gauge({
      name: `${P}node_status`, help: 'Derived status of the node as a state set: 1 for the current status, 0 for the others.', labelNames: [...nodeLabels, 'status'], registers,
      collect: () => {
        nodeStatus.reset()
        for (const n of fleet().nodes) {
          for (const status of NODE_STATUSES) nodeStatus.set({ peer_id: n.peerId, nickname: n.nickname, status }, n.status === status ? 1 : 0)
        }
      },
    })
    const componentStatus: Gauge = new Gauge({
      name: `${P}node_component_status`, help: 'Status of each component a node reports, as a state set.', labelNames: [...nodeLabels, 'component', 'status'], registers,
      collect: () => {
        componentStatus.reset()
        for (const n of fleet().nodes) {
          for (const c of n.components) {
            for (const status of HEALTH_STATUSES) componentStatus.set({ peer_id: n.peerId, nickname: n.nickname, component: c.name, status }, c.status === status ? 1 : 0)
          }
        }
      },
    })
    const nodeInfo: Gauge = new Gauge({
      // `aggregator`: which aggregator of a shared store holds the node. Here only, so the other series of a node that moves stay one series.
      name: `${P}node_info`, help: 'Always 1; labels describe the node (join on peer_id), and the aggregator holding its connection.', labelNames: [...nodeLabels, 'network', 'miner_address', 'agent_version', 'protocol', 'aggregator'], registers,
      collect: () => {
        nodeInfo.reset()
        const holderOf = options.holderOf ?? (() => '')
        for (const n of fleet().nodes) {
          nodeInfo.set({ peer_id: n.peerId, nickname: n.nickname, network: n.network, miner_address: n.minerAddress, agent_version: n.agentVersion, protocol: n.protocol, aggregator: sanitizeLabelValue(holderOf(n.peerId)) }, 1)
        }
      },
    })

    // Ingest: counters mirror IngestStats (one source of truth), read at scrape time.
    const { stats } = options
    const received: Counter = new Counter({
      name: `${P}ingest_frames_received_total`, help: 'Heartbeat frames read from agents.', registers,
      collect: () => { received.reset(); received.inc(stats.received) },
    })
    const accepted: Counter = new Counter({
      name: `${P}ingest_frames_accepted_total`, help: 'Heartbeat frames validated and folded into the fleet.', registers,
      collect: () => { accepted.reset(); accepted.inc(stats.accepted) },
    })
    const rejected: Counter = new Counter({
      name: `${P}ingest_rejected_total`, help: 'Heartbeat streams refused, by reason (a bad, oversized or missing frame ends its stream).', labelNames: ['reason'], registers,
      collect: () => { rejected.reset(); for (const [reason, n] of stats.rejected) rejected.inc({ reason }, n) },
    })
    const streams: Counter = new Counter({
      name: `${P}ingest_streams_opened_total`, help: 'Heartbeat streams agents opened.', registers,
      collect: () => { streams.reset(); streams.inc(stats.streamsOpened) },
    })
    this.ingestDuration = new Histogram({
      name: `${P}ingest_duration_seconds`, help: 'Time from reading a heartbeat frame to folding it into the fleet.', buckets: INGEST_DURATION_BUCKETS_SECONDS, registers,
    })

    // The aggregator itself.
    const own: Gauge = new Gauge({
      name: `${P}aggregator_component_status`, help: "Status of the aggregator's own components (as GET /health reports them), as a state set.", labelNames: ['component', 'status'], registers,
      collect: () => {
        own.reset()
        for (const { name, health } of options.health.run('health')) {
          for (const status of HEALTH_STATUSES) own.set({ component: name, status }, health.status === status ? 1 : 0)
        }
      },
    })
    const libp2pConnections: Gauge = new Gauge({
      name: `${P}aggregator_libp2p_connections`, help: 'Open libp2p connections of the aggregator.', registers,
      collect: () => { libp2pConnections.set(options.connections() ?? 0) },
    })
    const build = new Gauge({
      name: `${P}aggregator_build_info`, help: 'Always 1; labels describe the build and runtime.', labelNames: ['version', 'commit', 'node_version', 'libp2p_version'], registers,
    })
    build.set({ version: options.build.version, commit: options.build.commit ?? 'unknown', node_version: options.runtime.node, libp2p_version: options.runtime.libp2p }, 1)
  }

  /** Records the ingest time of one frame (read to fold). */
  observeIngestSeconds (seconds: number): void {
    this.ingestDuration.observe(seconds)
  }

  get contentType (): string {
    return this.registry.contentType
  }

  /** The exposition text: one fleet snapshot for the whole scrape. */
  async render (): Promise<string> {
    this.snapshot = fleetSnapshot(fleetViews(this.options.fleet, this.options.now()))
    try {
      return await this.registry.metrics()
    } finally {
      this.snapshot = undefined
    }
  }
}

/** One series per network; a network whose value is unknown (undefined) has none. */
function setPerNetwork (gauge: Gauge, snapshot: FleetSnapshot, value: (n: NonNullable<FleetSnapshot['networks']>[number]) => number | undefined): void {
  gauge.reset()
  for (const n of snapshot.networks ?? []) {
    const v = value(n)
    if (v !== undefined) gauge.set({ network: n.network }, v)
  }
}
