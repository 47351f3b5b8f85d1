import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { parseDuration, parsePositiveDuration } from '../shared/duration.ts'
import { ErrorCodes, UsageError, errorMessage } from '../shared/errors.ts'
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../shared/log.ts'
import { LIMITS } from '../shared/protocol.ts'
import { describeIssues, zDuration } from '../shared/validation.ts'
import { assertUniqueNames, checkInputSchema, parseCheckFlag } from './checks/spec.ts'
import type { CheckSpec } from './checks/types.ts'
import {
  DEFAULT_BEAT_PERIOD_MS, DEFAULT_DEMO_BLOCK_TIME_MS, DEFAULT_ERROR_LOG_PERIOD_MS, DEFAULT_ETH_URL, DEFAULT_LOTUS_URL,
  DEFAULT_RECONNECT_PERIOD_MS, DEFAULT_SOURCE_TIMEOUT_MS, DEFAULT_UNREACHABLE_AFTER_MS,
} from './constants.ts'
import { SOURCE_KINDS, type SourceKind } from './source.ts'
import { FULLNODE_API_INFO, parseApiInfo, type ApiInfo } from './sources/api-info.ts'
import { assertDistinctTargets, parseWeight, parseWeightedTarget, type WeightedTarget } from './targets.ts'

/** A target: "[WEIGHT=]MULTIADDR" as on the command line, or {multiaddr, weight}. */
const target = z.union([
  z.string(),
  z.strictObject({ multiaddr: z.string(), weight: z.number().optional() }),
]).transform((value, ctx): WeightedTarget => {
  try {
    if (typeof value === 'string') return parseWeightedTarget(value, 'target')
    const parsed = parseWeightedTarget(value.multiaddr, 'target')
    return value.weight === undefined ? parsed : { ...parsed, weight: parseWeight(value.weight, `target ${value.multiaddr}`) }
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: errorMessage(err) })
    return z.NEVER
  }
})

/**
 * The agent's config file (JSON, or YAML for .yaml/.yml): everything the flags
 * say, with the same names in camelCase, plus what flags cannot say
 * comfortably (many checks, each with its own timing and level). Unknown
 * fields are mistakes (a typo must not be silently ignored).
 */
export const agentConfigSchema = z.strictObject({
  targets: z.array(target).min(1, 'give at least one target, or leave "targets" out').superRefine((targets, ctx) => {
    try {
      assertDistinctTargets(targets, 'targets')
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: errorMessage(err) })
    }
  }).optional(),
  fanOut: z.boolean().optional(),
  nickname: z.string().max(LIMITS.nickname).optional(),
  minerAddress: z.string().max(LIMITS.minerAddress).optional(),
  beatPeriod: zDuration({ positive: true }).optional(),
  reconnectPeriod: zDuration({ positive: true }).optional(),
  errorLogPeriod: zDuration({ positive: true }).optional(),
  unreachableAfter: zDuration({ positive: true }).optional(),
  keyFile: z.string().min(1).optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
  logFormat: z.enum(LOG_FORMATS).optional(),
  source: z.strictObject({
    kind: z.enum(SOURCE_KINDS).optional(),
    url: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    tokenFile: z.string().min(1).optional(),
    command: z.string().min(1).optional(),
    timeout: zDuration({ positive: true }).optional(),
    demoBlockTime: zDuration({ positive: true }).optional(),
  }).refine((s) => s.token === undefined || s.tokenFile === undefined, { message: 'give token or tokenFile, not both', path: ['tokenFile'] })
    .optional(),
  checks: z.array(checkInputSchema).superRefine((checks, ctx) => {
    const seen = new Set<string>()
    checks.forEach((check, i) => {
      if (seen.has(check.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${check.name}" is used by another check` })
      seen.add(check.name)
    })
  }).optional(),
})

