/**
 * The heartbeat agent as a library, for programs that want it inside them
 * (a node written in TypeScript, a sidecar, a test harness), as go-filecoin's
 * node ran its HeartbeatService with a HeadGetter and a MinerAddressGetter.
 *
 * ```ts
 * import { createHeartbeatAgent } from 'fil-heartbeat/agent'
 *
 * const agent = await createHeartbeatAgent({
 *   targets: ['/ip4/10.0.0.5/tcp/4001/p2p/12D3KooW...'],
 *   nickname: 'my-node',
 *   headGetter: async () => ({ head: await node.headHash(), height: await node.height() }),
 *   minerAddressGetter: () => node.minerAddress ?? '',
 *   indicators: { db: async () => ({ status: (await db.ping()) ? 'ready' : 'not_ready' }) },
 * })
 * await agent.start()
 * // ...
 * await agent.stop() // sends a last "stopping" beat
 * ```
 *
 * The getters and indicators run on their own schedules with timeouts, never
 * at beat time: a slow or failing one turns its component not_ready and the
 * agent keeps beating. See docs/embedding.md.
 *
 * @module
 */
import type { PrivateKey } from '@libp2p/interface'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import type { Logger } from '../shared/log.ts'
import { assertDistinctTargets, parseWeightedTarget } from './targets.ts'
import { describeIssues } from '../shared/validation.ts'
import { Agent, type ServiceSpec } from './agent.ts'
import { indicatorProbe, type Indicator } from './checks/indicator.ts'
import { assertUniqueNames, checkInputSchema, checkNameSchema, createCheck, type CheckInput } from './checks/spec.ts'
import type { CheckLevel, RunnableCheck } from './checks/types.ts'
import {
  DEFAULT_BEAT_PERIOD_MS, DEFAULT_CHECK_SLOW_MS, DEFAULT_CHECK_TIMEOUT_MS, DEFAULT_RECONNECT_PERIOD_MS,
} from './constants.ts'
import { GetterSource, type HeadGetter, type MinerAddressGetter } from './sources/getter.ts'

/** An indicator with its own schedule and level; a bare function gets the defaults. */
export interface IndicatorOptions {
  indicator: Indicator
  /** Time between calls (default: the beat period). */
  intervalMs?: number
  /** A call taking longer has failed (default DEFAULT_CHECK_TIMEOUT_MS). */
  timeoutMs?: number
  /** core (default): a failure makes the node not_ready; auxiliary: affected at worst. */
  level?: CheckLevel
}

export interface HeartbeatAgentOptions {
  /** Aggregator multiaddrs, each ending in /p2p/<peer id>. */
  targets: string[]
  /** Reads the node's head and height (go-filecoin's HeadGetter). */
  headGetter: HeadGetter
  /** The node's miner address; an empty string when it has none. */
  minerAddressGetter?: MinerAddressGetter
  /** The program's own components, by name (Layotto's health indicators). */
  indicators?: Record<string, Indicator | IndicatorOptions>
  /** Component checks in the config file's form: `{name, kind, target, interval?, timeout?, slow?, level?}`. */
  checks?: CheckInput[]
  nickname?: string
  beatPeriodMs?: number
  reconnectPeriodMs?: number
  /** The head getter must answer within this, or chain_source turns not_ready (default 3 s). */
  headTimeoutMs?: number
  /** The agent's libp2p identity; keep it stable (see loadOrCreateKey) so the fleet knows the node across restarts. */
  privateKey?: PrivateKey
  logger?: Logger
}

/** What createHeartbeatAgent returns: start it, stop it, rename it, ask how its services do. */
export type HeartbeatAgent = Pick<Agent, 'start' | 'stop' | 'setNickname' | 'status' | 'peerId' | 'startedAt'>

/**
 * Creates an agent around an embedding program's getters and indicators.
 * Every option is checked first: a mistake is a UsageError naming it.
 */
