import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { parsePositiveDuration } from '../shared/duration.ts'
import { ErrorCodes, HeartbeatError, UsageError, errorMessage } from '../shared/errors.ts'
import { LIMITS } from '../shared/protocol.ts'
import { parseTarget } from '../shared/target.ts'
import { MAX_TARGET_WEIGHT, MIN_TARGET_WEIGHT, DEFAULT_TARGET_WEIGHT } from './constants.ts'
import { assertDistinctTargets, parseWeightedTarget, type WeightedTarget } from './targets.ts'

/**
 * The agent's config file: JSON for what a reload may change (SIGHUP
 * re-reads it). Every field is optional; flags and environment variables
 * win over the file, the file wins over the defaults.
 *
 * {
 *   "nickname": "lotus-1",
 *   "minerAddress": "f01234",
 *   "targets": ["100=/ip4/10.0.0.5/tcp/4100/p2p/12D3KooW...", {"multiaddr": "/dns4/backup/tcp/4100/p2p/12D3KooW...", "weight": 50}],
 *   "fanOut": false,
 *   "beatPeriod": "3s", "reconnectPeriod": "10s", "errorLogPeriod": "10m"
 * }
 */
export interface AgentConfigFile {
  nickname?: string
  minerAddress?: string
  targets?: WeightedTarget[]
  fanOut?: boolean
  beatPeriodMs?: number
  reconnectPeriodMs?: number
  errorLogPeriodMs?: number
}

const targetEntry = z.union([
  z.string(),
  z.strictObject({
    multiaddr: z.string(),
    weight: z.number().int().min(MIN_TARGET_WEIGHT).max(MAX_TARGET_WEIGHT).optional(),
  }),
], { error: 'expected "[WEIGHT=]MULTIADDR" or {"multiaddr": "...", "weight": 0-100}' })

const schema = z.strictObject({
  nickname: z.string().max(LIMITS.nickname).optional(),
  minerAddress: z.string().max(LIMITS.minerAddress).optional(),
  targets: z.array(targetEntry).min(1).optional(),
  fanOut: z.boolean().optional(),
  beatPeriod: z.string().optional(),
  reconnectPeriod: z.string().optional(),
  errorLogPeriod: z.string().optional(),
})

type RawConfig = z.infer<typeof schema>

/** Reads and checks a config file; any mistake is a UsageError naming the file and the field. */
export async function loadConfigFile (path: string): Promise<AgentConfigFile> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_CONFIG, `config file ${path} cannot be read: ${errorMessage(err)}`)
  }
  return parseConfigText(text, path)
}

/** Parses the JSON text of a config file (`source` names it in errors). */
export function parseConfigText (text: string, source: string): AgentConfigFile {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_CONFIG, `config file ${source} is not valid JSON: ${errorMessage(err)}`)
  }
  const result = schema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    const field = issue === undefined ? '' : describeIssuePath(issue)
    throw new UsageError(ErrorCodes.INVALID_CONFIG, `config file ${source}: ${field}${issue?.message ?? 'invalid'}`)
  }
  return interpret(result.data, source)
}

function describeIssuePath (issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')} (known: ${Object.keys(schema.shape).join(', ')}): `
  }
  if (issue.path.length === 0) return ''
  return `field "${formatPath(issue.path)}": `
}

function formatPath (path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('')
}

/** Turns checked JSON into typed values; durations and multiaddrs get their own checks, named by field. */
function interpret (raw: RawConfig, source: string): AgentConfigFile {
  const field = <T>(name: string, parse: () => T): T => {
    try {
      return parse()
    } catch (err) {
      const message = err instanceof HeartbeatError ? err.message : errorMessage(err)
      throw new UsageError(ErrorCodes.INVALID_CONFIG, `config file ${source}: field "${name}": ${message}`)
    }
  }
  const config: AgentConfigFile = {}
  if (raw.nickname !== undefined) config.nickname = raw.nickname
  if (raw.minerAddress !== undefined) config.minerAddress = raw.minerAddress
  if (raw.fanOut !== undefined) config.fanOut = raw.fanOut
  if (raw.beatPeriod !== undefined) config.beatPeriodMs = field('beatPeriod', () => parsePositiveDuration(raw.beatPeriod as string, 'duration'))
  if (raw.reconnectPeriod !== undefined) config.reconnectPeriodMs = field('reconnectPeriod', () => parsePositiveDuration(raw.reconnectPeriod as string, 'duration'))
  if (raw.errorLogPeriod !== undefined) config.errorLogPeriodMs = field('errorLogPeriod', () => parsePositiveDuration(raw.errorLogPeriod as string, 'duration'))
  if (raw.targets !== undefined) {
    const targets = raw.targets.map((entry, i) => field(`targets[${i}]`, () => typeof entry === 'string'
      ? parseWeightedTarget(entry, 'target')
      : { target: parseTarget(entry.multiaddr), weight: entry.weight ?? DEFAULT_TARGET_WEIGHT }))
    field('targets', () => { assertDistinctTargets(targets, 'targets') })
    config.targets = targets
  }
  return config
}
