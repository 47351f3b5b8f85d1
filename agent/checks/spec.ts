import { z } from 'zod'
import { ErrorCodes, UsageError, errorMessage } from '../../shared/errors.ts'
import { describeIssues, zDuration } from '../../shared/validation.ts'
import { CHAIN_SOURCE_COMPONENT } from '../chain-monitor.ts'
import { DEFAULT_CHECK_INTERVAL_MS, DEFAULT_CHECK_SLOW_MS, DEFAULT_CHECK_TIMEOUT_MS } from '../constants.ts'
import { describeEndpoint, parseHttpUrl } from '../sources/jsonrpc.ts'
import { commandProbe } from './command.ts'
import { healthProbe } from './health.ts'
import { httpProbe } from './http.ts'
import { jsonRpcProbe } from './jsonrpc.ts'
import { parseHostPort, tcpProbe } from './tcp.ts'
import { CHECK_KINDS, CHECK_LEVELS, type CheckSpec, type RunnableCheck } from './types.ts'

/** Short, so CHECK/COMPONENT names of a health import still fit the heartbeat's 64 characters. */
const CHECK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/
/** Names the agent reports itself. */
export const RESERVED_NAMES: readonly string[] = [CHAIN_SOURCE_COMPONENT, 'sync']

/**
 * One check as the config file writes it (durations in Go syntax), turned into
 * a CheckSpec with the defaults filled in. Mistakes are issues on the field.
 */
export const checkNameSchema = z.string()
  .regex(CHECK_NAME, 'must be 1 to 32 letters, digits, "_", "." or "-", starting with a letter or digit')
  .refine((name) => !RESERVED_NAMES.includes(name), `is reserved (${RESERVED_NAMES.join(', ')} are the agent's own components)`)

export const checkInputSchema = z.strictObject({
  name: checkNameSchema,
  kind: z.enum(CHECK_KINDS),
  target: z.string().trim().min(1, 'must not be empty'),
  method: z.string().min(1).optional(),
  params: z.array(z.unknown()).optional(),
  timeout: zDuration({ positive: true }).optional(),
  slow: zDuration({ positive: true }).optional(),
  interval: zDuration({ positive: true }).optional(),
  level: z.enum(CHECK_LEVELS).optional(),
}).transform((input, ctx): CheckSpec => {
  let target = input.target
  let method = input.method
  const issue = (path: string, message: string): void => { ctx.addIssue({ code: 'custom', path: [path], message }) }
  try {
    switch (input.kind) {
      case 'http':
      case 'health':
        parseHttpUrl(target, `${input.kind} target`)
        break
      case 'jsonrpc': {
        // The method may ride on the URL as its fragment (never sent): http://host:8545#eth_blockNumber.
        const hash = target.indexOf('#')
        if (hash >= 0) {
          if (method !== undefined) issue('method', 'given twice: in the target after "#" and as method')
          method = target.slice(hash + 1)
          target = target.slice(0, hash)
        }
        parseHttpUrl(target, 'jsonrpc target')
        if (method === undefined || method === '') issue('method', 'a jsonrpc check needs a method: target URL#METHOD, or method in the config file')
        break
      }
      case 'tcp':
        parseHostPort(target)
        break
      case 'command':
        break
    }
  } catch (err) {
    issue('target', errorMessage(err))
  }
  if (input.params !== undefined && input.kind !== 'jsonrpc') issue('params', 'only a jsonrpc check takes params')
  const spec: CheckSpec = {
    name: input.name,
    kind: input.kind,
    target,
    timeoutMs: input.timeout ?? DEFAULT_CHECK_TIMEOUT_MS,
    slowMs: input.slow ?? DEFAULT_CHECK_SLOW_MS,
    intervalMs: input.interval ?? DEFAULT_CHECK_INTERVAL_MS,
    level: input.level ?? 'core',
  }
  if (method !== undefined) spec.method = method
  if (input.params !== undefined) spec.params = input.params
  return spec
})

export type CheckInput = z.input<typeof checkInputSchema>

const FLAG_FORM = /^([^=]+)=([a-z]+):(.*)$/s

/**
 * Parses `--check NAME=KIND:TARGET`, e.g. `api=http:http://127.0.0.1:1234/health`,
 * `p2p=tcp:127.0.0.1:1347`, `rpc=jsonrpc:http://127.0.0.1:8545#eth_blockNumber`,
 * `disk=command:test -w /var/lib/lotus`. Timing and level come from the
 * defaults; the config file can say more.
 */
export function parseCheckFlag (text: string): CheckSpec {
  const match = FLAG_FORM.exec(text.trim())
  if (match === null) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT,
      `invalid --check "${text}": expected NAME=KIND:TARGET with KIND one of ${CHECK_KINDS.join(', ')} (e.g. api=http:http://127.0.0.1:1234/health)`)
  }
  const parsed = checkInputSchema.safeParse({ name: match[1], kind: match[2], target: match[3] })
  if (!parsed.success) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid --check "${text}": ${describeIssues(parsed.error)}`)
  return parsed.data
}

/** Checks must have distinct names: each is one component. */
export function assertUniqueNames (specs: Array<{ name: string }>, where: string): void {
  const seen = new Set<string>()
  for (const spec of specs) {
    if (seen.has(spec.name)) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `${where}: two checks are named "${spec.name}"; each check is a component and needs its own name`)
    seen.add(spec.name)
  }
}

/** The probe for a spec, with its schedule. */
export function createCheck (spec: CheckSpec): RunnableCheck {
  const base = { name: spec.name, level: spec.level, timeoutMs: spec.timeoutMs, slowMs: spec.slowMs, intervalMs: spec.intervalMs }
  switch (spec.kind) {
    // Descriptions go to logs: URLs without their paths (API keys hide there), commands not at all.
    case 'http': {
      const url = parseHttpUrl(spec.target, 'http target')
      return { ...base, description: `http ${describeEndpoint(url)}`, probe: httpProbe(url) }
    }
    case 'health': {
      const url = parseHttpUrl(spec.target, 'health target')
      return { ...base, description: `health ${describeEndpoint(url)}`, probe: healthProbe(url) }
    }
    case 'tcp':
      return { ...base, description: `tcp ${spec.target}`, probe: tcpProbe(parseHostPort(spec.target)) }
    case 'jsonrpc': {
      const url = parseHttpUrl(spec.target, 'jsonrpc target')
      return { ...base, description: `jsonrpc ${spec.method ?? ''} ${describeEndpoint(url)}`, probe: jsonRpcProbe(spec.target, spec.method ?? '', spec.params) }
    }
    case 'command':
      return { ...base, description: 'command', probe: commandProbe(spec.target) }
  }
}
