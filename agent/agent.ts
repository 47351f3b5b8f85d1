import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { systemClock, type Clock } from '../shared/clock.ts'
import { formatDuration, roundToSeconds } from '../shared/duration.ts'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import type { ComponentHealth } from '../shared/health.ts'
import { createLogger, type Logger } from '../shared/log.ts'
import type { AnnouncedMaintenance } from '../shared/heartbeat.ts'
import { HEARTBEAT_SOURCE_KINDS, type HeartbeatSourceKind } from '../shared/protocol.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import type { RandomSource } from './backoff.ts'
import { buildHeartbeat } from './beat.ts'
import { ChainMonitor, type ChainSnapshot } from './chain-monitor.ts'
import {
  DEFAULT_DIAL_TIMEOUT_MS, DEFAULT_ERROR_LOG_PERIOD_MS, DEFAULT_SEND_TIMEOUT_MS, DEFAULT_SOURCE_TIMEOUT_MS, DEFAULT_UNREACHABLE_AFTER_MS,
} from './constants.ts'
import { createAgentHost } from './host.ts'
import { HeartbeatService, type HeartbeatServiceStatus } from './service.ts'
import { CheckRunner } from './checks/runner.ts'
import type { RunnableCheck } from './checks/types.ts'
import type { ChainSource } from './source.ts'
import { assertDistinctTargets, formatWeightedTarget, type WeightedTarget } from './targets.ts'
import { WALL_STEP_WARN_MS, WallStepDetector } from '../shared/wall-step.ts'

/** One heartbeat service: where it sends (one target, or several ranked by weight) and how often. */
export interface ServiceSpec {
  /** Also its identity across reloads: a service of the same name is reconfigured in place. */
  name: string
  targets: WeightedTarget[]
  beatPeriodMs: number
  reconnectPeriodMs: number
}

/** Everything a live reload (SIGHUP) may change. */
export interface AgentSettings {
  services: ServiceSpec[]
  nickname: string
  minerAddress?: string
  errorLogPeriodMs?: number
  /** A target without an open heartbeat stream this long is logged at ERROR once (default DEFAULT_UNREACHABLE_AFTER_MS). */
  unreachableAfterMs?: number
  /** Component checks (--check, the config file, an embedding program's indicators), run on their own schedules. */
  checks?: RunnableCheck[]
}

export interface AgentOptions extends AgentSettings {
  source: ChainSource
  /** The agent's identity; an ephemeral key when absent (fine for tests, not for fleets). */
  privateKey?: PrivateKey
  dialTimeoutMs?: number
  sendTimeoutMs?: number
  sourceTimeoutMs?: number
  /** Start in maintenance (alerts about this node held back until `until`, wall clock; kept as a duration from now on). */
  maintenance?: AnnouncedMaintenance
  /** Extra components read synchronously at every beat; must be cheap. */
  components?: () => Record<string, ComponentHealth>
  logger?: Logger
  /** Monotonic time for every interval, wall time for stamps (default: systemClock; tests pass a ManualClock). */
  clock?: Clock
  /** Backoff jitter (tests pin it). */
  random?: RandomSource
}

/** What a reload did to the services, by name. */
export interface ReconfigureResult {
  added: string[]
  removed: string[]
  kept: string[]
}

/** Maintenance as the agent holds it: an end on the monotonic clock, so a wall step neither shortens nor stretches it. */
interface MaintenanceWindow {
  /** Monotonic end; undefined: until turned off. */
  endsAt: number | undefined
  reason: string | undefined
}

/**
 * An agent: one libp2p host, one chain monitor, and its heartbeat services
 * (the primary one over all --target, or one per target with --fan-out, and
 * the FIL_HEARTBEAT_ALERTS one), each failing and recovering on its own.
 * Intervals run on the clock's monotonic time; the wall clock only stamps
 * beats (`sentAt`, `agent.startedAt`) and what is shown.
 */
