import { hostname } from 'node:os'
import { Command } from 'commander'
import { systemClock } from '../shared/clock.ts'
import { createLogger } from '../shared/log.ts'
import { parseMultiaddr } from '../shared/target.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import { DEFAULT_MAX_FRAME_BYTES, LIMITS } from '../shared/protocol.ts'
import { ErrorCodes, HeartbeatError, UsageError } from '../shared/errors.ts'
import { formatDuration, parseDuration, parsePositiveDuration } from '../shared/duration.ts'
import {
  addLogOptions, collect, configureProgram, envOption, EXIT_FAILURE, EXIT_OK, onShutdownSignal, runMain, type LogFlags,
} from '../shared/cli.ts'
import { booleanFlag, nonNegativeInt, positiveInt, positiveNumber } from '../shared/flag-parsers.ts'
import { parseHostPort } from '../shared/host-port.ts'
import { Aggregator } from './aggregator.ts'
import { DEFAULT_SHUTDOWN_DRAIN_MS, STOP_DEADLINE_MS } from './health/constants.ts'
import {
  DEFAULT_DATA_DIR, DEFAULT_FORGET_AFTER_MS, DEFAULT_HTTP, DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND, DEFAULT_LAG_THRESHOLD,
  DEFAULT_LISTEN, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PENDING_CONNECTIONS, DEFAULT_STUCK_AFTER_MS, DEFAULT_UNKNOWN_HEAD_AGE_MS, HEAD_AGE_BLOCKS, PHI_THRESHOLD,
} from './constants.ts'
import { DEFAULT_STATUS_RULES, type StatusRules } from './fleet/status.ts'
import { type AlertingFlags, checkReceiverUrl, loadAlertingConfig } from './alerts/config.ts'
import { DEFAULT_ALERT_FOR_MS, DEFAULT_DEADMAN_INTERVAL_MS } from './alerts/constants.ts'
import { createReceivers, receiverFlags } from './alerts/receivers/index.ts'
import { receiversTest, type ReceiverTestResult } from './alerts/receivers/status.ts'
import { readAdminTokenFile } from './http/admin-auth.ts'
import { routeHelp } from './http/registry.ts'
import { addSecurityOptions, securityOptionsFromFlags, type SecurityFlags } from './security-cli.ts'
import { DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_HEIGHT_SAMPLE_INTERVAL_MS, DEFAULT_SHARED_FLUSH_INTERVAL_MS, DEFAULT_HISTORY_RETENTION_MS, STORE_FILE } from './store/constants.ts'

const ENV = 'HEARTBEAT_AGGREGATOR'

interface AggregatorFlags extends LogFlags, Omit<AlertingFlags, 'receivers'>, SecurityFlags {
  adminTokenFile?: string
  viewerTokenFile?: string
  statusPage?: string
  publicUrl?: string
  deadmanUrl?: string
  deadmanInterval: string
  listen?: string[]
  http: string
  dataDir: string
  store?: string
  instance?: string
  maxFrameBytes: string
  shutdownDrain: string
  maxConnections: string
  maxPendingConnections: string
  hostConnectionRate: string
  network?: string
  stuckAfter: string
  headAgeThreshold?: string
  lagThreshold: string
  forgetAfter: string
  phiThreshold: string
  historyRetention: string
  storeFlushInterval?: string
  heightSampleInterval: string
}

