import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { parsePositiveDuration } from '../shared/duration.ts'
import { parseHostPort } from '../shared/host-port.ts'
import { loadOrCreateKey } from '../shared/identity.ts'
import { createLogger, type Logger } from '../shared/log.ts'
import { ErrorCodes, errorMessage, UsageError } from '../shared/errors.ts'
import { parseTarget } from '../shared/target.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import {
  addLogOptions, collect, configureProgram, envOption, EXIT_OK, onShutdownSignal, runMain, type LogFlags,
} from '../shared/cli.ts'
import { Agent, type AgentSettings, type ServiceSpec } from './agent.ts'
import { loadConfigFile, type AgentConfigFile } from './config-file.ts'
import { AgentHealthServer } from './health-server.ts'
import {
  ALERT_BEAT_PERIOD_MS, ALERT_RECONNECT_PERIOD_MS, ALERTS_ENV, DEFAULT_TARGET_WEIGHT, MAX_TARGET_WEIGHT, MIN_TARGET_WEIGHT,
  SHUTDOWN_DEADLINE_MS,
} from './constants.ts'
import { assertDistinctTargets, formatWeightedTarget, parseWeightedTarget, type WeightedTarget } from './targets.ts'
import { DemoChainSource } from './sources/demo.ts'
import type { ChainSource } from './source.ts'

const ENV = 'HEARTBEAT_AGENT'
export const DEFAULT_KEY_FILE = join(homedir(), '.fil-heartbeat', 'agent.key')

interface AgentFlags extends LogFlags {
  target?: string[]
  fanOut?: boolean
  config?: string
  nickname: string
  minerAddress: string
  beatPeriod: string
  reconnectPeriod: string
  errorLogPeriod: string
  source: string
  demoBlockTime: string
  keyFile: string
  healthListen?: string
}

export function buildProgram (): Command {
  const program = configureProgram(new Command('heartbeat-agent'))
    .description('Streams heartbeats (head, height, nickname, miner address, component health) of the node beside it to heartbeat aggregators over libp2p.')
    .version(PRODUCT_VERSION)
    .addOption(envOption(ENV, '--target <[weight=]multiaddr>', `aggregator to send to, ending in /p2p/<peer id>, with an optional weight ${MIN_TARGET_WEIGHT}-${MAX_TARGET_WEIGHT} before "=" (default ${DEFAULT_TARGET_WEIGHT}); repeatable (env: comma-separated)`).argParser(collect))
    .addOption(envOption(ENV, '--fan-out [bool]', 'send to every target at once instead of the best reachable one').preset('true').argParser(parseBoolean))
    .addOption(envOption(ENV, '--config <path>', 'JSON config file (nickname, minerAddress, targets, fanOut, beatPeriod, reconnectPeriod, errorLogPeriod); re-read on SIGHUP'))
    .addOption(envOption(ENV, '--nickname <name>', 'name shown for this node').default(hostname()))
    .addOption(envOption(ENV, '--miner-address <address>', "this node's miner address (may be empty)").default(''))
    .addOption(envOption(ENV, '--beat-period <duration>', 'time between heartbeats (Go syntax: 3s, 1m30s, 250ms)').default('3s'))
    .addOption(envOption(ENV, '--reconnect-period <duration>', 'time between attempts to go back to a better target; also caps the backoff between attempts').default('10s'))
    .addOption(envOption(ENV, '--error-log-period <duration>', 'while failing, log an ERROR this often (WARN first, DEBUG between)').default('10m'))
    .addOption(envOption(ENV, '--source <kind>', 'where head and height come from').choices(['demo']).default('demo'))
    .addOption(envOption(ENV, '--demo-block-time <duration>', 'block time of the demo chain').default('5s'))
    .addOption(envOption(ENV, '--key-file <path>', 'libp2p private key (created with mode 0600 if missing)').default(DEFAULT_KEY_FILE))
    .addOption(envOption(ENV, '--health-listen <host:port>', 'serve probes (/livez, /readyz, /health, /actuator/...) and /metrics here (off unless given)'))
  addLogOptions(program, ENV)
  program.addHelpText('after', `
Targets:
  --target 100=/ip4/10.0.0.5/tcp/4100/p2p/12D3KooW... --target 50=/dns4/backup.example/tcp/4100/p2p/12D3KooW...
  Beats go to the reachable target of highest weight (equal weights: the order given; 0 = last resort).
  When it fails (dial error, protocol not supported, a failed send) the agent moves to the next one at
  once; each reconnect period it tries the better ones again and switches once one answers. Attempts on
  one target back off exponentially with full jitter (up to 250 ms, doubling, capped by the reconnect
  period). With --fan-out every target gets its own stream instead.

Config file and SIGHUP:
  --config FILE names a JSON file; SIGHUP re-reads it and applies nickname, miner address, targets,
  fan-out and periods without a restart (a stream whose target stays listed is kept). A file with a
  mistake is refused with an error line and the running configuration stays. Precedence: flags >
  environment > file > defaults, also on reload: put what you want to change live in the file.

Environment:
  Every flag has a twin: ${ENV}_<FLAG> (e.g. ${ENV}_TARGET, ${ENV}_BEAT_PERIOD, ${ENV}_FAN_OUT=true).
  ${ALERTS_ENV}=MULTIADDR  also send to this alerting aggregator (beat 10s, reconnect 10s, same nickname).

Health (with --health-listen):
  GET /livez, /readyz        Kubernetes probes (?verbose); liveness: its chain poll loop runs,
                             readiness: connected to at least one target
  GET /health                components: chain source, each heartbeat service (200 or 503)
  GET /actuator/health/liveness, /actuator/health/readiness, /actuator/info
  GET /metrics               Prometheus metrics (beats sent, connect failures, target, last send)

Exit status: 0 after a clean stop, 2 for bad input (no target, bad multiaddr, weight, duration, config or
key file, a target that is this agent itself), 1 otherwise.

Example:
  heartbeat-agent --target /ip4/10.0.0.5/tcp/4100/p2p/12D3KooW... --nickname lotus-1 --beat-period 3s`)
  return program
}