export class Agent {
  readonly libp2p: Libp2p
  readonly startedAt: number
  private readonly serviceMap = new Map<string, HeartbeatService>()
  private readonly monitor: ChainMonitor
  private checks: CheckRunner
  private readonly options: AgentOptions
  private readonly log: Logger
  private readonly clock: Clock
  private readonly wallSteps: WallStepDetector
  private readonly pollController = new AbortController()
  private pollLoop: Promise<void> | undefined
  private started = false
  private settings: AgentSettings
  /** When the chain poll loop last finished a poll, monotonic (the liveness probe watches it) and wall (shown). */
  private lastPollAt: number | undefined
  private lastPollWall: number | undefined
  private readonly startedMono: number
  private maintenanceState: MaintenanceWindow | undefined

  private constructor (libp2p: Libp2p, options: AgentOptions, log: Logger) {
    this.libp2p = libp2p
    this.options = options
    this.log = log
    this.clock = options.clock ?? systemClock
    this.startedAt = this.clock.wall()
    this.startedMono = this.clock.monotonic()
    this.wallSteps = new WallStepDetector(this.clock, WALL_STEP_WARN_MS)
    this.settings = copySettings(options)
    this.setMaintenance(options.maintenance)
    this.monitor = new ChainMonitor(options.source, { timeoutMs: options.sourceTimeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS, clock: this.clock, logger: log })
    this.checks = new CheckRunner(options.checks ?? [], { logger: log, clock: this.clock })
    for (const spec of options.services) this.serviceMap.set(spec.name, this.makeService(spec))
  }

