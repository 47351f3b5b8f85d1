import { homedir, hostname } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { formatDuration, parsePositiveDuration } from '../shared/duration.ts'
import { ErrorCodes, errorMessage, UsageError } from '../shared/errors.ts'
import { bindError } from '../shared/bind-error.ts'
import { booleanFlag } from '../shared/flag-parsers.ts'
import { parseHostPort } from '../shared/host-port.ts'
import { loadOrCreateKey } from '../shared/identity.ts'
import { createLogger, type Logger } from '../shared/log.ts'
import { parseTarget } from '../shared/target.ts'
import { LIMITS } from '../shared/protocol.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import {
  addLogOptions, collect, configureProgram, envOption, EXIT_OK, onShutdownSignal, runMain,
} from '../shared/cli.ts'
import { Agent, type AgentSettings, type ServiceSpec } from './agent.ts'
import { createCheck } from './checks/spec.ts'
import { CHECK_KINDS } from './checks/types.ts'
import {
  loadAgentConfig, resolveAgentSettings, type AgentConfig, type AgentFlagValues, type ResolvedAgentConfig, type SourceSettings,
} from './config.ts'
import {
  ALERT_BEAT_PERIOD_MS, ALERT_RECONNECT_PERIOD_MS, ALERTS_ENV, DEFAULT_CHECK_INTERVAL_MS, DEFAULT_CHECK_SLOW_MS,
  DEFAULT_CHECK_TIMEOUT_MS, DEFAULT_ETH_URL, DEFAULT_LOTUS_URL, DEFAULT_MAINTENANCE_FOR_MS, DEFAULT_TARGET_WEIGHT,
  DEFAULT_UNREACHABLE_AFTER_MS, LINK_PING_INTERVAL_MS, LINK_PING_TIMEOUT_MS, MAINTENANCE_SIGNAL, MAX_TARGET_WEIGHT, MIN_TARGET_WEIGHT, SHUTDOWN_DEADLINE_MS,
} from './constants.ts'
import type { AgentHealthServer } from './health-server.ts'
import { onMaintenanceSignal } from './maintenance.ts'
import { SOURCE_KINDS } from './source.ts'
import { FULLNODE_API_INFO } from './sources/api-info.ts'
import { createSource } from './sources/create.ts'
import { describeEndpoint } from './sources/jsonrpc.ts'
import { formatWeightedTarget, type WeightedTarget } from './targets.ts'

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
    .addOption(envOption(ENV, '--target <[weight=]multiaddr>', `aggregator to send to, ending in /p2p/<peer id>, with an optional weight ${MIN_TARGET_WEIGHT}-${MAX_TARGET_WEIGHT} before "=" (default ${DEFAULT_TARGET_WEIGHT}); repeatable (env: comma-separated)`).argParser(collect))
    .addOption(envOption(ENV, '--fan-out [bool]', 'send to every target at once instead of the best reachable one').preset('true').argParser((v: string) => booleanFlag(v, '--fan-out')))
    .addOption(envOption(ENV, '--nickname <name>', 'name shown for this node').default(hostname()))
    .addOption(envOption(ENV, '--miner-address <address>', "this node's miner address (may be empty)").default(''))
    .addOption(envOption(ENV, '--beat-period <duration>', 'time between heartbeats (Go syntax: 3s, 1m30s, 250ms)').default('3s'))
    .addOption(envOption(ENV, '--reconnect-period <duration>', 'time between attempts to go back to a better target; also caps the backoff between attempts').default('10s'))
    .addOption(envOption(ENV, '--error-log-period <duration>', 'while failing, log an ERROR this often (WARN first, DEBUG between)').default('10m'))
    .addOption(envOption(ENV, '--unreachable-after <duration>', 'a target without an open heartbeat stream this long is logged at ERROR (once; INFO when it recovers); /metrics has heartbeat_agent_target_up').default(formatDuration(DEFAULT_UNREACHABLE_AFTER_MS)))
    .addOption(envOption(ENV, '--source <kind>', `where head and height come from (default: lotus when ${FULLNODE_API_INFO} is set, else demo, a simulated chain)`).choices(SOURCE_KINDS))
    .addOption(envOption(ENV, '--source-url <url>', `the node's JSON-RPC endpoint, http(s):// or ws(s):// (default: lotus from ${FULLNODE_API_INFO}, else ${DEFAULT_LOTUS_URL}; eth ${DEFAULT_ETH_URL})`))
    .addOption(envOption(ENV, '--source-token <token>', 'API token sent as a bearer token (prefer the env twin or --source-token-file: flags show in ps); never logged'))
    .addOption(envOption(ENV, '--source-token-file <path>', `file holding the API token (e.g. ~/.lotus/token); beats the token in ${FULLNODE_API_INFO}`))
    .addOption(envOption(ENV, '--source-command <command>', '--source command: shell command run at every poll, printing JSON {head, height, headTime?, minerAddress?, network?, components?}'))
    .addOption(envOption(ENV, '--source-timeout <duration>', 'a node that does not answer within this is failing (chain_source not_ready)').default('3s'))
    .addOption(envOption(ENV, '--demo-block-time <duration>', 'block time of the demo chain').default('5s'))
    .addOption(envOption(ENV, '--check <name=kind:target>', `component check, repeatable; kind: ${CHECK_KINDS.join(', ')} (env: one per line)`).argParser(collectLines))
    .addOption(envOption(ENV, '--config <path>', 'config file (JSON, or YAML for .yaml/.yml): the same settings and many checks; flags and env win over it; re-read on SIGHUP'))
    .addOption(envOption(ENV, '--key-file <path>', 'libp2p private key (created with mode 0600 if missing)').default(DEFAULT_KEY_FILE))
    .addOption(envOption(ENV, '--health-listen <host:port>', 'serve probes (/livez, /readyz, /health, /actuator/...) and /metrics here (off unless given)'))
    .addOption(envOption(ENV, '--maintenance [bool]', `start in maintenance: alerting aggregators hold back alerts about this node (${MAINTENANCE_SIGNAL} toggles it while running)`).preset('true').argParser((v: string) => booleanFlag(v, '--maintenance')))
    .addOption(envOption(ENV, '--maintenance-for <duration>', 'how long maintenance lasts once on').default(formatDuration(DEFAULT_MAINTENANCE_FOR_MS)))
    .addOption(envOption(ENV, '--maintenance-reason <text>', 'why, shown with the node on the aggregator').default(''))
  addLogOptions(program, ENV)
  program.addHelpText('after', `
Targets:
  --target 100=/ip4/10.0.0.5/tcp/4100/p2p/12D3KooW... --target 50=/dns4/backup.example/tcp/4100/p2p/12D3KooW...
  Beats go to the reachable target of highest weight (equal weights: the order given; 0 = last resort).
  When it fails (dial error, protocol not supported, a failed send) the agent moves to the next one at
  once; each reconnect period it tries the better ones again and switches once one answers. Attempts on
  one target back off exponentially with full jitter (up to 250 ms, doubling, capped by the reconnect
  period). With --fan-out every target gets its own stream instead.

Sources (--source):
  lotus    the Lotus JSON-RPC API (Lotus, Forest, Venus): Filecoin.ChainHead (head, height, block
           timestamp), the genesis CID as network, Filecoin.SyncState; over http(s):// or ws(s)://.
           Default when ${FULLNODE_API_INFO} is set: TOKEN:MULTIADDR as \`lotus auth api-info\` prints it,
           e.g. ${FULLNODE_API_INFO}=eyJhbGciOi...:/ip4/127.0.0.1/tcp/1234/http (also /dns4, /ip6, /https,
           /ws, /wss), read when no --source-url is given; --source-token(-file) beats its token.
  eth      Ethereum JSON-RPC: latest block, eth_chainId + genesis hash as network, eth_syncing, net_peerCount
  command  --source-command is run at every poll (killed at --source-timeout)
  demo     a simulated chain: the default without ${FULLNODE_API_INFO}, logged as a WARN at start
  The agent logs at start which node it reads, how, and where the token came from (never the token).
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

Config file and SIGHUP:
  Precedence: flags > environment > config file > defaults. SIGHUP re-reads the file and applies
  nickname, miner address, targets, fan-out, periods and checks without a restart (a stream whose
  target stays listed is kept). A file with a mistake is refused with an error line naming the field,
  and the running configuration stays. Put what you want to change live in the file, not in flags.

Health (with --health-listen):
  GET /livez, /readyz        Kubernetes probes (?verbose); liveness: its chain poll loop runs,
                             readiness: connected to at least one target
  GET /health                components: chain source, checks, each heartbeat service (200 or 503)
  GET /actuator/health/liveness, /actuator/health/readiness, /actuator/info
  GET /metrics               Prometheus metrics (beats sent, connect failures, target, last send)

Environment:
  Every flag has a twin: ${ENV}_<FLAG> (e.g. ${ENV}_TARGET, ${ENV}_SOURCE_TOKEN, ${ENV}_FAN_OUT=true).
  ${ALERTS_ENV}=MULTIADDR  also send to this alerting aggregator (beat 10s, reconnect 10s, same nickname).
  ${FULLNODE_API_INFO}=TOKEN:MULTIADDR  the Lotus (or Forest) node to read (see Sources).

Aggregators out of reach:
  A target without an open heartbeat stream for --unreachable-after is one ERROR line ("aggregator X
  unreachable for 1m0s: <cause>"), and one INFO when it is back; /metrics has heartbeat_agent_target_up
  and heartbeat_agent_target_unreachable_seconds per target. A silent link is noticed by the agent's
  connection ping (a yamux PING every ${Math.round(LINK_PING_INTERVAL_MS / 1000)} s; ${Math.round(LINK_PING_TIMEOUT_MS / 1000)} s without an answer) and logged as such.

Maintenance:
  kill -${MAINTENANCE_SIGNAL.replace('SIG', '')} <pid> turns maintenance on (for --maintenance-for) or off again.

Exit status: 0 after a clean stop, 2 for bad input (no target, bad multiaddr, weight, duration, check,
config or key file, ${FULLNODE_API_INFO}, a target that is this agent itself, a --health-listen address
that cannot be bound), 1 otherwise.

Examples:
  ${FULLNODE_API_INFO}=$(lotus auth api-info --perm read | cut -d= -f2) \\
    heartbeat-agent --target /ip4/10.0.0.5/tcp/4100/p2p/12D3KooW... --nickname lotus-1
  heartbeat-agent --target /ip4/10.0.0.5/tcp/4100/p2p/12D3KooW... --nickname lotus-1 \\
    --source lotus --source-token-file ~/.lotus/token --check api=tcp:127.0.0.1:1234
  heartbeat-agent --config /etc/heartbeat-agent.yaml`)
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

