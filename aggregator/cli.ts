import { Command } from 'commander'
import { createLogger } from '../shared/log.ts'
import { parseMultiaddr } from '../shared/target.ts'
import { formatDuration, parsePositiveDuration } from '../shared/duration.ts'
import { PRODUCT_VERSION } from '../shared/version.ts'
import { DEFAULT_MAX_FRAME_BYTES } from '../shared/protocol.ts'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import {
  addLogOptions, collect, configureProgram, envOption, EXIT_OK, onShutdownSignal, runMain, type LogFlags,
} from '../shared/cli.ts'
import { Aggregator } from './aggregator.ts'
import { DEFAULT_DATA_DIR, DEFAULT_HTTP, DEFAULT_LISTEN } from './constants.ts'
import { parseHostPort } from './http/server.ts'
import { DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_HEIGHT_SAMPLE_INTERVAL_MS, DEFAULT_HISTORY_RETENTION_MS, STORE_FILE } from './store/constants.ts'

const ENV = 'HEARTBEAT_AGGREGATOR'
/** Time given to a graceful stop before the process exits anyway. */
const STOP_DEADLINE_MS = 5_000

interface AggregatorFlags extends LogFlags {
  listen?: string[]
  http: string
  dataDir: string
  maxFrameBytes: string
  historyRetention: string
  storeFlushInterval: string
  heightSampleInterval: string
}

export function buildProgram (): Command {
  const program = configureProgram(new Command('heartbeat-aggregator'))
    .description('Takes heartbeats from agents over libp2p (/fil/heartbeat/2.0.0, and go-filecoin\'s fil/heartbeat/1.0.0) and serves the fleet\'s health: a web page, a JSON API and a live feed.')
    .version(PRODUCT_VERSION)
    .addOption(envOption(ENV, '--listen <multiaddr>', `libp2p listen address; repeatable (default: ${DEFAULT_LISTEN})`).argParser(collect))
    .addOption(envOption(ENV, '--http <host:port>', 'HTTP address of the page and the API').default(DEFAULT_HTTP))
    .addOption(envOption(ENV, '--data-dir <dir>', `holds the peer key (so the peer id survives restarts) and the store, ${STORE_FILE} (the fleet, its history)`).default(DEFAULT_DATA_DIR))
    .addOption(envOption(ENV, '--history-retention <duration>', 'how long height samples and status changes are kept').default(formatDuration(DEFAULT_HISTORY_RETENTION_MS)))
    .addOption(envOption(ENV, '--store-flush-interval <duration>', 'changes are written to the store once per interval (a crash loses at most this much)').default(formatDuration(DEFAULT_FLUSH_INTERVAL_MS)))
    .addOption(envOption(ENV, '--height-sample-interval <duration>', 'at most one stored height sample per node per interval').default(formatDuration(DEFAULT_HEIGHT_SAMPLE_INTERVAL_MS)))
    .addOption(envOption(ENV, '--max-frame-bytes <n>', 'largest heartbeat frame accepted; larger resets the stream').default(String(DEFAULT_MAX_FRAME_BYTES)))
  addLogOptions(program, ENV)
  program.addHelpText('after', `
Environment:
  Every flag has a twin: ${ENV}_<FLAG> (e.g. ${ENV}_LISTEN, ${ENV}_DATA_DIR).

HTTP:
  GET /                      the fleet page
  GET /api/v1/fleet          the fleet as JSON
  GET /api/v1/nodes/:peerId  one node
  GET /api/v1/events         live feed (server-sent events)
  GET /api/v1/nodes/:peerId/history?since=&until=   one node's heights and status changes
  GET /api/v1/history?since=&until=&limit=&cursor=  the fleet's status changes, newest first, paged

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
  const store = {
    retentionMs: parsePositiveDuration(flags.historyRetention, '--history-retention'),
    flushIntervalMs: parsePositiveDuration(flags.storeFlushInterval, '--store-flush-interval'),
    sampleIntervalMs: parsePositiveDuration(flags.heightSampleInterval, '--height-sample-interval'),
  }
  const logger = createLogger({ name: 'heartbeat-aggregator', level: flags.logLevel, format: flags.logFormat })
  const aggregator = new Aggregator({ listen, http, dataDir: flags.dataDir, maxFrameBytes, store, logger })
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