export function buildProgram (): Command {
  const program = configureProgram(new Command('heartbeat-aggregator'))
    // Options after `test-alert` are the subcommand's own.
    .enablePositionalOptions()
    .description('Takes heartbeats from agents over libp2p (/fil/heartbeat/2.0.0, and go-filecoin\'s fil/heartbeat/1.0.0) and serves the fleet\'s health: a web page, a JSON API and a live feed.')
    .version(PRODUCT_VERSION)
    .addOption(envOption(ENV, '--listen <multiaddr>', `libp2p listen address; repeatable (default: ${DEFAULT_LISTEN})`).argParser(collect))
    .addOption(envOption(ENV, '--http <host:port>', 'HTTP address of the page and the API').default(DEFAULT_HTTP))
    .addOption(envOption(ENV, '--data-dir <dir>', `holds the peer key (so the peer id survives restarts) and, without --store, the store ${STORE_FILE} (the fleet, its history)`).default(DEFAULT_DATA_DIR))
    .addOption(envOption(ENV, '--store <url>', 'postgres://user:password@host:5432/db: a PostgreSQL (or YugabyteDB) store that many aggregators share as one fleet, with alerting that fails over (docs/store.md); default: SQLite in --data-dir'))
    .addOption(envOption(ENV, '--instance <name>', 'this aggregator\'s name in a shared --store when replicas share one peer key behind one address (e.g. the pod name); default: its peer id'))
    .addOption(envOption(ENV, '--history-retention <duration>', 'how long height samples and status changes are kept').default(formatDuration(DEFAULT_HISTORY_RETENTION_MS)))
    .addOption(envOption(ENV, '--store-flush-interval <duration>', `changes are written to the store once per interval (a crash loses at most this much); default ${formatDuration(DEFAULT_FLUSH_INTERVAL_MS)}, ${formatDuration(DEFAULT_SHARED_FLUSH_INTERVAL_MS)} with a shared --store`))
    .addOption(envOption(ENV, '--height-sample-interval <duration>', 'at most one stored height sample per node per interval').default(formatDuration(DEFAULT_HEIGHT_SAMPLE_INTERVAL_MS)))
    .addOption(envOption(ENV, '--max-frame-bytes <n>', 'largest heartbeat frame accepted; larger resets the stream').default(String(DEFAULT_MAX_FRAME_BYTES)))
    .addOption(envOption(ENV, '--shutdown-drain <duration>', 'on SIGTERM, readiness turns DOWN this long before the listeners close (0 = at once)').default(formatDuration(DEFAULT_SHUTDOWN_DRAIN_MS)))
    .addOption(envOption(ENV, '--max-connections <n>', 'open libp2p connections in all; new ones beyond it are refused').default(String(DEFAULT_MAX_CONNECTIONS)))
    .addOption(envOption(ENV, '--max-pending-connections <n>', 'inbound connections in their handshake at once, at most (admission keeps fewer while handshakes complete slowly); more are refused until one finishes').default(String(DEFAULT_MAX_PENDING_CONNECTIONS)))
    .addOption(envOption(ENV, '--host-connection-rate <n>', 'new connections accepted per second from one IP address; more are refused for the rest of that second').default(String(DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND)))
    .addOption(envOption(ENV, '--network <id>', 'accept only heartbeats of this network (genesis CID or chain id); others are refused and counted (default: any, grouped by network)'))
    .addOption(envOption(ENV, '--phi-threshold <phi>', 'silence detector: a connected node whose phi exceeds this is stale (higher = slower, fewer false alarms)').default(String(PHI_THRESHOLD)))
    .addOption(envOption(ENV, '--lag-threshold <heights>', 'a node more than this many heights behind its network\'s maximum is degraded').default(String(DEFAULT_LAG_THRESHOLD)))
    .addOption(envOption(ENV, '--stuck-after <duration>', 'a node whose head has not changed for longer than this is degraded').default(formatDuration(DEFAULT_STUCK_AFTER_MS)))
    .addOption(envOption(ENV, '--head-age-threshold <duration>', `a node whose head (by its block's time) is older than this is degraded, even when every node agrees (default: ${HEAD_AGE_BLOCKS} block times of its network: Filecoin ${formatDuration(HEAD_AGE_BLOCKS * 30_000)}, Ethereum ${formatDuration(HEAD_AGE_BLOCKS * 12_000)}; unknown networks ${formatDuration(DEFAULT_UNKNOWN_HEAD_AGE_MS)})`))
    .addOption(envOption(ENV, '--forget-after <duration>', 'nodes silent for longer than this leave the view (counted as forgotten)').default(formatDuration(DEFAULT_FORGET_AFTER_MS)))
    .addOption(envOption(ENV, '--alert-for <duration>', 'how long a built-in rule\'s condition must hold before its alert fires').default(formatDuration(DEFAULT_ALERT_FOR_MS)))
    .addOption(envOption(ENV, '--alert-rules <path>', 'JSON rules file: more rules, thresholds, severities, labels, receivers (docs/alerts.md)'))
  // One repeatable flag per receiver kind that has one (alerts/receivers/index.ts).
  for (const receiver of receiverFlags()) program.addOption(envOption(ENV, receiver.flags, receiver.description).argParser(collect))
  program
    .addOption(envOption(ENV, '--admin-token-file <path>', 'file holding the bearer token of the admin API (maintenance); without it the admin API is off'))
    .addOption(envOption(ENV, '--viewer-token-file <path>', 'file holding a read-only token: signed in with it, the page shows component details and addresses (--details when-authorized); never grants the admin API'))
    .addOption(envOption(ENV, '--status-page [bool]', 'serve a public status page (/status) and SVG badges (/badge/fleet.svg, /badge/node/NICKNAME.svg): statuses and uptime by nickname only').preset('true'))
    .addOption(envOption(ENV, '--public-url <url>', 'the URL people reach this aggregator at (links in alerts); default: the --http address'))
    .addOption(envOption(ENV, '--deadman-url <url>', 'a dead man\'s switch (Healthchecks-style) pinged while the aggregator is healthy, <url>/fail while GET /health is not (docs/alerts.md)'))
    .addOption(envOption(ENV, '--deadman-interval <duration>', 'ping the dead man\'s switch this often').default(formatDuration(DEFAULT_DEADMAN_INTERVAL_MS)))
  addSecurityOptions(program, ENV)
  addLogOptions(program, ENV)
  program.addCommand(buildTestAlertCommand())
  // A function: the route table is made (by wiring an aggregator that never starts) only when help is shown.
  program.addHelpText('after', () => `
Environment:
  Every flag has a twin: ${ENV}_<FLAG> (e.g. ${ENV}_LISTEN, ${ENV}_DATA_DIR).

HTTP:
${routeHelp(describeRoutes())}

Alerts (built-in rules, each firing after --alert-for): NodeDown (down or stale), NodeUnhealthy,
NodeLagging, HeadStuck, ComponentPanicked, ComponentNotReady, FleetBelowMinimum, NetworkInDispute,
IdentityConflict (one peer id used by two agents at once), FleetBehindClock (every reporting node
of a network has an old head).
A node's component, head and lag alerts are held back while the node itself is down or unhealthy
(one cause, one notification). Receivers (--alert-rules "receivers"): webhooks, alertmanagers,
telegram, discord, slack, pagerduty, matrix, email, each with an optional route and quiet hours.
\`heartbeat-aggregator test-alert --alert-rules FILE\` sends a test message to each.
Agents point at an alerting aggregator with FIL_HEARTBEAT_ALERTS=<its multiaddr>.

Reconnect storms:
  Agents back off with full jitter, so after a restart they come back spread over their reconnect period.
  The connection limits refuse only what exceeds that; a refused agent retries after its next backoff step.
  Several agents behind one NAT share one IP address: raise --host-connection-rate for them.

The full /p2p/ multiaddr that agents need is logged at start and shown in /api/v1/fleet.

Node status (docs/fleet-semantics.md):
  stopped    the node announced a graceful stop (never alerts)
  down       disconnected and not back within one beat period
  stale      still connected but silent: phi (failure detector) above --phi-threshold
  unhealthy  reports an unhealthy status, its peer id is used by two agents at once,
             or it has not read a head from its node yet
  degraded   reports affected, lags more than --lag-threshold, head unchanged
             longer than --stuck-after, head older than --head-age-threshold,
             or just disconnected (grace)
  healthy    everything else
Durations use Go syntax (90s, 5m, 168h).

One aggregator per --data-dir: it is locked while this one runs.

Exit status: 0 after a clean stop, 2 for bad input or a start-up mistake (a port in use or not
permitted, a data dir another aggregator holds), with one line on stderr; 1 otherwise.`)
  return program
}

