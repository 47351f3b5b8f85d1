import { Command } from 'commander'
import { systemClock } from '../shared/clock.ts'
import { createLogger } from '../shared/log.ts'
import { parseMultiaddr } from '../shared/target.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import { DEFAULT_MAX_FRAME_BYTES, LIMITS } from '../shared/protocol.ts'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import { formatDuration, parseDuration, parsePositiveDuration } from '../shared/duration.ts'
import {
  addLogOptions, collect, configureProgram, envOption, EXIT_OK, onShutdownSignal, runMain, type LogFlags,
} from '../shared/cli.ts'
import { nonNegativeInt, positiveInt, positiveNumber } from '../shared/flag-parsers.ts'
import { parseHostPort } from '../shared/host-port.ts'
import { Aggregator } from './aggregator.ts'
import { DEFAULT_SHUTDOWN_DRAIN_MS, STOP_DEADLINE_MS } from './health/constants.ts'
import {
  DEFAULT_DATA_DIR, DEFAULT_FORGET_AFTER_MS, DEFAULT_HTTP, DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND, DEFAULT_LAG_THRESHOLD,
  DEFAULT_LISTEN, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PENDING_CONNECTIONS, DEFAULT_STUCK_AFTER_MS, PHI_THRESHOLD,
} from './constants.ts'
import { DEFAULT_STATUS_RULES, type StatusRules } from './fleet/status.ts'
import { type AlertingFlags, checkReceiverUrl, loadAlertingConfig } from './alerts/config.ts'
import { DEFAULT_ALERT_FOR_MS } from './alerts/constants.ts'
import { receiverFlags } from './alerts/receivers/index.ts'
import { readAdminTokenFile } from './http/admin-auth.ts'
import { routeHelp } from './http/registry.ts'
import { addSecurityOptions, securityOptionsFromFlags, type SecurityFlags } from './security-cli.ts'
import { DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_HEIGHT_SAMPLE_INTERVAL_MS, DEFAULT_SHARED_FLUSH_INTERVAL_MS, DEFAULT_HISTORY_RETENTION_MS, STORE_FILE } from './store/constants.ts'

const ENV = 'HEARTBEAT_AGGREGATOR'

interface AggregatorFlags extends LogFlags, Omit<AlertingFlags, 'receivers'>, SecurityFlags {
  adminTokenFile?: string
  publicUrl?: string
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
  lagThreshold: string
  forgetAfter: string
  phiThreshold: string
  historyRetention: string
  storeFlushInterval?: string
  heightSampleInterval: string
}

export function buildProgram (): Command {
  const program = configureProgram(new Command('heartbeat-aggregator'))
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
    .addOption(envOption(ENV, '--max-pending-connections <n>', 'inbound connections in their handshake at once; more are refused until one finishes').default(String(DEFAULT_MAX_PENDING_CONNECTIONS)))
    .addOption(envOption(ENV, '--host-connection-rate <n>', 'new connections accepted per second from one IP address; more are refused for the rest of that second').default(String(DEFAULT_INBOUND_CONNECTIONS_PER_HOST_PER_SECOND)))
    .addOption(envOption(ENV, '--network <id>', 'accept only heartbeats of this network (genesis CID or chain id); others are refused and counted (default: any, grouped by network)'))
    .addOption(envOption(ENV, '--phi-threshold <phi>', 'silence detector: a connected node whose phi exceeds this is stale (higher = slower, fewer false alarms)').default(String(PHI_THRESHOLD)))
    .addOption(envOption(ENV, '--lag-threshold <heights>', 'a node more than this many heights behind its network\'s maximum is degraded').default(String(DEFAULT_LAG_THRESHOLD)))
    .addOption(envOption(ENV, '--stuck-after <duration>', 'a node whose head has not changed for longer than this is degraded').default(formatDuration(DEFAULT_STUCK_AFTER_MS)))
    .addOption(envOption(ENV, '--forget-after <duration>', 'nodes silent for longer than this leave the view (counted as forgotten)').default(formatDuration(DEFAULT_FORGET_AFTER_MS)))
    .addOption(envOption(ENV, '--alert-for <duration>', 'how long a built-in rule\'s condition must hold before its alert fires').default(formatDuration(DEFAULT_ALERT_FOR_MS)))
    .addOption(envOption(ENV, '--alert-rules <path>', 'JSON rules file: more rules, thresholds, severities, labels, receivers (docs/alerts.md)'))
  // One repeatable flag per receiver kind that has one (alerts/receivers/index.ts).
  for (const receiver of receiverFlags()) program.addOption(envOption(ENV, receiver.flags, receiver.description).argParser(collect))
  program
    .addOption(envOption(ENV, '--admin-token-file <path>', 'file holding the bearer token of the admin API (maintenance); without it the admin API is off'))
    .addOption(envOption(ENV, '--public-url <url>', 'the URL people reach this aggregator at (links in alerts); default: the --http address'))
  addSecurityOptions(program, ENV)
  addLogOptions(program, ENV)
  // A function: the route table is made (by wiring an aggregator that never starts) only when help is shown.
  program.addHelpText('after', () => `
Environment:
  Every flag has a twin: ${ENV}_<FLAG> (e.g. ${ENV}_LISTEN, ${ENV}_DATA_DIR).

HTTP:
${routeHelp(describeRoutes())}

Alerts (built-in rules, each firing after --alert-for): NodeDown (down or stale), NodeUnhealthy,
NodeLagging, HeadStuck, ComponentPanicked, ComponentNotReady, FleetBelowMinimum, NetworkInDispute.
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
  unhealthy  reports an unhealthy status
  degraded   reports affected, lags more than --lag-threshold, head unchanged
             longer than --stuck-after, or just disconnected (grace)
  healthy    everything else
Durations use Go syntax (90s, 5m, 168h).

Exit status: 0 after a clean stop, 2 for bad input, 1 otherwise.`)
  return program
}

function parseStatusRules (flags: AggregatorFlags): StatusRules {
  return {
    ...DEFAULT_STATUS_RULES,
    phi: { ...DEFAULT_STATUS_RULES.phi, threshold: positiveNumber(flags.phiThreshold, '--phi-threshold') },
    lagThreshold: nonNegativeInt(flags.lagThreshold, '--lag-threshold'),
    stuckAfterMs: parsePositiveDuration(flags.stuckAfter, '--stuck-after'),
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
  return new Aggregator({ listen: [DEFAULT_LISTEN], http: { host: '127.0.0.1', port: 0 }, dataDir: DEFAULT_DATA_DIR, processMetrics: false, logger: createLogger({ name: 'heartbeat-aggregator', level: 'silent' }) }).routes
}

export async function main (argv: string[]): Promise<void> {
  const program = buildProgram()
  program.parse(argv)
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
  const adminToken = flags.adminTokenFile === undefined ? undefined : await readAdminTokenFile(flags.adminTokenFile)
  const logger = createLogger({ name: 'heartbeat-aggregator', level: flags.logLevel, format: flags.logFormat })
  if (adminToken?.readableByOthers === true) logger.warn({ file: flags.adminTokenFile }, 'the admin token file is readable by every user: chmod 600 it')
  const security = await securityOptionsFromFlags(flags)
  const aggregator = new Aggregator({
    listen, http, dataDir: flags.dataDir, storeUrl: flags.store, instance: parseInstance(flags.instance), maxFrameBytes, shutdownDrainMs, connectionLimits, statusRules, forgetAfterMs, network, store, logger,
    alerting, adminToken: adminToken?.token, publicUrl, ...security,
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
