import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import { loadOrCreateKey } from '../shared/identity.ts'
import { createLogger } from '../shared/log.ts'
import { parseTarget } from '../shared/target.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import {
  addLogOptions, collect, configureProgram, envOption, EXIT_OK, onShutdownSignal, runMain,
} from '../shared/cli.ts'
import { Agent, type ServiceSpec } from './agent.ts'
import { createCheck } from './checks/spec.ts'
import { CHECK_KINDS } from './checks/types.ts'
import { loadAgentConfig, resolveAgentSettings, type AgentFlagValues, type AgentSettings } from './config.ts'
import {
  ALERT_BEAT_PERIOD_MS, ALERT_RECONNECT_PERIOD_MS, ALERTS_ENV, DEFAULT_CHECK_INTERVAL_MS, DEFAULT_CHECK_SLOW_MS,
  DEFAULT_CHECK_TIMEOUT_MS, DEFAULT_ETH_URL, DEFAULT_LOTUS_URL, SHUTDOWN_DEADLINE_MS,
} from './constants.ts'
import { SOURCE_KINDS } from './source.ts'
import { createSource } from './sources/create.ts'
import { formatDuration } from '../shared/duration.ts'

const ENV = 'HEARTBEAT_AGENT'
export const DEFAULT_KEY_FILE = join(homedir(), '.fil-heartbeat', 'agent.key')

/** --check values are never split on commas (commands and URLs have them); an env twin may list several, one per line. */
function collectLines (value: string, previous: string[] | undefined): string[] {
  const values = value.split('\n').map((v) => v.trim()).filter((v) => v !== '')
  return [...(previous ?? []), ...values]
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
    .addOption(envOption(ENV, '--source <kind>', 'where head and height come from').choices(SOURCE_KINDS).default('demo'))
    .addOption(envOption(ENV, '--source-url <url>', `the node's JSON-RPC endpoint (default: lotus ${DEFAULT_LOTUS_URL}, eth ${DEFAULT_ETH_URL})`))
    .addOption(envOption(ENV, '--source-token <token>', 'API token sent as a bearer token (prefer the env twin or --source-token-file: flags show in ps); never logged'))
    .addOption(envOption(ENV, '--source-token-file <path>', 'file holding the API token (e.g. ~/.lotus/token)'))
    .addOption(envOption(ENV, '--source-command <command>', '--source command: shell command run at every poll, printing JSON {head, height, minerAddress?, network?, components?}'))
    .addOption(envOption(ENV, '--source-timeout <duration>', 'a node that does not answer within this is failing (chain_source not_ready)').default('3s'))
    .addOption(envOption(ENV, '--demo-block-time <duration>', 'block time of the demo chain').default('5s'))
    .addOption(envOption(ENV, '--check <name=kind:target>', `component check, repeatable; kind: ${CHECK_KINDS.join(', ')} (env: one per line)`).argParser(collectLines))
    .addOption(envOption(ENV, '--config <path>', 'config file (JSON, or YAML for .yaml/.yml): the same settings and many checks; flags and env win over it'))
    .addOption(envOption(ENV, '--key-file <path>', 'libp2p private key (created with mode 0600 if missing)').default(DEFAULT_KEY_FILE))
  addLogOptions(program, ENV)
  program.addHelpText('after', `
Sources (--source):
  demo     a simulated chain (default)
  lotus    Lotus JSON-RPC: Filecoin.ChainHead, the genesis CID as network, Filecoin.SyncState
  eth      Ethereum JSON-RPC: latest block, eth_chainId + genesis hash as network, eth_syncing, net_peerCount
  command  --source-command is run at every poll (killed at --source-timeout)
  A node that does not answer, answers late or answers nonsense turns the chain_source component
  not_ready (error in its details); the agent keeps beating with the last head, marked old.

Checks (--check NAME=KIND:TARGET), each a component of the heartbeat:
  http     GET TARGET (URL), 2xx is ready          api=http:http://127.0.0.1:1234/health
  tcp      connect to TARGET (HOST:PORT)           p2p=tcp:127.0.0.1:1347
  jsonrpc  call METHOD at TARGET (URL#METHOD)      rpc=jsonrpc:http://127.0.0.1:8545#eth_blockNumber
  health   import a zkSync or Spring /health JSON  node=health:http://127.0.0.1:3081/health
  command  run TARGET in /bin/sh, exit 0 is ready  'disk=command:test -w /var/lib/lotus'
  Defaults: every ${formatDuration(DEFAULT_CHECK_INTERVAL_MS)}, slow (logged) above ${formatDuration(DEFAULT_CHECK_SLOW_MS)}, failed above ${formatDuration(DEFAULT_CHECK_TIMEOUT_MS)}, level core
  (failure -> not_ready). Per-check interval, slow, timeout and level (auxiliary: failure -> affected)
  go in the config file. See docs/sources-and-checks.md.

Precedence: flags > environment > config file > defaults.

Environment:
  Every flag has a twin: ${ENV}_<FLAG> (e.g. ${ENV}_TARGET, ${ENV}_SOURCE_TOKEN).
  ${ALERTS_ENV}=MULTIADDR  also send to this alerting aggregator (beat 10s, reconnect 10s, same nickname).

Exit status: 0 after a clean stop, 2 for bad input (no target, bad multiaddr, duration, check, config
or key file), 1 otherwise.

Examples:
  heartbeat-agent --target /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW... --nickname lotus-1 \\
    --source lotus --source-token-file ~/.lotus/token --check api=tcp:127.0.0.1:1234
  heartbeat-agent --config /etc/heartbeat-agent.yaml`)
  return program
}