function parseStatusRules (flags: AggregatorFlags): StatusRules {
  return {
    ...DEFAULT_STATUS_RULES,
    phi: { ...DEFAULT_STATUS_RULES.phi, threshold: positiveNumber(flags.phiThreshold, '--phi-threshold') },
    lagThreshold: nonNegativeInt(flags.lagThreshold, '--lag-threshold'),
    stuckAfterMs: parsePositiveDuration(flags.stuckAfter, '--stuck-after'),
    ...(flags.headAgeThreshold === undefined ? {} : { headAgeThresholdMs: parsePositiveDuration(flags.headAgeThreshold, '--head-age-threshold') }),
  }
}

function parseNetwork (text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  const network = text.trim()
  if (network === '') throw new UsageError(ErrorCodes.INVALID_ARGUMENT, 'invalid --network "": expected a genesis CID or chain id (leave the flag out to accept any network)')
  if (network.length > LIMITS.network) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid --network: longer than ${LIMITS.network} characters`)
  return network
}

function parseInstance (text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  const name = text.trim()
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid --instance "${text.slice(0, 64)}": letters, digits, . _ - (at most 128, starting with a letter or digit)`)
  return name
}

/** The routes an aggregator serves, for --help: wired with the defaults, never started. */
function describeRoutes (): Aggregator['routes'] {
  return new Aggregator({ listen: [DEFAULT_LISTEN], http: { host: '127.0.0.1', port: 0 }, dataDir: DEFAULT_DATA_DIR, statusPage: true, processMetrics: false, logger: createLogger({ name: 'heartbeat-aggregator', level: 'silent' }) }).routes
}

