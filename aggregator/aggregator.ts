import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { FastifyInstance } from 'fastify'
import { loadOrCreateKey } from '../shared/identity.ts'
import { createLogger, type Logger } from '../shared/log.ts'
import { DEFAULT_MAX_FRAME_BYTES, HEARTBEAT_PROTOCOL } from '../shared/protocol.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import { MAX_HEARTBEAT_STREAMS_PER_CONNECTION, PEER_KEY_FILE, STATUS_TICK_MS } from './constants.ts'
import { FleetState } from './fleet/fleet-state.ts'
import { DEFAULT_STATUS_RULES, type StatusRules } from './fleet/status.ts'
import type { FleetEvent } from './fleet/types.ts'
import { createAggregatorHost } from './host.ts'
import { buildHttpServer } from './http/server.ts'
import { createHeartbeatHandler } from './ingest.ts'
import { IngestStats } from './ingest-stats.ts'

export interface AggregatorOptions {
  /** libp2p listen multiaddrs. */
  listen: string[]
  http: { host: string, port: number }
  /** Holds the peer key (and later the store). */
  dataDir: string
  /** Overrides the key in the data dir (tests). */
  privateKey?: PrivateKey
  maxFrameBytes?: number
  statusRules?: StatusRules
  logger?: Logger
  now?: () => number
}

/**
 * The aggregator: a libp2p host that takes heartbeat streams, the fleet
 * state they fold into, and the HTTP views of it.
 */
export class Aggregator {
  readonly fleet: FleetState
  readonly stats = new IngestStats()
  readonly startedAt: number
  private readonly options: AggregatorOptions
  private readonly log: Logger
  private readonly now: () => number
  private libp2pNode: Libp2p | undefined
  private httpServer: FastifyInstance | undefined
  private ticker: NodeJS.Timeout | undefined
  private httpUrl = ''

  constructor (options: AggregatorOptions) {
    this.options = options
    this.now = options.now ?? Date.now
    this.startedAt = this.now()
    this.log = options.logger ?? createLogger({ name: 'heartbeat-aggregator' })
    this.fleet = new FleetState(options.statusRules ?? DEFAULT_STATUS_RULES)
  }

  get libp2p (): Libp2p {
    if (this.libp2pNode === undefined) throw new Error('aggregator not started')
    return this.libp2pNode
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
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
    const privateKey = this.options.privateKey ?? (await loadOrCreateKey(join(this.options.dataDir, PEER_KEY_FILE))).key
    const node = await createAggregatorHost({ privateKey, listen: this.options.listen })
    this.libp2pNode = node
    node.addEventListener('peer:connect', (e) => { this.apply({ type: 'connected', peerId: e.detail.toString() }) })
    node.addEventListener('peer:disconnect', (e) => { this.apply({ type: 'disconnected', peerId: e.detail.toString() }) })
    await node.handle(HEARTBEAT_PROTOCOL, createHeartbeatHandler({
      maxFrameBytes: this.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      apply: (event) => { this.apply(event) },
      stats: this.stats,
      logger: this.log,
    }), { maxInboundStreams: MAX_HEARTBEAT_STREAMS_PER_CONNECTION })
    this.fleet.subscribe({
      onStatusChanged: (change) => {
        const nickname = this.fleet.get(change.peerId)?.beat.nickname
        this.log.info({ peer: change.peerId, nickname, from: change.from, to: change.to, reason: change.reason }, `node ${nickname !== undefined && nickname !== '' ? nickname : change.peerId} is ${change.to}`)
      },
    })
    this.ticker = setInterval(() => { this.fleet.tick(this.now()) }, STATUS_TICK_MS)

    const app = buildHttpServer({
      fleet: this.fleet,
      now: this.now,
      logger: this.log,
      info: () => ({ peerId: this.peerId, multiaddrs: this.multiaddrs(), version: PRODUCT_VERSION, startedAt: new Date(this.startedAt).toISOString() }),
    })
    this.httpServer = app
    await app.listen({ host: this.options.http.host, port: this.options.http.port })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : this.options.http.port
    const host = this.options.http.host.includes(':') ? `[${this.options.http.host}]` : this.options.http.host
    this.httpUrl = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`
    this.log.info({ peerId: this.peerId, multiaddrs: this.multiaddrs(), http: this.httpUrl }, 'heartbeat aggregator started')
  }

  async stop (): Promise<void> {
    clearInterval(this.ticker)
    await this.httpServer?.close()
    await this.libp2pNode?.stop()
  }
}
