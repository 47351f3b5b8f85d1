import { Command } from 'commander'
import { createLogger } from '../shared/log.ts'
import { parseMultiaddr } from '../shared/target.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import { DEFAULT_MAX_FRAME_BYTES } from '../shared/protocol.ts'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import {
  addLogOptions, collect, configureProgram, envOption, EXIT_OK, onShutdownSignal, runMain, type LogFlags,
} from '../shared/cli.ts'
import { Aggregator } from './aggregator.ts'
import { type AlertingFlags, checkReceiverUrl, loadAlertingConfig } from './alerts/config.ts'
import { DEFAULT_ALERT_FOR_MS } from './alerts/constants.ts'
import { formatDuration } from '../shared/duration.ts'
import { readAdminTokenFile } from './http/admin-auth.ts'
import { DEFAULT_DATA_DIR, DEFAULT_HTTP, DEFAULT_LISTEN } from './constants.ts'
import { parseHostPort } from './http/server.ts'

const ENV = 'HEARTBEAT_AGGREGATOR'
/** Time given to a graceful stop before the process exits anyway. */
const STOP_DEADLINE_MS = 5_000

interface AggregatorFlags extends LogFlags, AlertingFlags {
  adminTokenFile?: string
  publicUrl?: string
  listen?: string[]
  http: string
  dataDir: string
  maxFrameBytes: string
}

export function buildProgram (): Command {
  const program = configureProgram(new Command('heartbeat-aggregator'))
    .description('Takes heartbeats from agents over libp2p (/fil/heartbeat/2.0.0, and go-filecoin\'s fil/heartbeat/1.0.0) and serves the fleet\'s health: a web page, a JSON API and a live feed.')
    .version(PRODUCT_VERSION)
    .addOption(envOption(ENV, '--listen <multiaddr>', `libp2p listen address; repeatable (default: ${DEFAULT_LISTEN})`).argParser(collect))
    .addOption(envOption(ENV, '--http <host:port>', 'HTTP address of the page and the API').default(DEFAULT_HTTP))
    .addOption(envOption(ENV, '--data-dir <dir>', 'holds the peer key (so the peer id survives restarts)').default(DEFAULT_DATA_DIR))
    .addOption(envOption(ENV, '--max-frame-bytes <n>', 'largest heartbeat frame accepted; larger resets the stream').default(String(DEFAULT_MAX_FRAME_BYTES)))
    .addOption(envOption(ENV, '--alert-for <duration>', 'how long a built-in rule\'s condition must hold before its alert fires').default(formatDuration(DEFAULT_ALERT_FOR_MS)))
    .addOption(envOption(ENV, '--alert-rules <path>', 'JSON rules file: more rules, thresholds, severities, labels, receivers (docs/alerts.md)'))
    .addOption(envOption(ENV, '--alert-webhook <url>', 'POST each firing/resolved alert as JSON to this URL; repeatable').argParser(collect))
    .addOption(envOption(ENV, '--alertmanager <url>', 'send alerts to this Prometheus Alertmanager (API v2); repeatable').argParser(collect))
    .addOption(envOption(ENV, '--admin-token-file <path>', 'file holding the bearer token of the admin API (maintenance); without it the admin API is off'))
    .addOption(envOption(ENV, '--public-url <url>', 'the URL people reach this aggregator at (links in alerts); default: the --http address'))
  addLogOptions(program, ENV)
  program.addHelpText('after', `
Environment:
  Every flag has a twin: ${ENV}_<FLAG> (e.g. ${ENV}_LISTEN, ${ENV}_DATA_DIR).

HTTP:
  GET /                      the fleet page
  GET /api/v1/fleet          the fleet as JSON
  GET /api/v1/nodes/:peerId  one node
  GET /api/v1/events         live feed (server-sent events)
  GET /api/v1/alerts         pending, firing and resolved alerts; rules; receivers
  GET /api/v1/maintenance    maintenance windows in force
  POST, DELETE /api/v1/maintenance  {peerId | fleet: true, duration, reason}  (Authorization: Bearer <token>)

Alerts (built-in rules, each firing after --alert-for): NodeDown (down or stale), NodeUnhealthy,
NodeLagging, HeadStuck, ComponentPanicked, ComponentNotReady, FleetBelowMinimum, NetworkInDispute.
Agents point at an alerting aggregator with FIL_HEARTBEAT_ALERTS=<its multiaddr>.

The full /p2p/ multiaddr that agents need is logged at start and shown in /api/v1/fleet.

Exit status: 0 after a clean stop, 2 for bad input, 1 otherwise.`)
  return program
}

function positiveInt (text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${flag} "${text}": expected a positive whole number`)
  return n
}

export async function main (argv: string[]): Promise<void> {
  const program = buildProgram()
  program.parse(argv)
  const flags = program.opts<AggregatorFlags>()
  const listen = (flags.listen ?? [DEFAULT_LISTEN]).map((l) => parseMultiaddr(l, '--listen').toString())
  let http: { host: string, port: number }
  try {
    http = parseHostPort(flags.http)
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, (err as Error).message)
  }
  const maxFrameBytes = positiveInt(flags.maxFrameBytes, '--max-frame-bytes')
  const alerting = await loadAlertingConfig(flags)
  const publicUrl = flags.publicUrl === undefined ? undefined : checkReceiverUrl(flags.publicUrl, '--public-url').replace(/\/+$/, '')
  const adminToken = flags.adminTokenFile === undefined ? undefined : await readAdminTokenFile(flags.adminTokenFile)
  const logger = createLogger({ name: 'heartbeat-aggregator', level: flags.logLevel, format: flags.logFormat })
  if (adminToken?.readableByOthers === true) logger.warn({ file: flags.adminTokenFile }, 'the admin token file is readable by every user: chmod 600 it')
  const aggregator = new Aggregator({ listen, http, dataDir: flags.dataDir, maxFrameBytes, logger, alerting, adminToken: adminToken?.token, publicUrl })
  onShutdownSignal((signal) => {
    logger.info({ signal }, 'stopping')
    setTimeout(() => { process.exit(EXIT_OK) }, STOP_DEADLINE_MS).unref()
    aggregator.stop().then(() => { logger.flush(); process.exit(EXIT_OK) }, () => { process.exit(EXIT_OK) })
  })
  await aggregator.start()
}

export async function run (): Promise<void> {
  await runMain('heartbeat-aggregator', async () => { await main(process.argv) })
}

if (import.meta.main) await run()