interface TestAlertFlags {
  alertRules?: string
  receiver?: string[]
  publicUrl?: string
  note?: string
  json?: boolean
}

/** `heartbeat-aggregator test-alert`: the same rules file, receiver flags and environment as the aggregator. */
function buildTestAlertCommand (): Command {
  const command = configureProgram(new Command('test-alert'))
    .description('Send one test message to every alert receiver (or those named) and print what each answered; exit 0 when all delivered, 1 otherwise.')
    .addOption(envOption(ENV, '--alert-rules <path>', 'the rules file whose "receivers" to test (the aggregator\'s)'))
  for (const receiver of receiverFlags()) command.addOption(envOption(ENV, receiver.flags, receiver.description).argParser(collect))
  command
    .option('--receiver <name>', 'test only this receiver (by name, as GET /api/v1/alerts lists them); repeatable', collect)
    .addOption(envOption(ENV, '--public-url <url>', 'the URL the message links to (the aggregator\'s --public-url)'))
    .option('--note <text>', 'added to the message', `sent by test-alert on ${hostname()}`)
    .option('--json', 'print the answers as JSON')
  command.action(async () => { await testAlert(command) })
  return command
}

async function testAlert (command: Command): Promise<void> {
  const flags = command.opts<TestAlertFlags>()
  const opts = command.opts<Record<string, unknown>>()
  const config = await loadAlertingConfig({
    alertRules: flags.alertRules,
    receivers: Object.fromEntries(receiverFlags().map((r) => [r.kind, opts[r.attribute] as string[] | undefined])),
  })
  if (config.receivers.length === 0) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, 'no alert receivers to test: give --alert-rules with "receivers", or --alert-webhook / --alertmanager')
  }
  const publicUrl = flags.publicUrl === undefined ? `http://${DEFAULT_HTTP}` : checkReceiverUrl(flags.publicUrl, '--public-url').replace(/\/+$/, '')
  const logger = createLogger({ name: 'heartbeat-aggregator', level: 'silent' })
  const receivers = createReceivers(config.receivers, { source: { peerId: () => '', publicUrl: () => publicUrl }, logger, clock: systemClock })
  try {
    const results = await receiversTest(receivers, { names: flags.receiver, note: flags.note, at: systemClock.wall(), clock: systemClock, signal: new AbortController().signal })
    process.stdout.write(flags.json === true ? `${JSON.stringify(results, null, 2)}\n` : formatTestResults(results))
    if (!results.every((r) => r.delivered)) process.exitCode = EXIT_FAILURE
  } catch (err) {
    if (err instanceof HeartbeatError && err.code === ErrorCodes.INVALID_ARGUMENT) throw new UsageError(err.code, err.message)
    throw err
  } finally {
    await Promise.all(receivers.map(async (r) => { await r.stop(0) }))
  }
}

/** One line per receiver: name, kind, target, the verdict, and what the service said. */
export function formatTestResults (results: readonly ReceiverTestResult[]): string {
  const lines = results.map((r) => {
    const said = [r.status !== null ? `status ${r.status}` : '', r.delivered ? (r.answer ?? '') : (r.error ?? '')].filter((x) => x !== '').join(': ')
    return `${r.delivered ? 'delivered' : 'FAILED   '}  ${r.name} (${r.kind}, ${r.target})  ${said}  [${r.attempts} attempt${r.attempts === 1 ? '' : 's'}, ${r.ms} ms]`
  })
  const failed = results.filter((r) => !r.delivered).length
  lines.push(failed === 0 ? `all ${results.length} receiver${results.length === 1 ? '' : 's'} delivered the test message` : `${failed} of ${results.length} receivers did not deliver`)
  return `${lines.join('\n')}\n`
}

export async function main (argv: string[]): Promise<void> {
  const program = buildProgram()
  program.action(async () => { await runAggregator(program) })
  await program.parseAsync(argv)
}

