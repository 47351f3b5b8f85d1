import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { sleep } from '../shared/abort.ts'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import type { ComponentHealth } from '../shared/health.ts'
import type { AnnouncedMaintenance } from '../shared/heartbeat.ts'
import { createLogger, type Logger } from '../shared/log.ts'
import type { Target } from '../shared/target.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import { buildHeartbeat } from './beat.ts'
import { ChainMonitor } from './chain-monitor.ts'
import {
  DEFAULT_DIAL_TIMEOUT_MS, DEFAULT_ERROR_LOG_PERIOD_MS, DEFAULT_SEND_TIMEOUT_MS, DEFAULT_SOURCE_TIMEOUT_MS,
} from './constants.ts'
import { createAgentHost } from './host.ts'
import { HeartbeatService, type HeartbeatServiceStatus } from './service.ts'
import type { ChainSource } from './source.ts'

/** One heartbeat service: where it sends and how often. */
export interface ServiceSpec {
  name: string
  target: Target
  beatPeriodMs: number
  reconnectPeriodMs: number
}

export interface AgentOptions {
  services: ServiceSpec[]
  source: ChainSource
  nickname: string
  minerAddress?: string
  /** The agent's identity; an ephemeral key when absent (fine for tests, not for fleets). */
  privateKey?: PrivateKey
  errorLogPeriodMs?: number
  dialTimeoutMs?: number
  sendTimeoutMs?: number
  sourceTimeoutMs?: number
  /** Extra components to report (e.g. an embedding program's own indicators). */
  components?: () => Record<string, ComponentHealth>
  /** Start in maintenance (alerts about this node held back until `until`, agent clock). */
  maintenance?: AnnouncedMaintenance
  logger?: Logger
  now?: () => number
}

/**
 * An agent: one libp2p host, one chain monitor, and one heartbeat service per
 * target (the primary, and the FIL_HEARTBEAT_ALERTS one), each failing and
 * recovering on its own.
 */
export class Agent {
  readonly libp2p: Libp2p
  readonly services: HeartbeatService[]
  readonly startedAt: number
  private readonly monitor: ChainMonitor
  private readonly options: AgentOptions
  private readonly log: Logger
  private readonly pollController = new AbortController()
  private pollLoop: Promise<void> | undefined
  private nickname: string
  private maintenanceState: AnnouncedMaintenance | undefined

  private constructor (libp2p: Libp2p, options: AgentOptions, log: Logger) {
    this.libp2p = libp2p
    this.options = options
    this.log = log
    const now = options.now ?? Date.now
    this.startedAt = now()
    this.nickname = options.nickname
    this.maintenanceState = options.maintenance
    this.monitor = new ChainMonitor(options.source, { timeoutMs: options.sourceTimeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS, now })
    this.services = options.services.map((spec) => new HeartbeatService({
      name: spec.name,
      libp2p,
      target: spec.target,
      beatPeriodMs: spec.beatPeriodMs,
      reconnectPeriodMs: spec.reconnectPeriodMs,
      errorLogPeriodMs: options.errorLogPeriodMs ?? DEFAULT_ERROR_LOG_PERIOD_MS,
      dialTimeoutMs: options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      sendTimeoutMs: options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
      logger: log,
      now,
      makeBeat: (seq, state, periodMs) => buildHeartbeat({
        snapshot: this.monitor.snapshot(),
        nickname: this.nickname,
        minerAddress: options.minerAddress ?? '',
        seq,
        sentAt: now(),
        periodMs,
        agentVersion: PRODUCT_VERSION,
        agentStartedAt: this.startedAt,
        state,
        components: options.components?.(),
        maintenance: this.currentMaintenance(now()),
      }),
    }))
  }

  static async create (options: AgentOptions): Promise<Agent> {
    if (options.services.length === 0) {
      throw new UsageError(ErrorCodes.NO_TARGET, 'no heartbeat target: give --target MULTIADDR or set FIL_HEARTBEAT_ALERTS')
    }
    const privateKey = options.privateKey ?? await generateKeyPair('Ed25519')
    const log = options.logger ?? createLogger({ name: 'heartbeat-agent' })
    const libp2p = await createAgentHost(privateKey, { dialTimeoutMs: options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS })
    for (const spec of options.services) {
      if (spec.target.peerId.equals(libp2p.peerId)) {
        await libp2p.stop()
        throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `target ${spec.target.text} is this agent itself (peer id ${libp2p.peerId.toString()}): point it at the aggregator's peer id`)
      }
    }
    return new Agent(libp2p, options, log)
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  /** Changes the nickname from the next beat on (go-filecoin only read it at start). */
  setNickname (nickname: string): void {
    this.nickname = nickname
  }

  /** Puts the node in maintenance (or takes it out with undefined) from the next beat on. */
  setMaintenance (maintenance: AnnouncedMaintenance | undefined): void {
    this.maintenanceState = maintenance
  }

  /** The maintenance the beats announce now; one whose `until` passed is over. */
  currentMaintenance (now: number): AnnouncedMaintenance | undefined {
    const m = this.maintenanceState
    if (m?.until !== undefined && m.until <= now) this.maintenanceState = undefined
    return this.maintenanceState
  }

  async start (): Promise<void> {
    // The first reading before the first beat, so the node never appears empty when it answers.
    await this.monitor.poll(this.pollController.signal)
    const period = Math.min(...this.options.services.map((s) => s.beatPeriodMs))
    this.pollLoop = (async () => {
      while (!this.pollController.signal.aborted) {
        await sleep(period, this.pollController.signal)
        if (!this.pollController.signal.aborted) await this.monitor.poll(this.pollController.signal)
      }
    })()
    for (const service of this.services) service.start()
    this.log.info({ peerId: this.peerId, targets: this.options.services.map((s) => `${s.name}=${s.target.text}`) }, 'heartbeat agent started')
  }

  async stop (): Promise<void> {
    this.pollController.abort()
    await Promise.all(this.services.map(async (s) => { await s.stop() }))
    await this.pollLoop
    await this.options.source.close?.()
    await this.libp2p.stop()
  }

  status (): HeartbeatServiceStatus[] {
    return this.services.map((s) => s.status())
  }
}