/** The delivery part of the settings: where to send and how often. */
export interface DeliverySettings {
  targets: WeightedTarget[]
  fanOut: boolean
  beatPeriodMs: number
  reconnectPeriodMs: number
}

/**
 * The heartbeat services for the targets: one "primary" service over all of
 * them (best reachable by weight), or with fan-out one per target (named by
 * its multiaddr, so a reload that keeps a target keeps its stream), plus the
 * FIL_HEARTBEAT_ALERTS service.
 */
export function serviceSpecs (delivery: DeliverySettings, env: NodeJS.ProcessEnv): ServiceSpec[] {
  const { targets, beatPeriodMs, reconnectPeriodMs } = delivery
  const specs: ServiceSpec[] = []
  if (targets.length > 0) {
    if (delivery.fanOut) {
      for (const t of targets) specs.push({ name: `fan-out ${t.target.text}`, targets: [t], beatPeriodMs, reconnectPeriodMs })
    } else {
      specs.push({ name: 'primary', targets, beatPeriodMs, reconnectPeriodMs })
    }
  }
  const alerts = env[ALERTS_ENV]?.trim()
  if (alerts !== undefined && alerts !== '') {
    specs.push({
      name: 'alerts',
      targets: [{ target: parseTarget(alerts), weight: DEFAULT_TARGET_WEIGHT }],
      beatPeriodMs: ALERT_BEAT_PERIOD_MS,
      reconnectPeriodMs: ALERT_RECONNECT_PERIOD_MS,
    })
  }
  if (specs.length === 0) {
    throw new UsageError(ErrorCodes.NO_TARGET, `no heartbeat target: give --target MULTIADDR (or ${ENV}_TARGET, or "targets" in the --config file), or set ${ALERTS_ENV}`)
  }
  return specs
}

/**
 * The agent's settings from flags, environment and config file, in that
 * order of precedence (then defaults). Called at start and on every reload
 * with the same flags and environment, so a reload changes only what the
 * file decides.
 */
export function resolveSettings (program: Command, file: AgentConfigFile | undefined, env: NodeJS.ProcessEnv): AgentSettings {
  const flags = program.opts<AgentFlags>()
  const given = (key: keyof AgentFlags): boolean => {
    const source = program.getOptionValueSource(key)
    return source === 'cli' || source === 'env'
  }
  const pick = <T>(key: keyof AgentFlags, fromFile: T | undefined, fromFlag: () => T): T =>
    given(key) || fromFile === undefined ? fromFlag() : fromFile
  const targets = pick('target', file?.targets, () => (flags.target ?? []).map((t) => parseWeightedTarget(t)))
  assertDistinctTargets(targets)
  const delivery: DeliverySettings = {
    targets,
    fanOut: pick('fanOut', file?.fanOut, () => flags.fanOut ?? false),
    beatPeriodMs: pick('beatPeriod', file?.beatPeriodMs, () => parsePositiveDuration(flags.beatPeriod, '--beat-period')),
    reconnectPeriodMs: pick('reconnectPeriod', file?.reconnectPeriodMs, () => parsePositiveDuration(flags.reconnectPeriod, '--reconnect-period')),
  }
  return {
    services: serviceSpecs(delivery, env),
    nickname: pick('nickname', file?.nickname, () => flags.nickname),
    minerAddress: pick('minerAddress', file?.minerAddress, () => flags.minerAddress),
    errorLogPeriodMs: pick('errorLogPeriod', file?.errorLogPeriodMs, () => parsePositiveDuration(flags.errorLogPeriod, '--error-log-period')),
  }
}

