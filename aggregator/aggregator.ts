import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { type Clock, instantOf, systemClock } from '../shared/clock.ts'
import { loadOrCreateKey } from '../shared/identity.ts'
import { createLogger, type Logger } from '../shared/log.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import type { Alerting } from './alerts/alerting.ts'
import { type AlertingConfig, defaultAlertingConfig } from './alerts/config.ts'
import { DeadmanSwitch } from './alerts/deadman.ts'
import { DEFAULT_DEADMAN_INTERVAL_MS } from './alerts/constants.ts'
import { registerAlertMetrics, registerDeadmanMetrics, registerReceiverMetrics } from './alerts/metrics.ts'
import { redactUrl } from './alerts/receivers/url.ts'
import { isHealthy } from '../shared/health.ts'
import { alertingPart } from './alerts/part.ts'
import { PEER_KEY_FILE } from './constants.ts'
import { dataDirLockPart } from './data-dir-lock.ts'
import { listenCheckPart } from './listen-check.ts'
import { DEFAULT_DETAILS_MODE, type DetailsMode } from './fleet/exposure.ts'
import { FleetState } from './fleet/fleet-state.ts'
import { DEFAULT_STATUS_RULES, type StatusRules } from './fleet/status.ts'
import { fleetTicker } from './fleet/ticker.ts'
import type { FleetEvent } from './fleet/types.ts'
import { DEFAULT_SHUTDOWN_DRAIN_MS } from './health/constants.ts'
import { AggregatorOperations } from './health/operations.ts'
import { AdminAuth } from './http/admin-auth.ts'
import { DEFAULT_FEED_LIMITS, FeedStats, type FeedLimits } from './http/feed-guard.ts'
import { type AggregatorRoute, HttpRegistry } from './http/registry.ts'
import { detailsDecider } from './http/security.ts'
import { httpPart, type HttpTimeouts } from './http/server.ts'
import { ViewerAuth } from './http/viewer-auth.ts'
import { viewsPart } from './http/views.ts'
import { type ConnectionLimits, createIngest, type IngestLimits, type IngestStats, type PeerListsConfig } from './ingest/index.ts'
import type { BeatBudget } from './ingest/beat-budget.ts'
import type { PeerAdmission } from './ingest/peer-admission.ts'
import { type Part, PartRunner } from './parts.ts'
import type { FleetStore, StoreSettings } from './store/index.ts'
import { registerStoreMetrics } from './store/metrics.ts'
import { storeTarget, type StoreTarget } from './store/open.ts'
import { storePart } from './store/part.ts'