/** The fields a config object at `path` may have, to name them when a typo is refused. */
function knownConfigKeys (path: ReadonlyArray<PropertyKey>): string[] | undefined {
  if (path.length === 0) return Object.keys(agentConfigSchema.shape)
  if (path.length === 1 && path[0] === 'source') return ['kind', 'url', 'token', 'tokenFile', 'command', 'timeout', 'demoBlockTime']
  return undefined
}

/** A validated config file: durations already in milliseconds. */
export type AgentConfig = z.output<typeof agentConfigSchema>

export type ConfigFormat = 'json' | 'yaml'

export function configFormatOf (path: string): ConfigFormat {
  return extname(path).toLowerCase() === '.json' ? 'json' : 'yaml'
}

/**
 * Text -> validated config, or a UsageError naming the file and the field.
 * Pure, so a reload (SIGHUP) can run it again and keep the old config when
 * the new text is wrong.
 */
export function parseAgentConfig (text: string, options: { format: ConfigFormat, name: string }): AgentConfig {
  let value: unknown
  try {
    value = options.format === 'json' ? JSON.parse(text) : parseYaml(text)
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_CONFIG, `config file ${options.name} is not valid ${options.format.toUpperCase()}: ${errorMessage(err).split('\n')[0] ?? ''}`)
  }
  // An empty YAML file is null: nothing configured.
  if (value === null || value === undefined) value = {}
  const parsed = agentConfigSchema.safeParse(value)
  if (!parsed.success) {
    throw new UsageError(ErrorCodes.INVALID_CONFIG, `config file ${options.name}: ${describeIssues(parsed.error, { knownKeys: knownConfigKeys })}`)
  }
  return parsed.data
}

/** Reads and parses a config file; the format follows the extension (.json, else YAML). */
export function loadAgentConfig (path: string): AgentConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_CONFIG, `cannot read config file ${path}: ${errorMessage(err)}`)
  }
  return parseAgentConfig(text, { format: configFormatOf(path), name: path })
}

/** The agent's flags as commander gives them (text, before parsing). */
export interface AgentFlagValues {
  config?: string
  target?: string[]
  fanOut?: boolean
  healthListen?: string
  maintenance?: boolean
  maintenanceFor?: string
  maintenanceReason?: string
  nickname?: string
  minerAddress?: string
  beatPeriod?: string
  reconnectPeriod?: string
  errorLogPeriod?: string
  unreachableAfter?: string
  keyFile?: string
  logLevel?: LogLevel
  logFormat?: LogFormat
  source?: SourceKind
  sourceUrl?: string
  sourceToken?: string
  sourceTokenFile?: string
  sourceCommand?: string
  sourceTimeout?: string
  demoBlockTime?: string
  check?: string[]
}

/** Where the source's settings came from, for the start-up line (which never shows the token). */
export interface SourceOrigin {
  /** given: --source, its env twin or the config file; FULLNODE_API_INFO: it is set and --source is not; default: demo. */
  kind: 'given' | 'FULLNODE_API_INFO' | 'default'
  /** Where the URL came from (undefined for sources without one). */
  url: 'given' | 'FULLNODE_API_INFO' | 'default' | undefined
  token: { from: 'flag' } | { from: 'config' } | { from: 'file', path: string } | { from: 'FULLNODE_API_INFO' } | { from: 'none' }
  /** FULLNODE_API_INFO is set but not read, and why. */
  apiInfoIgnored?: string
}

export interface SourceSettings {
  kind: SourceKind
  /** The node's JSON-RPC URL (lotus, eth: the kind's default when nothing else gives one); undefined for the others. */
  url: string | undefined
  /** A token given directly, or a file to read it from (never both). */
  token: string | undefined
  tokenFile: string | undefined
  command: string | undefined
  timeoutMs: number
  demoBlockTimeMs: number
  origin: SourceOrigin
}

