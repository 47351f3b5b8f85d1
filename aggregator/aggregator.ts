import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { FastifyInstance } from 'fastify'
import { sleep } from '../shared/abort.ts'
import { loadOrCreateKey } from '../shared/identity.ts'
import { createLogger, type Logger } from '../shared/log.ts'
import { DEFAULT_MAX_FRAME_BYTES, HEARTBEAT_PROTOCOL, LEGACY_HEARTBEAT_PROTOCOL } from '../shared/protocol.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import { Alerting } from './alerts/alerting.ts'
import { type AlertingConfig, defaultAlertingConfig } from './alerts/config.ts'
import { registerAlertMetrics } from './alerts/metrics.ts'
import { DISCONNECT_SETTLE_MS, MAX_HEARTBEAT_STREAMS_PER_CONNECTION, PEER_KEY_FILE, STATUS_TICK_MS } from './constants.ts'
import { FleetState } from './fleet/fleet-state.ts'
import { DEFAULT_STATUS_RULES, type StatusRules } from './fleet/status.ts'
import type { FleetEvent } from './fleet/types.ts'
import { DEFAULT_SHUTDOWN_DRAIN_MS } from './health/constants.ts'
import { AggregatorOperations } from './health/operations.ts'
import { createAggregatorHost, type AdmissionLimits } from './host.ts'
import { fleetViews } from './fleet/view.ts'
import { AdminAuth } from './http/admin-auth.ts'
import { buildHttpServer } from './http/server.ts'
import { AbuseGuard, type AbuseLimits, type BeatAdmission, type PeerListsConfig } from './abuse-guard.ts'
import { DEFAULT_DETAILS_MODE, type DetailsMode } from './fleet/exposure.ts'
import { DEFAULT_FEED_LIMITS, FeedStats, type FeedLimits } from './http/feed-guard.ts'
import { historyRoutes, withUptime } from './http/history-routes.ts'
import { detailsDecider } from './http/security.ts'
import { createHeartbeatHandler } from './ingest.ts'
import { IngestStats } from './ingest-stats.ts'
import { createLegacyHeartbeatHandler } from './legacy-ingest.ts'
import { networkAdmission } from './network-filter.ts'
import { FleetStore, storeFile, type StoreSettings } from './store/index.ts'

export interface AggregatorOptions {
  /** libp2p listen multiaddrs. */
  listen: string[]
  http: { host: string, port: number }
  /** Holds the peer key and the store (fleet.sqlite). */
  dataDir: string
  /** Store settings (flush interval, retention, sampling); defaults in store/constants.ts. */
  store?: Partial<StoreSettings>
  /** Overrides the key in the data dir (tests). */
  privateKey?: PrivateKey
  maxFrameBytes?: number
  /** Admission limits of the libp2p host (defaults in constants.ts). */
  admission?: AdmissionLimits
  statusRules?: StatusRules
  /** Accept only heartbeats of this network (genesis CID or chain id); others are refused and counted. */
  network?: string
  /** Nodes silent for longer than this leave the view (default 7 days). */
  forgetAfterMs?: number
  /** Rules and receivers; the built-in rules and the log when absent. */
  alerting?: AlertingConfig
  /** Bearer token of the admin API (maintenance); the admin API is off without it. */
  adminToken?: string
  /** The URL people reach the page at, for links in alerts; the HTTP listen address when absent. */
  publicUrl?: string
  logger?: Logger
  now?: () => number
  /** On shutdown, readiness turns DOWN this long before the listeners close. */
  shutdownDrainMs?: number
  /** Node.js process metrics on /metrics (default on). */
  processMetrics?: boolean
  /** Who may connect: --allow-peers, --deny-peers (reloaded by reloadPeerLists). */
  peerLists?: PeerListsConfig
  /** Bounds on peers (per IP, per peer, beat rate, node count...); defaults in constants.ts. */
  limits?: Partial<AbuseLimits>
  /** What the HTTP API shows to whom, and the live feed's bounds. */
  exposure?: ExposureOptions
}