/** Splits commander's values into those the user gave (command line or env) and the defaults. */
function flagValues (program: Command): { explicit: AgentFlagValues, defaults: AgentFlagValues & { nickname: string, keyFile: string } } {
  const all = program.opts<Record<string, unknown>>()
  const explicit: Record<string, unknown> = {}
  const defaults: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(all)) {
    const source = program.getOptionValueSource(key)
    if (source === 'cli' || source === 'env') explicit[key] = value
    else defaults[key] = value
  }
  return {
    explicit: explicit as AgentFlagValues,
    defaults: { ...defaults, nickname: String(defaults.nickname ?? hostname()), keyFile: String(defaults.keyFile ?? DEFAULT_KEY_FILE) },
  }
}

/**
 * Everything the agent runs with, from flags, environment and config file (in
 * that order, then defaults). Called at start and on every reload with the
 * same flags and environment, so a reload changes only what the file decides.
 */
export function resolveConfig (program: Command, file: AgentConfig | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedAgentConfig {
  const { explicit, defaults } = flagValues(program)
  return resolveAgentSettings({ explicit, ...(file !== undefined ? { file } : {}), defaults, env: { fullnodeApiInfo: env[FULLNODE_API_INFO] } })
}

/** What Agent.create / Agent.reconfigure take, from a resolved config. */
export function agentSettings (config: ResolvedAgentConfig, env: NodeJS.ProcessEnv): AgentSettings {
  return {
    services: serviceSpecs(config, env),
    nickname: config.nickname,
    minerAddress: config.minerAddress,
    errorLogPeriodMs: config.errorLogPeriodMs,
    unreachableAfterMs: config.unreachableAfterMs,
    checks: config.checks.map(createCheck),
  }
}

/**
 * The start-up line about the node the agent reads: kind, endpoint (scheme,
 * host and port only: paths can hold API keys), where each came from, and
 * where the token came from; never the token. A demo agent nobody asked for
 * is a WARN: it reports a simulated chain, not a node.
 */
export function logSourceChoice (logger: Logger, source: SourceSettings): void {
  const { origin } = source
  const token = origin.token.from === 'file' ? `file ${origin.token.path}` : origin.token.from === 'flag' ? '--source-token' : origin.token.from === 'config' ? 'the config file' : origin.token.from === 'none' ? 'none' : FULLNODE_API_INFO
  const fields: Record<string, unknown> = { source: source.kind, sourceFrom: origin.kind, tokenFrom: token }
  if (origin.apiInfoIgnored !== undefined) fields.fullnodeApiInfo = `ignored: ${origin.apiInfoIgnored}`
  if (source.kind === 'demo') {
    if (origin.kind === 'default') {
      logger.warn(fields, `no --source given and ${FULLNODE_API_INFO} is not set: this agent reports a simulated chain (demo), not a node; give --source lotus|eth|command or set ${FULLNODE_API_INFO}`)
    } else {
      logger.info(fields, 'reading the demo chain (simulated, as asked)')
    }
    return
  }
  if (source.kind === 'command') {
    logger.info(fields, 'reading the node through --source-command')
    return
  }
  let endpoint = source.url ?? ''
  try { endpoint = describeEndpoint(new URL(endpoint)) } catch {}
  fields.url = endpoint
  fields.urlFrom = origin.url
  const from = origin.url === 'FULLNODE_API_INFO' ? ` (from ${FULLNODE_API_INFO})` : origin.url === 'default' ? ' (default address)' : ''
  logger.info(fields, `reading the ${source.kind} node at ${endpoint}${from}, token: ${token}`)
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
      const settings = agentSettings(resolveConfig(program, loadAgentConfig(configPath)), env)
      const result = await agent.reconfigure(settings)
      logger.info({
        config: configPath,
        nickname: settings.nickname,
        services: settings.services.map((s) => `${s.name}: ${s.targets.map(formatWeightedTarget).join(', ')}`),
        checks: (settings.checks ?? []).map((c) => c.name),
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

function parseHealthListen (text: string): { host: string, port: number } {
  try {
    return parseHostPort(text, '--health-listen')
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, errorMessage(err))
  }
}

export async function main (argv: string[]): Promise<void> {
  const program = buildProgram()
  program.parse(argv)
  const { explicit } = flagValues(program)
  const configPath = explicit.config
  const config = resolveConfig(program, configPath !== undefined ? loadAgentConfig(configPath) : undefined, process.env)
  const settings = agentSettings(config, process.env)
  const source = await createSource(config.source)
  const healthListen = explicit.healthListen === undefined ? undefined : parseHealthListen(explicit.healthListen)
  const maintenanceForMs = parsePositiveDuration(explicit.maintenanceFor ?? formatDuration(DEFAULT_MAINTENANCE_FOR_MS), '--maintenance-for')
  const maintenanceReason = explicit.maintenanceReason ?? ''
  if (maintenanceReason.length > LIMITS.maintenanceReason) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `--maintenance-reason is longer than ${LIMITS.maintenanceReason} characters`)
  }
  const { key } = await loadOrCreateKey(config.keyFile)
  const logger = createLogger({ name: 'heartbeat-agent', level: config.logLevel, format: config.logFormat })
  logSourceChoice(logger, config.source)
  const agent = await Agent.create({
    ...settings,
    source,
    privateKey: key,
    sourceTimeoutMs: config.source.timeoutMs,
    logger,
  })
  if (explicit.maintenance === true) agent.startMaintenance(maintenanceForMs, maintenanceReason)
  onMaintenanceSignal(agent, { forMs: maintenanceForMs, reason: maintenanceReason, logger })
  let health: AgentHealthServer | undefined
  if (healthListen !== undefined) {
    const services = settings.services.map((s) => ({ name: s.name, targets: s.targets.map(formatWeightedTarget), beatPeriodMs: s.beatPeriodMs, reconnectPeriodMs: s.reconnectPeriodMs }))
    const { source: sourceSettings, checks, targets: _targets, ...rest } = config
    const { token: _token, origin: _origin, ...publicSource } = sourceSettings
    // Loaded only when asked for: fastify and prom-client are most of what an agent would otherwise hold in memory.
    const { AgentHealthServer } = await import('./health-server.ts')
    health = new AgentHealthServer({ agent, ...healthListen, config: { ...rest, source: publicSource, checks: checks.map((c) => c.name), services } })
    try {
      await health.start()
    } catch (err) {
      // Exit 2 with one line at once; stopping the agent that never started is bounded, not awaited forever.
      await Promise.race([agent.stop().catch(() => {}), new Promise((resolve) => { setTimeout(resolve, SHUTDOWN_DEADLINE_MS / 2).unref() })])
      throw bindError({ flag: '--health-listen', address: String(explicit.healthListen), port: healthListen.port }, err, 'heartbeat-agent')
    }
    logger.info({ url: health.url }, 'health endpoints listening')
  }
  const reload = createReloader({ program, configPath, env: process.env, agent, logger })
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

export async function run (): Promise<void> {
  await runMain('heartbeat-agent', async () => { await main(process.argv) })
}

if (import.meta.main) await run()