/** Everything the agent runs with, after flags, environment, file and defaults. */
export interface ResolvedAgentConfig {
  targets: WeightedTarget[]
  fanOut: boolean
  nickname: string
  minerAddress: string
  beatPeriodMs: number
  reconnectPeriodMs: number
  errorLogPeriodMs: number
  unreachableAfterMs: number
  keyFile: string
  logLevel: LogLevel
  logFormat: LogFormat
  source: SourceSettings
  checks: CheckSpec[]
}

export interface SettingsInputs {
  /** Flags given on the command line or through their environment twins (commander already put the command line first). */
  explicit: AgentFlagValues
  /** The config file, if any. */
  file?: AgentConfig
  /** The flags' defaults, as --help shows them. */
  defaults: AgentFlagValues & { nickname: string, keyFile: string }
  /** Environment the node's own tools set (FULLNODE_API_INFO), read for the lotus source. */
  env?: { fullnodeApiInfo?: string | undefined }
}

/**
 * The chain source: flags > environment twins > config file > FULLNODE_API_INFO > defaults.
 * FULLNODE_API_INFO (Lotus's and Forest's own variable) makes `lotus` the
 * default kind and gives URL and token when no --source-url is given; a
 * --source-token(-file) beats its token. A malformed value is refused only
 * when it would be used.
 */
function resolveSource (explicit: AgentFlagValues, fileSource: NonNullable<AgentConfig['source']>, defaults: AgentFlagValues, apiInfoText: string | undefined): Pick<SourceSettings, 'kind' | 'url' | 'token' | 'tokenFile' | 'origin'> {
  const apiInfoSet = apiInfoText !== undefined && apiInfoText.trim() !== ''
  const givenKind = explicit.source ?? fileSource.kind
  const kind: SourceKind = givenKind ?? (apiInfoSet ? 'lotus' : defaults.source ?? 'demo')
  const givenUrl = explicit.sourceUrl ?? fileSource.url
  let apiInfo: ApiInfo | undefined
  let apiInfoIgnored: string | undefined
  if (apiInfoSet) {
    if (kind !== 'lotus') apiInfoIgnored = `--source ${kind} does not read it`
    else if (givenUrl !== undefined) apiInfoIgnored = '--source-url is given'
    else apiInfo = parseApiInfo(apiInfoText)
  }
  // The token is one setting given several ways: the highest level that gives one wins.
  let token: string | undefined
  let tokenFile: string | undefined
  let tokenOrigin: SourceOrigin['token'] = { from: 'none' }
  if (explicit.sourceToken !== undefined || explicit.sourceTokenFile !== undefined) {
    if (explicit.sourceToken !== undefined && explicit.sourceTokenFile !== undefined) {
      throw new UsageError(ErrorCodes.INVALID_ARGUMENT, 'give --source-token or --source-token-file, not both')
    }
    token = explicit.sourceToken
    tokenFile = explicit.sourceTokenFile
    tokenOrigin = tokenFile !== undefined ? { from: 'file', path: tokenFile } : { from: 'flag' }
  } else if (fileSource.token !== undefined || fileSource.tokenFile !== undefined) {
    token = fileSource.token
    tokenFile = fileSource.tokenFile
    tokenOrigin = tokenFile !== undefined ? { from: 'file', path: tokenFile } : { from: 'config' }
  } else if (apiInfo?.token !== undefined) {
    token = apiInfo.token
    tokenOrigin = { from: 'FULLNODE_API_INFO' }
  }
  const kindDefaultUrl = kind === 'lotus' ? DEFAULT_LOTUS_URL : kind === 'eth' ? DEFAULT_ETH_URL : undefined
  const url = givenUrl ?? apiInfo?.url ?? kindDefaultUrl
  const urlOrigin: SourceOrigin['url'] = givenUrl !== undefined ? 'given' : apiInfo !== undefined ? 'FULLNODE_API_INFO' : kindDefaultUrl !== undefined ? 'default' : undefined
  return {
    kind,
    url,
    token,
    tokenFile,
    origin: {
      kind: givenKind !== undefined ? 'given' : apiInfoSet ? FULLNODE_API_INFO : 'default',
      url: urlOrigin,
      token: tokenOrigin,
      ...(apiInfoIgnored !== undefined ? { apiInfoIgnored } : {}),
    },
  }
}