async function runAggregator (program: Command): Promise<void> {
  const flags = program.opts<AggregatorFlags>()
  const listen = (flags.listen ?? [DEFAULT_LISTEN]).map((l) => parseMultiaddr(l, '--listen').toString())
  const http = parseHostPort(flags.http, '--http')
  const maxFrameBytes = positiveInt(flags.maxFrameBytes, '--max-frame-bytes')
  const shutdownDrainMs = parseDuration(flags.shutdownDrain, '--shutdown-drain')
  const connectionLimits = {
    maxConnections: positiveInt(flags.maxConnections, '--max-connections'),
    maxPendingConnections: positiveInt(flags.maxPendingConnections, '--max-pending-connections'),
    inboundConnectionsPerHostPerSecond: positiveInt(flags.hostConnectionRate, '--host-connection-rate'),
  }
  const statusRules = parseStatusRules(flags)
  const forgetAfterMs = parsePositiveDuration(flags.forgetAfter, '--forget-after')
  const network = parseNetwork(flags.network)
  const store = {
    retentionMs: parsePositiveDuration(flags.historyRetention, '--history-retention'),
    flushIntervalMs: flags.storeFlushInterval === undefined ? undefined : parsePositiveDuration(flags.storeFlushInterval, '--store-flush-interval'),
    sampleIntervalMs: parsePositiveDuration(flags.heightSampleInterval, '--height-sample-interval'),
  }
  const opts = program.opts<Record<string, unknown>>()
  const alerting = await loadAlertingConfig({
    alertFor: flags.alertFor,
    alertRules: flags.alertRules,
    receivers: Object.fromEntries(receiverFlags().map((r) => [r.kind, opts[r.attribute] as string[] | undefined])),
  })
  const publicUrl = flags.publicUrl === undefined ? undefined : checkReceiverUrl(flags.publicUrl, '--public-url').replace(/\/+$/, '')
  const deadman = flags.deadmanUrl === undefined ? undefined : { url: checkReceiverUrl(flags.deadmanUrl, '--deadman-url', { secret: true }), intervalMs: parsePositiveDuration(flags.deadmanInterval, '--deadman-interval') }
  const adminToken = flags.adminTokenFile === undefined ? undefined : await readAdminTokenFile(flags.adminTokenFile)
  const logger = createLogger({ name: 'heartbeat-aggregator', level: flags.logLevel, format: flags.logFormat })
  if (adminToken?.readableByOthers === true) logger.warn({ file: flags.adminTokenFile }, 'the admin token file is readable by every user: chmod 600 it')
  const viewerToken = flags.viewerTokenFile === undefined ? undefined : await readAdminTokenFile(flags.viewerTokenFile, '--viewer-token-file')
  if (viewerToken !== undefined && viewerToken.token === adminToken?.token) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, '--viewer-token-file holds the admin token: give viewers a token of their own (openssl rand -hex 32)')
  }
  if (viewerToken?.readableByOthers === true) logger.warn({ file: flags.viewerTokenFile }, 'the viewer token file is readable by every user: chmod 600 it')
  const statusPage = flags.statusPage === undefined ? false : booleanFlag(flags.statusPage, '--status-page')
  const security = await securityOptionsFromFlags(flags)
  const aggregator = new Aggregator({
    listen, http, dataDir: flags.dataDir, storeUrl: flags.store, instance: parseInstance(flags.instance), maxFrameBytes, shutdownDrainMs, connectionLimits, statusRules, forgetAfterMs, network, store, logger,
    alerting, adminToken: adminToken?.token, viewerToken: viewerToken?.token, statusPage, publicUrl, deadman, ...security,
  })
  // SIGHUP re-reads --allow-peers and --deny-peers (a bad list is logged; the running lists stay).
  process.on('SIGHUP', () => { void aggregator.reloadPeerLists() })
  onShutdownSignal((signal) => {
    logger.info({ signal }, 'stopping')
    systemClock.timeout(shutdownDrainMs + STOP_DEADLINE_MS, () => { process.exit(EXIT_OK) }, { unref: true })
    aggregator.shutdown().then(() => { logger.flush(); process.exit(EXIT_OK) }, () => { process.exit(EXIT_OK) })
  })
  await aggregator.start()
}

export async function run (): Promise<void> {
  await runMain('heartbeat-aggregator', async () => { await main(process.argv) })
}

if (import.meta.main) await run()