function parseBoolean (value: string): boolean {
  const v = value.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(v)) return true
  if (['false', '0', 'no', 'off', ''].includes(v)) return false
  throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid --fan-out "${value}": expected true or false`)
}

/**
 * SIGHUP: re-read the config file and apply it. Reloads run one at a time;
 * a file with a mistake is logged and changes nothing.
 */
export function createReloader (options: {
  program: Command
  configPath: string | undefined
  env: NodeJS.ProcessEnv
  agent: Agent
  logger: Logger
}): () => Promise<void> {
  const { program, configPath, env, agent, logger } = options
  let chain: Promise<void> = Promise.resolve()
  const reloadOnce = async (): Promise<void> => {
    if (configPath === undefined) {
      logger.warn('SIGHUP received, but no --config file was given: nothing to re-read')
      return
    }
    try {
      const file = await loadConfigFile(configPath)
      const settings = resolveSettings(program, file, env)
      const result = await agent.reconfigure(settings)
      logger.info({
        config: configPath,
        nickname: settings.nickname,
        services: settings.services.map((s) => `${s.name}: ${s.targets.map(formatWeightedTarget).join(', ')}`),
        ...result,
      }, 'configuration reloaded')
    } catch (err) {
      logger.error({ config: configPath, err: errorMessage(err) }, `configuration not reloaded, the running one stays: ${errorMessage(err)}`)
    }
  }
  return async () => {
    chain = chain.then(reloadOnce)
    await chain
  }
}

function makeSource (flags: AgentFlags): ChainSource {
  return new DemoChainSource({ blockTimeMs: parsePositiveDuration(flags.demoBlockTime, '--demo-block-time') })
}

export async function main (argv: string[]): Promise<void> {
  const program = buildProgram()
  program.parse(argv)
  const flags = program.opts<AgentFlags>()
  const file = flags.config !== undefined ? await loadConfigFile(flags.config) : undefined
  const settings = resolveSettings(program, file, process.env)
  const source = makeSource(flags)
  const { key } = await loadOrCreateKey(flags.keyFile)
  const healthListen = flags.healthListen === undefined ? undefined : parseHealthListen(flags.healthListen)
  const logger = createLogger({ name: 'heartbeat-agent', level: flags.logLevel, format: flags.logFormat })
  const agent = await Agent.create({ ...settings, source, privateKey: key, logger })
  let health: AgentHealthServer | undefined
  if (healthListen !== undefined) {
    const services = settings.services.map((s) => ({ name: s.name, targets: s.targets.map(formatWeightedTarget), beatPeriodMs: s.beatPeriodMs, reconnectPeriodMs: s.reconnectPeriodMs }))
    health = new AgentHealthServer({ agent, ...healthListen, config: { ...flags, services } })
    try {
      await health.start()
    } catch (err) {
      await agent.stop()
      throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `cannot listen on --health-listen ${flags.healthListen ?? ''}: ${errorMessage(err)}`)
    }
    logger.info({ url: health.url }, 'health endpoints listening')
  }
  const reload = createReloader({ program, configPath: flags.config, env: process.env, agent, logger })
  // Always handled: SIGHUP's default action would end the agent.
  process.on('SIGHUP', () => { void reload() })
  onShutdownSignal((signal) => {
    logger.info({ signal }, 'stopping: sending the last heartbeat')
    health?.draining()
    // Whatever happens, exit within the deadline.
    setTimeout(() => { process.exit(EXIT_OK) }, SHUTDOWN_DEADLINE_MS).unref()
    agent.stop().then(async () => { await health?.close() }).then(() => { logger.flush(); process.exit(EXIT_OK) }, () => { process.exit(EXIT_OK) })
  })
  await agent.start()
  health?.running()
}

function parseHealthListen (text: string): { host: string, port: number } {
  try {
    return parseHostPort(text, '--health-listen')
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, errorMessage(err))
  }
}

export async function run (): Promise<void> {
  await runMain('heartbeat-agent', async () => { await main(process.argv) })
}

if (import.meta.main) await run()