export interface ExposureOptions {
  /** --details: who sees component details and remote addresses. */
  details?: DetailsMode
  /** --cors-origin; none by default. */
  corsOrigins?: string[]
  feed?: Partial<FeedLimits>
}

/**
 * The aggregator: a libp2p host that takes heartbeat streams, the fleet
 * state they fold into, and the HTTP views of it.
 */
export class Aggregator {
  readonly fleet: FleetState
  readonly stats = new IngestStats()
  /** Admission, connection bounds and beat budgets. */
  readonly guard: AbuseGuard
  readonly feedStats = new FeedStats()
  readonly startedAt: number
  /** Own health, lifecycle, metrics and their routes (probes, /metrics). */
  readonly operations: AggregatorOperations
  readonly alerting: Alerting
  private readonly options: AggregatorOptions
  private readonly log: Logger
  private readonly now: () => number
  private libp2pNode: Libp2p | undefined
  private fleetStore: FleetStore | undefined
  private httpServer: FastifyInstance | undefined
  private ticker: NodeJS.Timeout | undefined
  /** Disconnects waiting for their settle time (cleared on stop: nothing folds after it). */
  private readonly pendingDisconnects = new Set<NodeJS.Timeout>()
  private stopping = false
  private httpUrl = ''

  constructor (options: AggregatorOptions) {
    this.options = options
    this.now = options.now ?? Date.now
    this.startedAt = this.now()
    this.log = options.logger ?? createLogger({ name: 'heartbeat-aggregator' })
    this.fleet = new FleetState(options.statusRules ?? DEFAULT_STATUS_RULES, { forgetAfterMs: options.forgetAfterMs, network: options.network })
    this.guard = new AbuseGuard({ limits: options.limits, peerLists: options.peerLists, logger: this.log, now: this.now })
    this.operations = new AggregatorOperations({
      fleet: this.fleet,
      stats: this.stats,
      libp2p: () => this.libp2pNode,
      http: () => ({ listening: this.httpServer?.server.listening ?? false, url: this.httpUrl }),
      config: () => ({ ...this.options, shutdownDrainMs: this.options.shutdownDrainMs ?? DEFAULT_SHUTDOWN_DRAIN_MS }),
      startedAt: this.startedAt,
      now: this.now,
      processMetrics: options.processMetrics,
    })
    this.alerting = new Alerting({
      config: options.alerting ?? defaultAlertingConfig(),
      snapshot: () => fleetViews(this.fleet, this.now()),
      announcedMaintenance: (peerId) => {
        const record = this.fleet.get(peerId)
        return record === undefined ? undefined : { announced: record.beat.maintenance, sentAt: record.beat.sentAt, receivedAt: record.lastSeen }
      },
      source: { peerId: () => this.libp2pNode?.peerId.toString() ?? '', publicUrl: () => this.options.publicUrl ?? this.httpUrl },
      logger: this.log,
    })
    registerAlertMetrics(this.operations.metrics.registry, this.alerting.engine)
  }