export interface AggregatorOptions {
  /** libp2p listen multiaddrs. */
  listen: string[]
  /** The HTTP listen address; `timeouts` shortens the slow-client deadlines (tests; docs/security.md). */
  http: { host: string, port: number, timeouts?: Partial<HttpTimeouts> }
  /** Holds the peer key and, without storeUrl, the store (fleet.sqlite). */
  dataDir: string
  /** --store: a postgres:// URL selects the shared store (many aggregators, one fleet); the data dir's SQLite file when absent. Never shown. */
  storeUrl?: string
  /** Store settings (flush interval, retention, sampling); defaults in store/constants.ts. */
  store?: Partial<StoreSettings>
  /**
   * --instance: this aggregator's name in a shared store, when several
   * replicas share one peer key (and one address, behind one Service); its
   * peer id when absent.
   */
  instance?: string
  /** This run's id in a shared store (tests); a fresh UUID when absent. */
  runId?: string
  /** Nodes not heard from since a restart start no new alert for this long (tests; default in store/constants.ts). */
  restartGraceMs?: number
  /** Overrides the key in the data dir (tests). */
  privateKey?: PrivateKey
  maxFrameBytes?: number
  /** libp2p's own connection limits (defaults in constants.ts). */
  connectionLimits?: ConnectionLimits
  statusRules?: StatusRules
  /** Accept only heartbeats of this network (genesis CID or chain id); others are refused and counted. */
  network?: string
  /** Nodes silent for longer than this leave the view (default 7 days). */
  forgetAfterMs?: number
  /** Rules and receivers; the built-in rules and the log when absent. */
  alerting?: AlertingConfig
  /** Bearer token of the admin API (maintenance); the admin API is off without it. */
  adminToken?: string
  /** Read-only token (--viewer-token-file): signs the page in to see details; never the admin API. */
  viewerToken?: string
  /** Serve the public status page and badges (--status-page). */
  statusPage?: boolean
  /** The URL people reach the page at, for links in alerts; the HTTP listen address when absent. */
  publicUrl?: string
  /** A dead man's switch pinged while the aggregator is healthy, `<url>/fail` while not (alerts/deadman.ts). */
  deadman?: { url: string, intervalMs?: number }
  logger?: Logger
  /** Every timer and every time read (shared/clock.ts); the system clock when absent. */
  clock?: Clock
  /** On shutdown, readiness turns DOWN this long before the listeners close. */
  shutdownDrainMs?: number
  /** Node.js process metrics on /metrics (default on). */
  processMetrics?: boolean
  /** Who may connect: --allow-peers, --deny-peers (reloaded by reloadPeerLists). */
  peerLists?: PeerListsConfig
  /** Bounds on peers (per IP, per peer, beat rate, node count...); defaults in constants.ts. */
  limits?: Partial<IngestLimits>
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
 * What tests and benchmarks may look at inside a running aggregator. Not an
 * API for embedding programs: it shows the parts as they are today.
 */
export interface AggregatorInternals {
  fleet: FleetState
  /** Ingest counters: received, accepted, rejected per reason, streams. */
  ingest: IngestStats
  /** Peer admission: refusals per reason, per-IP counts, the penalty box. */
  admission: PeerAdmission
  /** The beat budget: peers tracked. */
  beats: BeatBudget
  libp2p: Libp2p
  store: FleetStore | undefined
  /** Rules, alerts and maintenance. */
  alerting: Alerting
}

/**
 * The aggregator: its parts, in start order (each stops in reverse). Adding a
 * part is one entry in the list in the constructor (docs/ARCHITECTURE.md).
 *
 *   lock       the data dir's lock (first: nothing reads or writes the dir before it holds it; docs/deployment.md)
 *   listen     every --http and --listen address bound once and released: a taken port fails before anything starts
 *   store      the roster, history and uptime; with a shared store, the other aggregators' nodes (known nodes are back before any agent dials in)
 *   ingest     the libp2p host and the heartbeat streams it takes
 *   alerting   rules on the status tick (while it leads), receivers, maintenance; state kept in the store
 *   ticker     re-derives every status (silence has no event)
 *   views      the fleet document, one node, the live feed, admin, the page, sign-in, node removal, /status
 *   http       the server that serves every part's routes
 *   operations own health, lifecycle, metrics (last: ready once everything listens)
 */
export class Aggregator {
  private readonly options: AggregatorOptions
  private readonly log: Logger
  private readonly clock: Clock
  private readonly fleet: FleetState
  private readonly startedAt: number
  private readonly ingest: ReturnType<typeof createIngest>
  private readonly store: ReturnType<typeof storePart>
  private readonly storeTarget: StoreTarget
  private readonly alerting: ReturnType<typeof alertingPart>
  private readonly http: ReturnType<typeof httpPart>
  private readonly operations: AggregatorOperations
  private readonly registry = new HttpRegistry()
  private readonly runner: PartRunner