  static async create (options: AgentOptions): Promise<Agent> {
    const privateKey = options.privateKey ?? await generateKeyPair('Ed25519')
    // Checked before the host exists: a bad target list costs nothing.
    validateSettings(options, peerIdFromPrivateKey(privateKey))
    const log = options.logger ?? createLogger({ name: 'heartbeat-agent' })
    const libp2p = await createAgentHost(privateKey, { dialTimeoutMs: options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS, clock: options.clock })
    return new Agent(libp2p, options, log)
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  get services (): HeartbeatService[] {
    return [...this.serviceMap.values()]
  }

  get nickname (): string {
    return this.settings.nickname
  }

  /** Changes the nickname from the next beat on (go-filecoin only read it at start). */
  setNickname (nickname: string): void {
    this.settings = { ...this.settings, nickname }
  }

  /**
   * Applies new settings without a restart: nickname and miner address from
   * the next beat, periods from the next tick, targets by reconfiguring each
   * service in place (a stream whose target stays listed is kept). Services
   * that disappear stop (with their last beat), new ones start. Invalid
   * settings throw a UsageError and change nothing.
   */
  async reconfigure (settings: AgentSettings): Promise<ReconfigureResult> {
    validateSettings(settings, this.libp2p.peerId)
    this.settings = copySettings(settings)
    if (settings.checks !== undefined) await this.replaceChecks(settings.checks)
    const errorLogPeriodMs = settings.errorLogPeriodMs ?? DEFAULT_ERROR_LOG_PERIOD_MS
    const wanted = new Set(settings.services.map((s) => s.name))
    const result: ReconfigureResult = { added: [], removed: [], kept: [] }
    const stopping: Array<Promise<void>> = []
    for (const [name, service] of this.serviceMap) {
      if (wanted.has(name)) continue
      this.serviceMap.delete(name)
      result.removed.push(name)
      stopping.push(service.stop())
    }
    for (const spec of settings.services) {
      const existing = this.serviceMap.get(spec.name)
      if (existing !== undefined) {
        existing.reconfigure({ ...spec, errorLogPeriodMs, unreachableAfterMs: settings.unreachableAfterMs ?? DEFAULT_UNREACHABLE_AFTER_MS })
        result.kept.push(spec.name)
        continue
      }
      const service = this.makeService(spec)
      this.serviceMap.set(spec.name, service)
      result.added.push(spec.name)
      if (this.started) service.start()
    }
    await Promise.all(stopping)
    return result
  }

  async start (): Promise<void> {
    // The first reading and the first result of every check before the first
    // beat, so a node that answers never appears empty (each is bounded by its timeout).
    await Promise.all([this.monitor.poll(this.pollController.signal), this.checks.start()])
    this.polled()
    this.pollLoop = (async () => {
      while (!this.pollController.signal.aborted) {
        // Re-read each time: a reload may change the beat periods.
        await this.clock.sleep(this.pollPeriodMs(), this.pollController.signal)
        if (!this.pollController.signal.aborted) {
          await this.monitor.poll(this.pollController.signal)
          this.polled()
        }
      }
    })()
    this.started = true
    for (const service of this.serviceMap.values()) service.start()
    this.log.info({
      peerId: this.peerId,
      targets: this.settings.services.map((s) => `${s.name}: ${s.targets.map(formatWeightedTarget).join(', ')}`),
      source: this.options.source.kind,
      checks: (this.options.checks ?? []).map((c) => `${c.name}=${c.description}`),
    }, 'heartbeat agent started')
  }

  /** A poll finished: liveness moves on, and a step of the wall clock since the last one is said once. */
  private polled (): void {
    this.lastPollAt = this.clock.monotonic()
    this.lastPollWall = this.clock.wall()
    const step = this.wallSteps.observe()
    if (step !== undefined) {
      this.log.warn({ stepMs: Math.round(step) },
        `the wall clock stepped ${step < 0 ? 'back' : 'forward'} by ${formatDuration(roundToSeconds(Math.abs(step)))}: beats and every interval run on the monotonic clock and go on unchanged; sentAt stamps follow the new wall time`)
    }
  }

  /** Swaps the component checks (a reload): the old ones stop, the new ones run from now on. */
  private async replaceChecks (checks: RunnableCheck[]): Promise<void> {
    const previous = this.checks
    this.checks = new CheckRunner(checks, { logger: this.log, clock: this.clock })
    await previous.stop()
    if (this.started) await this.checks.start()
  }

  async stop (): Promise<void> {
    this.pollController.abort()
    await Promise.all(this.services.map(async (s) => { await s.stop() }))
    await this.pollLoop
    await this.checks.stop()
    await this.options.source.close?.()
    await this.libp2p.stop()
  }

  status (): HeartbeatServiceStatus[] {
    return this.services.map((s) => s.status())
  }

  /**
   * Puts the node in maintenance as announced (`until` on the wall clock), or
   * takes it out with undefined, from the next beat on. The time left is kept
   * on the monotonic clock from here.
   */
  setMaintenance (maintenance: AnnouncedMaintenance | undefined): void {
    if (maintenance === undefined) {
      this.maintenanceState = undefined
      return
    }
    const endsAt = maintenance.until === undefined ? undefined : this.clock.monotonic() + (maintenance.until - this.clock.wall())
    this.maintenanceState = { endsAt, reason: maintenance.reason }
  }

  /** Maintenance for `forMs` from now (SIGUSR1, --maintenance); returns what the beats announce. */
  startMaintenance (forMs: number, reason: string): AnnouncedMaintenance {
    this.maintenanceState = { endsAt: this.clock.monotonic() + forMs, reason: reason === '' ? undefined : reason }
    return this.currentMaintenance() as AnnouncedMaintenance
  }

  /**
   * The maintenance the beats announce now: `until` is the wall time its end
   * falls at by the clock of this moment (a step of the wall clock moves it
   * with the clock, so the time left stays true). Over once its end passed.
   */
  currentMaintenance (): AnnouncedMaintenance | undefined {
    const m = this.maintenanceState
    if (m === undefined) return undefined
    const now = this.clock.monotonic()
    if (m.endsAt !== undefined && m.endsAt <= now) {
      this.maintenanceState = undefined
      return undefined
    }
    const out: AnnouncedMaintenance = {}
    if (m.endsAt !== undefined) out.until = Math.round(this.clock.wall() + (m.endsAt - now))
    if (m.reason !== undefined) out.reason = m.reason
    return out
  }

  /** The latest chain reading and the `chain_source` component. */
  chain (): ChainSnapshot {
    return this.monitor.snapshot()
  }

  /** What the liveness probe needs: the poll loop's last poll (monotonic, and wall for display) and its period. */
  pollActivity (): { lastPollAt: number | undefined, lastPollWall: number | undefined, startedAt: number, now: number, periodMs: number, sourceTimeoutMs: number } {
    return {
      lastPollAt: this.lastPollAt,
      lastPollWall: this.lastPollWall,
      startedAt: this.startedMono,
      now: this.clock.monotonic(),
      periodMs: this.pollPeriodMs(),
      sourceTimeoutMs: this.options.sourceTimeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS,
    }
  }

  private pollPeriodMs (): number {
    return Math.min(...this.settings.services.map((s) => s.beatPeriodMs))
  }

  private makeService (spec: ServiceSpec): HeartbeatService {
    const options = this.options
    return new HeartbeatService({
      name: spec.name,
      libp2p: this.libp2p,
      targets: spec.targets,
      beatPeriodMs: spec.beatPeriodMs,
      reconnectPeriodMs: spec.reconnectPeriodMs,
      errorLogPeriodMs: this.settings.errorLogPeriodMs ?? DEFAULT_ERROR_LOG_PERIOD_MS,
      unreachableAfterMs: this.settings.unreachableAfterMs ?? DEFAULT_UNREACHABLE_AFTER_MS,
      dialTimeoutMs: options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      sendTimeoutMs: options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
      logger: this.log,
      clock: this.clock,
      random: options.random,
      makeBeat: (seq, state, periodMs) => buildHeartbeat({
        snapshot: this.monitor.snapshot(),
        nickname: this.settings.nickname,
        minerAddress: this.settings.minerAddress ?? '',
        seq,
        sentAt: this.clock.wall(),
        periodMs,
        agentVersion: PRODUCT_VERSION,
        agentStartedAt: this.startedAt,
        state,
        source: heartbeatSourceKind(options.source.kind),
        components: { ...this.checks.components(), ...options.components?.() },
        maintenance: this.currentMaintenance(),
      }),
    })
  }
}

function copySettings (s: AgentSettings): AgentSettings {
  return { services: s.services, nickname: s.nickname, minerAddress: s.minerAddress, errorLogPeriodMs: s.errorLogPeriodMs, unreachableAfterMs: s.unreachableAfterMs, checks: s.checks }
}

/** The heartbeat's `source`: the built-in kinds as they are; any other ChainSource is an embedding program's. */
export function heartbeatSourceKind (kind: string): HeartbeatSourceKind {
  return (HEARTBEAT_SOURCE_KINDS as readonly string[]).includes(kind) ? kind as HeartbeatSourceKind : 'embedded'
}

/**
 * Refuses settings the agent cannot act on, with the likely cause: no
 * target, a service without targets, a name used twice, a target listed
 * twice, or a target that is the agent itself (libp2p would refuse to dial
 * it with a bare "dial to self"; the usual cause is a copied key file).
 */
export function validateSettings (settings: AgentSettings, self: PeerId): void {
  if (settings.services.length === 0) {
    throw new UsageError(ErrorCodes.NO_TARGET, 'no heartbeat target: give --target MULTIADDR or set FIL_HEARTBEAT_ALERTS')
  }
  const names = new Set<string>()
  for (const spec of settings.services) {
    if (names.has(spec.name)) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `two heartbeat services are named "${spec.name}"`)
    names.add(spec.name)
    if (spec.targets.length === 0) throw new UsageError(ErrorCodes.NO_TARGET, `heartbeat service "${spec.name}" has no target`)
    assertDistinctTargets(spec.targets, `targets of "${spec.name}"`)
    for (const { target } of spec.targets) {
      if (target.peerId.equals(self)) {
        throw new UsageError(ErrorCodes.DIAL_TO_SELF,
          `target ${target.text} is this agent itself (peer id ${self.toString()}): point it at the aggregator's peer id; if that is the aggregator's, the agent is using a copy of the aggregator's key file`)
      }
    }
  }
}