  get libp2p (): Libp2p {
    if (this.libp2pNode === undefined) throw new Error('aggregator not started')
    return this.libp2pNode
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  /** The embedded store (history, uptime, the roster that survives restarts). */
  get store (): FleetStore {
    if (this.fleetStore === undefined) throw new Error('aggregator not started')
    return this.fleetStore
  }

  multiaddrs (): string[] {
    return this.libp2p.getMultiaddrs().map((m) => m.toString())
  }

  /** The base URL of the HTTP server, e.g. http://127.0.0.1:8080 */
  get url (): string {
    return this.httpUrl
  }

  apply (event: FleetEvent): void {
    this.fleet.apply(event, this.now())
  }

  async start (): Promise<void> {
    await mkdir(this.options.dataDir, { recursive: true, mode: 0o700 })
    // The store comes first: known nodes are back (as not heard from) before any agent can dial in.
    const store = await FleetStore.open({ ...this.options.store, file: storeFile(this.options.dataDir), now: this.now, logger: this.log })
    this.fleetStore = store
    const { restored } = store.attach(this.fleet)
    this.log.info({ file: store.file, restored }, `store opened; ${restored} known node${restored === 1 ? '' : 's'} restored`)
    const privateKey = this.options.privateKey ?? (await loadOrCreateKey(join(this.options.dataDir, PEER_KEY_FILE))).key
    await this.guard.loadPeerLists()
    const node = await createAggregatorHost({
      privateKey,
      listen: this.options.listen,
      ...this.options.admission,
      connectionGater: this.guard.connectionGater((peer) => this.libp2pNode?.getConnections(peer).length ?? 0),
    })
    this.libp2pNode = node
    node.addEventListener('peer:connect', (e) => { this.apply({ type: 'connected', peerId: e.detail.toString() }) })
    node.addEventListener('peer:disconnect', (e) => {
      const peerId = e.detail
      if (this.stopping) return
      // Frames already received on the closing streams (an agent's last "stopping" beat) fold first: the
      // disconnect is applied a moment later, and only if the peer has not come back meanwhile.
      const timer = setTimeout(() => {
        this.pendingDisconnects.delete(timer)
        if (node.getConnections(peerId).length === 0) this.apply({ type: 'disconnected', peerId: peerId.toString() })
      }, DISCONNECT_SETTLE_MS)
      this.pendingDisconnects.add(timer)
    })
    const admit = networkAdmission(this.options.network)
    await node.handle(HEARTBEAT_PROTOCOL, createHeartbeatHandler({
      maxFrameBytes: this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      apply: (event) => { this.apply(event) },
      stats: this.stats,
      logger: this.log,
      observeIngestSeconds: (seconds) => { this.operations.metrics.observeIngestSeconds(seconds) },
      admit,
      firstFrameTimeoutMs: this.guard.limits.firstFrameTimeoutMs,
      admitBeat: (peerId) => this.admitBeat(peerId),
    }), { maxInboundStreams: MAX_HEARTBEAT_STREAMS_PER_CONNECTION })
    await node.handle(LEGACY_HEARTBEAT_PROTOCOL, createLegacyHeartbeatHandler({
      maxLineBytes: this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      apply: (event) => { this.apply(event) },
      stats: this.stats,
      logger: this.log,
      admit,
      now: this.now,
      firstFrameTimeoutMs: this.guard.limits.firstFrameTimeoutMs,
      admitBeat: (peerId) => this.admitBeat(peerId),
    }), { maxInboundStreams: MAX_HEARTBEAT_STREAMS_PER_CONNECTION })
    this.fleet.subscribe({
      onStatusChanged: (change) => {
        const nickname = this.fleet.get(change.peerId)?.beat.nickname
        this.log.info({ peer: change.peerId, nickname, from: change.from, to: change.to, reason: change.reason }, `node ${nickname !== undefined && nickname !== '' ? nickname : change.peerId} is ${change.to}`)
      },
      onNodeForgotten: (peerId) => {
        this.log.info({ peer: peerId, forgetAfterMs: this.fleet.forgetAfterMs }, 'forgot a node silent for longer than forget-after')
      },
    })
    this.fleet.subscribe({ onTick: (now) => { this.alerting.onTick(now) } })
    this.ticker = setInterval(() => { this.fleet.tick(this.now()) }, STATUS_TICK_MS)

    // One admin token for every admin route (alerts, maintenance, security) and for --details when-authorized.
    const auth = new AdminAuth(this.options.adminToken)
    const details = this.options.exposure?.details ?? DEFAULT_DETAILS_MODE
    const app = buildHttpServer({
      fleet: this.fleet,
      now: this.now,
      logger: this.log,
      info: () => ({ peerId: this.peerId, multiaddrs: this.multiaddrs(), version: PRODUCT_VERSION, startedAt: new Date(this.startedAt).toISOString() }),
      extendNode: withUptime(store),
      routes: [historyRoutes({ store, fleet: this.fleet, now: this.now })],
      alerting: this.alerting,
      adminAuth: auth,
      security: {
        details,
        corsOrigins: this.options.exposure?.corsOrigins,
        feed: { ...DEFAULT_FEED_LIMITS, ...this.options.exposure?.feed },
        feedStats: this.feedStats,
        reloadPeers: async () => ({ reloaded: await this.reloadPeerLists(), allowlist: this.guard.policy.allowlistSize ?? null, denylist: this.guard.policy.denylistSize }),
        adminSnapshot: () => ({ admission: this.guard.snapshot(), ingest: this.stats.toJSON(), feed: this.feedStats.toJSON(), connections: this.libp2p.getConnections().length, nodes: this.fleet.size }),
      },
    })
    this.operations.routes(app, { showDetails: detailsDecider(details, auth) })
    this.httpServer = app
    await app.listen({ host: this.options.http.host, port: this.options.http.port })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : this.options.http.port
    const host = this.options.http.host.includes(':') ? `[${this.options.http.host}]` : this.options.http.host
    this.httpUrl = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`
    this.operations.started()
    this.log.info({ peerId: this.peerId, multiaddrs: this.multiaddrs(), http: this.httpUrl }, 'heartbeat aggregator started')
    this.log.info({
      rules: this.alerting.engine.ruleSet.map((r) => r.name),
      receivers: this.alerting.receivers.map((r) => r.kind === 'log' ? 'log' : `${r.kind} ${r.target}`),
      adminApi: this.options.adminToken !== undefined,
    }, 'alerting on')
  }

  /**
   * A graceful stop: readiness turns DOWN first, everything keeps serving for
   * the drain delay (so load balancers stop sending), then the listeners close.
   */
  async shutdown (signal?: AbortSignal): Promise<void> {
    const drainMs = this.options.shutdownDrainMs ?? DEFAULT_SHUTDOWN_DRAIN_MS
    this.operations.draining()
    if (drainMs > 0) {
      this.log.info({ drainMs }, 'readiness is down; draining before closing the listeners')
      await sleep(drainMs, signal)
    }
    await this.stop()
  }

  /**
   * Re-reads --allow-peers and --deny-peers (SIGHUP) and closes the
   * connections of peers the new lists refuse. A bad list keeps the old ones.
   */
  async reloadPeerLists (): Promise<boolean> {
    if (!await this.guard.reloadPeerLists()) return false
    for (const connection of this.libp2pNode?.getConnections() ?? []) {
      const reason = this.guard.checkPeer(connection.remotePeer.toString())
      if (reason !== undefined) connection.abort(new Error(`peer refused after reload: ${reason}`))
    }
    return true
  }

  /** The per-frame gate of the ingest; a flooder is also cut off at once. */
  private admitBeat (peerId: string): BeatAdmission {
    const admission = this.guard.admitBeat(peerId, { known: this.fleet.get(peerId) !== undefined, size: this.fleet.size })
    if (admission.action === 'reset' && admission.reason === 'flooding') {
      for (const connection of this.libp2pNode?.getConnections(peerIdFromString(peerId)) ?? []) connection.abort(new Error('heartbeat flood'))
    }
    return admission
  }

  async stop (): Promise<void> {
    this.operations.stopped()
    this.stopping = true
    clearInterval(this.ticker)
    for (const timer of this.pendingDisconnects) clearTimeout(timer)
    this.pendingDisconnects.clear()
    await this.alerting.stop()
    await this.httpServer?.close()
    // Before the host: the disconnects a stop causes are the aggregator leaving, not the nodes failing.
    this.fleetStore?.close()
    await this.libp2pNode?.stop()
  }
}