export async function createHeartbeatAgent (options: HeartbeatAgentOptions): Promise<HeartbeatAgent> {
  if (typeof options.headGetter !== 'function') {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, 'createHeartbeatAgent: headGetter must be a function returning {head, height}')
  }
  const beatPeriodMs = positive(options.beatPeriodMs, DEFAULT_BEAT_PERIOD_MS, 'beatPeriodMs')
  const reconnectPeriodMs = positive(options.reconnectPeriodMs, DEFAULT_RECONNECT_PERIOD_MS, 'reconnectPeriodMs')
  // One service over every target, best reachable by weight, as the command line does.
  const targets = options.targets.map((text) => parseWeightedTarget(text, 'createHeartbeatAgent targets'))
  assertDistinctTargets(targets, 'createHeartbeatAgent targets')
  const services: ServiceSpec[] = targets.length === 0 ? [] : [{ name: 'primary', targets, beatPeriodMs, reconnectPeriodMs }]
  const checks: RunnableCheck[] = []
  for (const [name, entry] of Object.entries(options.indicators ?? {})) {
    const named = checkNameSchema.safeParse(name)
    if (!named.success) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `createHeartbeatAgent: indicator name "${name}" ${named.error.issues[0]?.message ?? 'is invalid'}`)
    const spec = typeof entry === 'function' ? { indicator: entry } : entry
    checks.push({
      name,
      description: 'indicator',
      level: spec.level ?? 'core',
      intervalMs: positive(spec.intervalMs, beatPeriodMs, `indicators.${name}.intervalMs`),
      timeoutMs: positive(spec.timeoutMs, DEFAULT_CHECK_TIMEOUT_MS, `indicators.${name}.timeoutMs`),
      slowMs: DEFAULT_CHECK_SLOW_MS,
      probe: indicatorProbe(spec.indicator),
    })
  }
  ;(options.checks ?? []).forEach((input, i) => {
    const parsed = checkInputSchema.safeParse(input)
    if (!parsed.success) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `createHeartbeatAgent: ${describeIssues(parsed.error, { prefix: ['checks', i] })}`)
    checks.push(createCheck(parsed.data))
  })
  assertUniqueNames(checks, 'createHeartbeatAgent')
  return await Agent.create({
    services,
    source: new GetterSource(options.headGetter, options.minerAddressGetter),
    checks,
    nickname: options.nickname ?? '',
    ...(options.headTimeoutMs !== undefined ? { sourceTimeoutMs: positive(options.headTimeoutMs, 0, 'headTimeoutMs') } : {}),
    ...(options.privateKey !== undefined ? { privateKey: options.privateKey } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  })
}

function positive (value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `createHeartbeatAgent: ${name} must be a positive number of milliseconds`)
  return value
}

export { Agent, type AgentOptions, type ServiceSpec } from './agent.ts'
export type { HeadGetter, HeadInfo, MinerAddressGetter } from './sources/getter.ts'
export type { Indicator } from './checks/indicator.ts'
export type { CheckInput } from './checks/spec.ts'
export type { CheckSpec, CheckKind, CheckLevel, Probe, ProbeResult, RunnableCheck } from './checks/types.ts'
export { createCheck, parseCheckFlag } from './checks/spec.ts'
export type { ChainReading, ChainSource } from './source.ts'
export { LotusSource, type LotusSourceOptions } from './sources/lotus.ts'
export { EthSource, type EthSourceOptions } from './sources/eth.ts'
export { CommandSource, type CommandSourceOptions } from './sources/command.ts'
export { DemoChainSource, type DemoChainOptions } from './sources/demo.ts'
export { tipsetKeyString } from './sources/tipset-key.ts'
export { parseAgentConfig, loadAgentConfig, type AgentConfig } from './config.ts'
export { loadOrCreateKey } from '../shared/identity.ts'
export type { ComponentHealth, HealthStatus, AppHealth } from '../shared/health.ts'