/**
 * Resolves every setting: flags > environment > config file > defaults.
 * Values from flags are parsed here (errors name the flag); the file's were
 * validated when it was parsed (errors name the field); pure.
 */
export function resolveAgentSettings ({ explicit, file, defaults, env }: SettingsInputs): ResolvedAgentConfig {
  const duration = (flag: string | undefined, fromFile: number | undefined, fallback: string | undefined, defaultMs: number, name: string): number => {
    if (flag !== undefined) return parsePositiveDuration(flag, name)
    if (fromFile !== undefined) return fromFile
    return fallback !== undefined ? parsePositiveDuration(fallback, name) : defaultMs
  }
  const fileSource = file?.source ?? {}
  const source = resolveSource(explicit, fileSource, defaults, env?.fullnodeApiInfo)
  const sourceTimeoutMs = explicit.sourceTimeout !== undefined
    ? parsePositiveDuration(explicit.sourceTimeout, '--source-timeout')
    : fileSource.timeout ?? (defaults.sourceTimeout !== undefined ? parseDuration(defaults.sourceTimeout, '--source-timeout') : DEFAULT_SOURCE_TIMEOUT_MS)
  const targets = explicit.target !== undefined ? explicit.target.map((t) => parseWeightedTarget(t)) : (file?.targets ?? [])
  assertDistinctTargets(targets)
  return {
    targets,
    fanOut: explicit.fanOut ?? file?.fanOut ?? false,
    nickname: explicit.nickname ?? file?.nickname ?? defaults.nickname,
    minerAddress: explicit.minerAddress ?? file?.minerAddress ?? defaults.minerAddress ?? '',
    beatPeriodMs: duration(explicit.beatPeriod, file?.beatPeriod, defaults.beatPeriod, DEFAULT_BEAT_PERIOD_MS, '--beat-period'),
    reconnectPeriodMs: duration(explicit.reconnectPeriod, file?.reconnectPeriod, defaults.reconnectPeriod, DEFAULT_RECONNECT_PERIOD_MS, '--reconnect-period'),
    errorLogPeriodMs: duration(explicit.errorLogPeriod, file?.errorLogPeriod, defaults.errorLogPeriod, DEFAULT_ERROR_LOG_PERIOD_MS, '--error-log-period'),
    unreachableAfterMs: duration(explicit.unreachableAfter, file?.unreachableAfter, defaults.unreachableAfter, DEFAULT_UNREACHABLE_AFTER_MS, '--unreachable-after'),
    keyFile: explicit.keyFile ?? file?.keyFile ?? defaults.keyFile,
    logLevel: explicit.logLevel ?? file?.logLevel ?? defaults.logLevel ?? 'info',
    logFormat: explicit.logFormat ?? file?.logFormat ?? defaults.logFormat ?? 'json',
    source: {
      ...source,
      command: explicit.sourceCommand ?? fileSource.command,
      timeoutMs: sourceTimeoutMs,
      demoBlockTimeMs: duration(explicit.demoBlockTime, fileSource.demoBlockTime, defaults.demoBlockTime, DEFAULT_DEMO_BLOCK_TIME_MS, '--demo-block-time'),
    },
    checks: mergeChecks(file?.checks ?? [], (explicit.check ?? []).map(parseCheckFlag)),
  }
}

/** The file's checks, with --check ones replacing those of the same name and the rest added. */
function mergeChecks (fromFile: CheckSpec[], fromFlags: CheckSpec[]): CheckSpec[] {
  assertUniqueNames(fromFlags, '--check')
  const byName = new Map(fromFile.map((c) => [c.name, c]))
  for (const check of fromFlags) byName.set(check.name, check)
  return [...byName.values()]
}