export function serviceSpecs (settings: Pick<AgentSettings, 'targets' | 'beatPeriodMs' | 'reconnectPeriodMs'>, env: NodeJS.ProcessEnv): ServiceSpec[] {
  const specs: ServiceSpec[] = settings.targets.map((text, i) => ({
    name: i === 0 ? 'primary' : `primary-${i + 1}`,
    target: parseTarget(text),
    beatPeriodMs: settings.beatPeriodMs,
    reconnectPeriodMs: settings.reconnectPeriodMs,
  }))
  const alerts = env[ALERTS_ENV]?.trim()
  if (alerts !== undefined && alerts !== '') {
    specs.push({ name: 'alerts', target: parseTarget(alerts), beatPeriodMs: ALERT_BEAT_PERIOD_MS, reconnectPeriodMs: ALERT_RECONNECT_PERIOD_MS })
  }
  if (specs.length === 0) {
    throw new UsageError(ErrorCodes.NO_TARGET, `no heartbeat target: give --target MULTIADDR (or ${ENV}_TARGET, or targets in the config file), or set ${ALERTS_ENV}`)
  }
  return specs
}

/** Splits commander's values into those the user gave (command line or env) and the defaults. */
function flagValues (program: Command): { explicit: AgentFlagValues, defaults: Record<string, unknown> } {
  const all = program.opts<Record<string, unknown>>()
  const explicit: Record<string, unknown> = {}
  const defaults: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(all)) {
    const source = program.getOptionValueSource(key)
    if (source === 'cli' || source === 'env') explicit[key] = value
    else defaults[key] = value
  }
  return { explicit: explicit as AgentFlagValues, defaults }
}

export async function main (argv: string[]): Promise<void> {
  const program = buildProgram()
  program.parse(argv)
  const { explicit, defaults } = flagValues(program)
  const configPath = explicit.config
  const file = configPath !== undefined ? loadAgentConfig(configPath) : undefined
  const settings = resolveAgentSettings({
    explicit,
    ...(file !== undefined ? { file } : {}),
    defaults: { ...defaults, nickname: String(defaults.nickname ?? hostname()), keyFile: String(defaults.keyFile ?? DEFAULT_KEY_FILE) },
  })
  const services = serviceSpecs(settings, process.env)
  const source = createSource(settings.source)
  const checks = settings.checks.map(createCheck)
  const { key } = await loadOrCreateKey(settings.keyFile)
  const logger = createLogger({ name: 'heartbeat-agent', level: settings.logLevel, format: settings.logFormat })
  const agent = await Agent.create({
    services,
    source,
    checks,
    nickname: settings.nickname,
    minerAddress: settings.minerAddress,
    privateKey: key,
    errorLogPeriodMs: settings.errorLogPeriodMs,
    sourceTimeoutMs: settings.source.timeoutMs,
    logger,
  })
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
