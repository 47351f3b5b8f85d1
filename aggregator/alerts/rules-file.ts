import { z } from 'zod'
import { parseDuration } from '../../shared/duration.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { HEALTH_STATUSES } from '../../shared/health.ts'
import { DEFAULT_REPEAT_INTERVAL_MS } from './constants.ts'
import { fileReceivers, fileReceiversSchema, type FileReceivers } from './receivers/index.ts'
import { type AlertRule, builtInRules, type RuleCondition } from './rules.ts'
import { SEVERITIES } from './types.ts'

export interface RulesDocument {
  rules: AlertRule[]
  /** Receivers named in the file, per kind, before their URLs are checked. */
  receivers: FileReceivers
}

/** Labels the alert sets itself from its rule and subject; a rule may not set them. */
export const RESERVED_LABELS = ['alertname', 'severity', 'peer_id', 'nickname', 'network', 'component'] as const

/** Node statuses a rule may match: `stopped` is excluded, a node that announced a stop never fires. */
const MATCHABLE_STATUSES = ['healthy', 'degraded', 'unhealthy', 'stale', 'down'] as const

const duration = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text)
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration: use Go syntax such as 30s, 5m or 1h30m` })
    return z.NEVER
  }
})

const positiveDuration = duration.refine((ms) => ms > 0, { message: 'must be greater than zero' })

const labels = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'label names are letters, digits and _, not starting with a digit (Prometheus rules)')
    .refine((name) => !(RESERVED_LABELS as readonly string[]).includes(name), { message: `is set by the alert itself (${RESERVED_LABELS.join(', ')})` }),
  z.string().max(1024),
)

const common = {
  name: z.string().min(1).max(100).regex(/^[^\s/]+$/, 'no spaces or slashes'),
  severity: z.enum(SEVERITIES).optional(),
  for: duration.optional(),
  repeatInterval: positiveDuration.optional(),
  labels: labels.optional(),
  description: z.string().max(1000).optional(),
}

const ruleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...common, kind: z.literal('node_status'), statuses: z.array(z.enum(MATCHABLE_STATUSES)).min(1) }),
  z.strictObject({ ...common, kind: z.literal('node_lag'), maxLag: z.number().int().min(0) }),
  z.strictObject({ ...common, kind: z.literal('head_stuck'), after: positiveDuration }),
  z.strictObject({
    ...common,
    kind: z.literal('component'),
    statuses: z.array(z.enum(HEALTH_STATUSES)).min(1),
    components: z.array(z.string().min(1)).min(1).optional(),
  }),
  z.strictObject({
    ...common,
    kind: z.literal('fleet_min_healthy'),
    min: z.number().int().min(1),
    statuses: z.array(z.enum(MATCHABLE_STATUSES)).min(1).optional(),
  }),
  z.strictObject({ ...common, kind: z.literal('network_dispute'), maxInDispute: z.number().int().min(0).optional() }),
  z.strictObject({ ...common, kind: z.literal('network_behind_clock') }),
  z.strictObject({ ...common, kind: z.literal('identity_conflict') }),
])

const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  /** Keep the built-in rules (default); a file rule with a built-in's name replaces it. */
  builtins: z.boolean().optional(),
  /** Built-in rules to leave out, by name. */
  disable: z.array(z.string()).optional(),
  repeatInterval: positiveDuration.optional(),
  rules: z.array(ruleSchema).optional(),
  /** One array per receiver kind (receivers/index.ts). */
  receivers: fileReceiversSchema().optional(),
})

type FileRule = z.output<typeof ruleSchema>

/**
 * Validates a parsed rules file and merges it with the built-in rules.
 * Throws RulesFileError naming the offending field, e.g.
 * `rules[2].maxLag: Invalid input: expected number, received string`.
 */
export function parseRulesDocument (value: unknown, options: { forMs: number }): RulesDocument {
  const parsed = fileSchema.safeParse(value)
  if (!parsed.success) throw new RulesFileError(formatIssues(parsed.error.issues))
  const file = parsed.data
  const repeatInterval = file.repeatInterval ?? DEFAULT_REPEAT_INTERVAL_MS
  const builtIns = builtInRules(options.forMs).map((r) => ({ ...r, repeatInterval }))
  const builtInNames = new Set(builtIns.map((r) => r.name))
  const disabled = new Set(file.disable ?? [])
  for (const [i, name] of (file.disable ?? []).entries()) {
    if (!builtInNames.has(name)) throw new RulesFileError(`disable[${i}]: "${name}" is not a built-in rule (built-in: ${[...builtInNames].join(', ')})`)
  }
  const fileRules = (file.rules ?? []).map((r) => toRule(r, options.forMs, repeatInterval))
  const names = new Set<string>()
  for (const [i, rule] of fileRules.entries()) {
    if (names.has(rule.name)) throw new RulesFileError(`rules[${i}].name: "${rule.name}" is used by another rule`)
    names.add(rule.name)
  }
  const keptBuiltIns = file.builtins === false ? [] : builtIns.filter((r) => !disabled.has(r.name) && !names.has(r.name))
  return {
    rules: [...keptBuiltIns, ...fileRules],
    receivers: fileReceivers(file.receivers),
  }
}

function toRule (r: FileRule, forMs: number, repeatInterval: number): AlertRule {
  const common = {
    name: r.name,
    severity: r.severity ?? 'warning',
    for: r.for ?? forMs,
    repeatInterval: r.repeatInterval ?? repeatInterval,
    labels: r.labels ?? {},
    description: r.description,
  }
  let condition: RuleCondition
  switch (r.kind) {
    case 'node_status': condition = { kind: r.kind, statuses: r.statuses }; break
    case 'node_lag': condition = { kind: r.kind, maxLag: r.maxLag }; break
    case 'head_stuck': condition = { kind: r.kind, after: r.after }; break
    case 'component': condition = { kind: r.kind, statuses: r.statuses, components: r.components }; break
    case 'fleet_min_healthy': condition = { kind: r.kind, min: r.min, statuses: r.statuses ?? ['healthy', 'degraded'] }; break
    case 'network_dispute': condition = { kind: r.kind, maxInDispute: r.maxInDispute ?? 0 }; break
    case 'network_behind_clock': condition = { kind: r.kind }; break
    case 'identity_conflict': condition = { kind: r.kind }; break
  }
  return { ...common, ...condition }
}

/** A rules file that does not parse; config.ts names the file and turns it into a UsageError. */
export class RulesFileError extends HeartbeatError {
  constructor (message: string) {
    super(ErrorCodes.INVALID_ALERT_RULES, message)
    this.name = 'RulesFileError'
  }
}

/** zod issues as `path: message` lines; the first few only, a bad file usually has one cause. */
function formatIssues (issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, 3).map((issue) => {
    const nested = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined
    const path = formatPath(issue.path)
    return `${path === '' ? '(top level)' : path}: ${nested ?? issue.message}`
  })
  if (issues.length > 3) lines.push(`(and ${issues.length - 3} more)`)
  return lines.join('; ')
}

function formatPath (path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else out += out === '' ? String(key) : `.${String(key)}`
  }
  return out
}
