import type { Command } from 'commander'
import { formatDuration, parsePositiveDuration } from '../shared/duration.ts'
import { collect, envOption } from '../shared/cli.ts'
import { boundedDuration, positiveInt, positiveNumber } from '../shared/flag-parsers.ts'
import { DEFAULT_INGEST_LIMITS, type IngestLimits, type PeerListsConfig } from './ingest/index.ts'
import { parsePeerListSpec } from './ingest/peer-lists.ts'
import { DEFAULT_FEED_LIMITS } from './http/feed-guard.ts'
import { DEFAULT_DETAILS_MODE, DETAILS_MODES, type DetailsMode } from './fleet/exposure.ts'
import { parseCorsOrigin } from './http/security.ts'
import type { ExposureOptions } from './aggregator.ts'

/** The aggregator's peer admission, ingest limit and exposure flags (docs/security.md). */
export interface SecurityFlags {
  allowPeers?: string
  denyPeers?: string
  maxConnectionsPerIp: string
  maxNodes: string
  beatRate: string
  beatBurst: string
  floodPenalty: string
  firstFrameTimeout: string
  maxFeedClients: string
  details: DetailsMode
  corsOrigin?: string[]
}

export function addSecurityOptions (program: Command, env: string): void {
  const d = DEFAULT_INGEST_LIMITS
  program
    .addOption(envOption(env, '--allow-peers <file|ids>', 'only these peers may connect: peer ids separated by commas, or a file of them (one per line, # comments); re-read on SIGHUP'))
    .addOption(envOption(env, '--deny-peers <file|ids>', 'these peers may never connect (wins over --allow-peers); same forms; re-read on SIGHUP'))
    .addOption(envOption(env, '--max-connections-per-ip <n>', 'open connections from one IP address').default(String(d.maxConnectionsPerIp)))
    .addOption(envOption(env, '--max-nodes <n>', 'nodes tracked; heartbeats of further new peers are refused').default(String(d.maxNodes)))
    .addOption(envOption(env, '--beat-rate <per-second>', 'heartbeats per second one peer may send; excess is dropped').default(String(d.beatRatePerSecond)))
    .addOption(envOption(env, '--beat-burst <n>', 'heartbeats one peer may send at once above the rate').default(String(d.beatBurst)))
    .addOption(envOption(env, '--flood-penalty <duration>', `a peer that keeps flooding (${d.floodDrops} drops in ${formatDuration(d.floodWindowMs)}) is disconnected and refused this long`).default(formatDuration(d.floodPenaltyMs)))
    .addOption(envOption(env, '--first-frame-timeout <duration>', 'a heartbeat stream that sends nothing this long is reset').default(formatDuration(d.firstFrameTimeoutMs)))
    .addOption(envOption(env, '--max-feed-clients <n>', 'live-feed (SSE) clients at once; more get 503').default(String(DEFAULT_FEED_LIMITS.maxClients)))
    .addOption(envOption(env, '--details <mode>', 'who sees component details and remote addresses in the API and page').choices(DETAILS_MODES).default(DEFAULT_DETAILS_MODE))
    .addOption(envOption(env, '--cors-origin <origin>', 'let this origin read the API from a browser (repeatable, or *); CORS is off by default').argParser(collect))
  program.addHelpText('after', `
Security (docs/security.md):
  Agents are known by their libp2p peer id, proven by the Noise handshake.
  --allow-peers/--deny-peers refuse peers right after the handshake; kill -HUP re-reads them.
  Admin routes (marked below) need Authorization: Bearer <token from --admin-token-file>.`)
}

export interface SecurityOptions {
  peerLists: PeerListsConfig
  limits: Partial<IngestLimits>
  exposure: ExposureOptions
}

/** Turns the flags into aggregator options. Mistakes are UsageErrors. */
export async function securityOptionsFromFlags (flags: SecurityFlags): Promise<SecurityOptions> {
  const peerLists: PeerListsConfig = {}
  if (flags.allowPeers !== undefined) peerLists.allowPeers = parsePeerListSpec(flags.allowPeers, '--allow-peers')
  if (flags.denyPeers !== undefined) peerLists.denyPeers = parsePeerListSpec(flags.denyPeers, '--deny-peers')
  const limits: Partial<IngestLimits> = {
    maxConnectionsPerIp: positiveInt(flags.maxConnectionsPerIp, '--max-connections-per-ip'),
    maxNodes: positiveInt(flags.maxNodes, '--max-nodes'),
    beatRatePerSecond: positiveNumber(flags.beatRate, '--beat-rate'),
    beatBurst: positiveInt(flags.beatBurst, '--beat-burst'),
    floodPenaltyMs: parsePositiveDuration(flags.floodPenalty, '--flood-penalty'),
    firstFrameTimeoutMs: boundedDuration(flags.firstFrameTimeout, '--first-frame-timeout'),
  }
  const exposure: ExposureOptions = {
    details: flags.details,
    corsOrigins: (flags.corsOrigin ?? []).map(parseCorsOrigin),
    feed: { maxClients: positiveInt(flags.maxFeedClients, '--max-feed-clients') },
  }
  return { peerLists, limits, exposure }
}