  constructor (options: AggregatorOptions) {
    this.options = options
    this.clock = options.clock ?? systemClock
    this.startedAt = this.clock.wall()
    const log = this.log = options.logger ?? createLogger({ name: 'heartbeat-aggregator' })
    const clock = this.clock
    const fleet = this.fleet = new FleetState(options.statusRules ?? DEFAULT_STATUS_RULES, { forgetAfterMs: options.forgetAfterMs, network: options.network })
    // One admin token for every admin route (alerts, maintenance, security).
    const auth = new AdminAuth(options.adminToken)
    // Page sessions and the viewer token: with the admin token, who sees details (docs/security.md, "Signing in").
    const viewers = new ViewerAuth({ admin: auth, viewerToken: options.viewerToken, publicUrl: options.publicUrl, clock })
    const detailsMode = options.exposure?.details ?? DEFAULT_DETAILS_MODE
    const details = detailsDecider(detailsMode, viewers)
    const feedStats = new FeedStats()

    // The key is read once: the store needs the peer id (the holder of this aggregator's nodes) before ingest starts.
    let key: Promise<PrivateKey> | undefined
    const privateKey = async (): Promise<PrivateKey> => await (key ??= options.privateKey !== undefined ? Promise.resolve(options.privateKey) : loadOrCreateKey(join(options.dataDir, PEER_KEY_FILE)).then((k) => k.key))
    const runId = options.runId ?? randomUUID()
    let ownPeerId = ''
    this.storeTarget = storeTarget(options.storeUrl, options.dataDir)
    this.store = storePart({
      target: this.storeTarget,
      settings: options.store,
      fleet,
      writer: async () => {
        ownPeerId = peerIdFromPrivateKey(await privateKey()).toString()
        return { id: options.instance ?? ownPeerId, runId }
      },
      member: () => ({
        peerId: ownPeerId,
        multiaddrs: this.ingest.host === undefined ? [] : this.multiaddrs(),
        version: PRODUCT_VERSION,
        httpUrl: options.publicUrl ?? (this.http.listening ? this.http.url : ''),
        startedAt: this.startedAt,
      }),
      leader: () => this.alerting.leadership?.holder(),
      clock,
      logger: log,
    })
    const ingest = this.ingest = createIngest({
      listen: options.listen,
      privateKey,
      fleet,
      clock,
      logger: log,
      maxFrameBytes: options.maxFrameBytes,
      connectionLimits: options.connectionLimits,
      limits: options.limits,
      peerLists: options.peerLists,
      network: options.network,
      observeIngestSeconds: (seconds) => { this.operations.metrics.observeIngestSeconds(seconds) },
    })
    this.alerting = alertingPart({
      config: options.alerting ?? defaultAlertingConfig(),
      fleet,
      source: { peerId: () => ingest.host?.peerId.toString() ?? '', publicUrl: () => options.publicUrl ?? this.http.url },
      store: () => this.store.store,
      clock,
      logger: log,
      restartGraceMs: options.restartGraceMs,
    })
    const views = viewsPart({
      fleet,
      clock,
      logger: log,
      details,
      info: () => ({ peerId: this.peerId, multiaddrs: this.multiaddrs(), version: PRODUCT_VERSION, startedAt: new Date(this.startedAt).toISOString() }),
      feed: { limits: { ...DEFAULT_FEED_LIMITS, ...options.exposure?.feed }, stats: feedStats, alerts: this.alerting.feedSource },
      viewers,
      session: { details: detailsMode },
      forget: (peerId) => this.forgetNode(peerId),
      statusPage: options.statusPage === true
        ? { uptimeOf: (peerId) => this.store.store?.uptimeFor(peerId, 'fleet'), maintenance: this.alerting.statusSource }
        : undefined,
      admin: {
        snapshot: () => {
          const { admission, ingest: counters, connections } = ingest.snapshot()
          return { admission, ingest: counters, feed: feedStats.toJSON(), connections, nodes: fleet.size }
        },
        reloadPeers: async () => ({ reloaded: await this.reloadPeerLists(), allowlist: ingest.admission.policy.allowlistSize ?? null, denylist: ingest.admission.policy.denylistSize }),
      },
    })
    this.http = httpPart({
      registry: this.registry, host: options.http.host, port: options.http.port, timeouts: options.http.timeouts, adminAuth: auth, corsOrigins: options.exposure?.corsOrigins,
    })
    this.operations = new AggregatorOperations({
      fleet,
      stats: ingest.stats,
      libp2p: () => ingest.host,
      http: () => ({ listening: this.http.listening, url: this.http.url }),
      config: () => this.effectiveConfig(),
      store: () => this.store.store?.health(),
      holderOf: (peerId) => this.store.store?.holderOf(peerId) ?? '',
      startedAt: this.startedAt,
      clock,
      processMetrics: options.processMetrics,
      showDetails: details,
    })
    registerAlertMetrics(this.operations.metrics.registry, this.alerting.alerting.engine, () => this.alerting.leadership?.leading ?? false)
    registerStoreMetrics(this.operations.metrics.registry, () => this.store.store)
    registerReceiverMetrics(this.operations.metrics.registry, () => this.alerting.alerting.receiverStatus())
    const deadman = options.deadman === undefined ? undefined : new DeadmanSwitch({
      url: options.deadman.url,
      intervalMs: options.deadman.intervalMs ?? DEFAULT_DEADMAN_INTERVAL_MS,
      health: () => {
        const own = this.operations.health.health('health')
        const notHealthy = Object.entries(own.components).filter(([, c]) => !isHealthy(c.status))
          .map(([name, c]) => `${name} ${c.status}${typeof (c.details as { error?: unknown } | undefined)?.error === 'string' ? `: ${(c.details as { error: string }).error}` : ''}`)
        return { healthy: isHealthy(own.status), summary: notHealthy.length === 0 ? `${fleet.size} nodes, ${this.alerting.alerting.fleetAlerts().firing.length} alerts firing` : notHealthy.join('; ') }
      },
      clock,
      logger: log,
    })
    if (deadman !== undefined) registerDeadmanMetrics(this.operations.metrics.registry, () => deadman.stats())
    const parts: Part[] = [
      dataDirLockPart({ dataDir: options.dataDir, clock, logger: log }),
      listenCheckPart({ http: options.http, listen: options.listen }),
      this.store,
      ingest,
      this.alerting,
      fleetTicker({ fleet, clock, logger: log }),
      views,
      this.http,
      this.operations,
      // Last: its first ping says the aggregator is up and ready.
      ...(deadman !== undefined ? [deadman] : []),
    ]
    this.runner = new PartRunner(parts, { http: this.registry, logger: log })
  }

