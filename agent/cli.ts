import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { formatDuration, parsePositiveDuration } from '../shared/duration.ts'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import { loadOrCreateKey } from '../shared/identity.ts'
import { createLogger } from '../shared/log.ts'
import { parseTarget } from '../shared/target.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import { LIMITS } from '../shared/protocol.ts'
import {
  addLogOptions, collect, configureProgram, envOption, EXIT_OK, onShutdownSignal, runMain, type LogFlags,
} from '../shared/cli.ts'
import { Agent, type ServiceSpec } from './agent.ts'
import {
  ALERT_BEAT_PERIOD_MS, ALERT_RECONNECT_PERIOD_MS, ALERTS_ENV, DEFAULT_MAINTENANCE_FOR_MS, MAINTENANCE_SIGNAL, SHUTDOWN_DEADLINE_MS,
} from './constants.ts'
import { maintenanceFrom, onMaintenanceSignal } from './maintenance.ts'
import { DemoChainSource } from './sources/demo.ts'
import type { ChainSource } from './source.ts'

const ENV = 'HEARTBEAT_AGENT'
export const DEFAULT_KEY_FILE = join(homedir(), '.fil-heartbeat', 'agent.key')

interface AgentFlags extends LogFlags {
  target?: string[]
  nickname: string
  minerAddress: string
  beatPeriod: string
  reconnectPeriod: string
  errorLogPeriod: string
  source: string
  demoBlockTime: string
  keyFile: string
  maintenance?: boolean
  maintenanceFor: string
  maintenanceReason: string
}

export function buildProgram (): Command {
  const program = configureProgram(new Command('heartbeat-agent'))
    .description('Streams heartbeats (head, height, nickname, miner address, component health) of the node beside it to heartbeat aggregators over libp2p.')
    .version(PRODUCT_VERSION)
    .addOption(envOption(ENV, '--target <multiaddr>', 'aggregator to send to, ending in /p2p/<peer id>; repeatable (env: comma-separated)').argParser(collect))
    .addOption(envOption(ENV, '--nickname <name>', 'name shown for this node').default(hostname()))
    .addOption(envOption(ENV, '--miner-address <address>', "this node's miner address (may be empty)").default(''))
    .addOption(envOption(ENV, '--beat-period <duration>', 'time between heartbeats (Go syntax: 3s, 1m30s, 250ms)').default('3s'))
    .addOption(envOption(ENV, '--reconnect-period <duration>', 'time between connection attempts').default('10s'))
    .addOption(envOption(ENV, '--error-log-period <duration>', 'while failing, log an ERROR this often (WARN first, DEBUG between)').default('10m'))
    .addOption(envOption(ENV, '--source <kind>', 'where head and height come from').choices(['demo']).default('demo'))
    .addOption(envOption(ENV, '--demo-block-time <duration>', 'block time of the demo chain').default('5s'))
    .addOption(envOption(ENV, '--key-file <path>', 'libp2p private key (created with mode 0600 if missing)').default(DEFAULT_KEY_FILE))
    .addOption(envOption(ENV, '--maintenance', `start in maintenance: alerting aggregators hold back alerts about this node (${MAINTENANCE_SIGNAL} toggles it while running)`))
    .addOption(envOption(ENV, '--maintenance-for <duration>', 'how long maintenance lasts once on').default(formatDuration(DEFAULT_MAINTENANCE_FOR_MS)))
    .addOption(envOption(ENV, '--maintenance-reason <text>', 'why, shown with the node on the aggregator').default(''))
  addLogOptions(program, ENV)
  program.addHelpText('after', `
Environment:
  Every flag has a twin: ${ENV}_<FLAG> (e.g. ${ENV}_TARGET, ${ENV}_BEAT_PERIOD).
  ${ALERTS_ENV}=MULTIADDR  also send to this alerting aggregator (beat 10s, reconnect 10s, same nickname).

Maintenance:
  kill -${MAINTENANCE_SIGNAL.replace('SIG', '')} <pid> turns maintenance on (for --maintenance-for) or off again.

Exit status: 0 after a clean stop, 2 for bad input (no target, bad multiaddr, duration or key file), 1 otherwise.

Example:
  heartbeat-agent --target /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW... --nickname lotus-1 --beat-period 3s`)
  return program
}

export function serviceSpecs (flags: AgentFlags, env: NodeJS.ProcessEnv): ServiceSpec[] {
  const beatPeriodMs = parsePositiveDuration(flags.beatPeriod, '--beat-period')
  const reconnectPeriodMs = parsePositiveDuration(flags.reconnectPeriod, '--reconnect-period')
  const specs: ServiceSpec[] = (flags.target ?? []).map((text, i) => ({
    name: i === 0 ? 'primary' : `primary-${i + 1}`,
    target: parseTarget(text),
    beatPeriodMs,
    reconnectPeriodMs,
  }))
  const alerts = env[ALERTS_ENV]?.trim()
  if (alerts !== undefined && alerts !== '') {
    specs.push({ name: 'alerts', target: parseTarget(alerts), beatPeriodMs: ALERT_BEAT_PERIOD_MS, reconnectPeriodMs: ALERT_RECONNECT_PERIOD_MS })
  }
  if (specs.length === 0) {
    throw new UsageError(ErrorCodes.NO_TARGET, `no heartbeat target: give --target MULTIADDR (or ${ENV}_TARGET), or set ${ALERTS_ENV}`)
  }
  return specs
}

function makeSource (flags: AgentFlags): ChainSource {
  return new DemoChainSource({ blockTimeMs: parsePositiveDuration(flags.demoBlockTime, '--demo-block-time') })
}

export async function main (argv: string[]): Promise<void> {
  const program = buildProgram()
  program.parse(argv)
  const flags = program.opts<AgentFlags>()
  const services = serviceSpecs(flags, process.env)
  const errorLogPeriodMs = parsePositiveDuration(flags.errorLogPeriod, '--error-log-period')
  const maintenanceForMs = parsePositiveDuration(flags.maintenanceFor, '--maintenance-for')
  if (flags.maintenanceReason.length > LIMITS.maintenanceReason) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `--maintenance-reason is longer than ${LIMITS.maintenanceReason} characters`)
  }
  const source = makeSource(flags)
  const { key } = await loadOrCreateKey(flags.keyFile)
  const logger = createLogger({ name: 'heartbeat-agent', level: flags.logLevel, format: flags.logFormat })
  const agent = await Agent.create({
    services, source, nickname: flags.nickname, minerAddress: flags.minerAddress, privateKey: key, errorLogPeriodMs, logger,
    maintenance: flags.maintenance === true ? maintenanceFrom(Date.now(), maintenanceForMs, flags.maintenanceReason) : undefined,
  })
  onMaintenanceSignal(agent, { forMs: maintenanceForMs, reason: flags.maintenanceReason, logger })
  onShutdownSignal((signal) => {
    logger.info({ signal }, 'stopping: sending the last heartbeat')
    // Whatever happens, exit within the deadline.
    setTimeout(() => { process.exit(EXIT_OK) }, SHUTDOWN_DEADLINE_MS).unref()
    agent.stop().then(() => { logger.flush(); process.exit(EXIT_OK) }, () => { process.exit(EXIT_OK) })
  })
  await agent.start()
}

export async function run (): Promise<void> {
  await runMain('heartbeat-agent', async () => { await main(process.argv) })
}

if (import.meta.main) await run()