  /**
   * The configuration /actuator/info shows. Alerting is shown as its rules'
   * names and its receivers' kinds and targets: receiver settings hold
   * credentials (tokens, routing keys, webhook URLs that are their own
   * credential) that no key-name redaction can be trusted to catch.
   */
  private effectiveConfig (): Record<string, unknown> {
    const { alerting: _alerting, deadman, storeUrl: _storeUrl, ...rest } = this.options
    const { alerting } = this.alerting
    const target = this.storeTarget
    return {
      ...rest,
      // The store URL may hold a password: only where it points is shown.
      store: { ...this.options.store, backend: target.kind, location: target.kind === 'postgres' ? target.location : target.file },
      shutdownDrainMs: this.options.shutdownDrainMs ?? DEFAULT_SHUTDOWN_DRAIN_MS,
      alerting: {
        rules: alerting.engine.ruleSet.map((r) => r.name),
        receivers: alerting.receivers.map((r) => ({ name: r.name ?? r.kind, kind: r.kind, target: r.target })),
      },
      ...(deadman !== undefined ? { deadman: { target: redactUrl(deadman.url), intervalMs: deadman.intervalMs ?? DEFAULT_DEADMAN_INTERVAL_MS } } : {}),
    }
  }

  /** Every route this aggregator serves, as the parts registered them (--help lists them). */
  get routes (): ReadonlyArray<AggregatorRoute<any>> {
    return this.registry.routes
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  multiaddrs (): string[] {
    return this.libp2p.getMultiaddrs().map((m) => m.toString())
  }

  /** The base URL of the HTTP server, e.g. http://127.0.0.1:8080 */
  get url (): string {
    return this.http.url
  }

  /** Folds one event at the aggregator's clock (embedding programs, tests). */
  apply (event: FleetEvent): void {
    this.fleet.apply(event, instantOf(this.clock))
  }

  /** What tests and benchmarks look at inside (see AggregatorInternals). */
  inspect (): AggregatorInternals {
    return {
      fleet: this.fleet,
      ingest: this.ingest.stats,
      admission: this.ingest.admission,
      beats: this.ingest.beats,
      libp2p: this.libp2p,
      store: this.store.store,
      alerting: this.alerting.alerting,
    }
  }

  async start (): Promise<void> {
    await this.runner.start()
    this.log.info({ peerId: this.peerId, multiaddrs: this.multiaddrs(), http: this.url }, 'heartbeat aggregator started')
    const { alerting } = this.alerting
    this.log.info({
      rules: alerting.engine.ruleSet.map((r) => r.name),
      receivers: alerting.receivers.map((r) => r.kind === 'log' ? 'log' : `${r.kind} ${r.target}`),
      adminApi: this.options.adminToken !== undefined,
    }, 'alerting on')
  }

  /**
   * A graceful stop: readiness turns DOWN first, everything keeps serving for
   * the drain delay (so load balancers stop sending), then the parts stop.
   */
  async shutdown (signal?: AbortSignal): Promise<void> {
    const drainMs = this.options.shutdownDrainMs ?? DEFAULT_SHUTDOWN_DRAIN_MS
    this.operations.drain()
    if (drainMs > 0) {
      this.log.info({ drainMs }, 'readiness is down; draining before closing the listeners')
      await this.clock.sleep(drainMs, signal)
    }
    await this.stop()
  }

  /**
   * Re-reads --allow-peers and --deny-peers (SIGHUP) and closes the
   * connections of peers the new lists refuse. A bad list keeps the old ones.
   */
  async reloadPeerLists (): Promise<boolean> {
    return await this.ingest.reloadPeerLists()
  }

  /**
   * Forgets a node everywhere (an operator removed it): the store first, so a
   * disk that refuses changes nothing else; then the fleet view (the live
   * feed sends `remove`, metrics drop its series at the next scrape); then
   * its maintenance window and alerts (they resolve now). Undefined when
   * neither the fleet nor the store knows the peer id.
   */
  async forgetNode (peerId: string): Promise<{ nickname: string } | undefined> {
    const record = this.fleet.get(peerId)
    const stored = await this.store.store?.forget(peerId) ?? false
    if (record === undefined && !stored) return undefined
    this.fleet.remove(peerId, instantOf(this.clock))
    this.alerting.alerting.forgetNode(peerId, instantOf(this.clock))
    return { nickname: record?.beat.nickname ?? '' }
  }

  /** Stops every part, last started first. */
  async stop (): Promise<void> {
    await this.runner.stop()
  }

  private get libp2p (): Libp2p {
    const host = this.ingest.host
    if (host === undefined) throw new Error('aggregator not started')
    return host
  }
}
