import { z } from 'zod'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { HEALTH_STATUSES } from '../../shared/health.ts'
import { LIMITS, MAX_UINT } from '../../shared/protocol.ts'
import { describeIssues } from '../../shared/validation.ts'
import { CHAIN_SOURCE_COMPONENT } from '../chain-monitor.ts'
import { describeExit, runCommand } from '../run-command.ts'
import type { ChainReading, ChainSource } from '../source.ts'

/** A component as a command reports it; details must fit in a heartbeat. */
const componentSchema = z.strictObject({
  status: z.enum(HEALTH_STATUSES),
  details: z.unknown().optional(),
}).refine((c) => c.details === undefined || jsonLength(c.details) <= LIMITS.detailsBytes,
  `details must be JSON of at most ${LIMITS.detailsBytes} bytes`)

/** Half the heartbeat's components at most: the rest is for the agent's own and the checks. */
const MAX_COMMAND_COMPONENTS = Math.floor(LIMITS.componentCount / 2)

/**
 * Below this a "milliseconds since the epoch" is before 1973: it is surely
 * seconds (what `date +%s` and most chains print), and taking it for ms would
 * call the head 50 years old. Refused with that hint instead.
 */
const MIN_PLAUSIBLE_MS = 1e11

/** The head's time: ms since the epoch, or an ISO 8601 string. */
export const headTimeSchema = z.union([
  z.number().int().min(0).max(MAX_UINT).refine((ms) => ms >= MIN_PLAUSIBLE_MS, 'headTime is milliseconds since the epoch: this value looks like seconds (multiply by 1000)'),
  z.string().max(64).transform((text, ctx) => {
    const ms = Date.parse(text)
    if (!Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({ code: 'custom', message: 'headTime must be milliseconds since the epoch or an ISO 8601 time' })
      return z.NEVER
    }
    return ms
  }),
])

/** What the command must print on stdout: one JSON object, nothing else. */
export const commandOutputSchema = z.strictObject({
  head: z.string().min(1).max(LIMITS.head),
  height: z.number().int().min(0).max(MAX_UINT),
  headTime: headTimeSchema.optional(),
  minerAddress: z.string().max(LIMITS.minerAddress).optional(),
  network: z.string().max(LIMITS.network).optional(),
  components: z.record(z.string().min(1).max(LIMITS.componentName), componentSchema)
    .refine((c) => Object.keys(c).length <= MAX_COMMAND_COMPONENTS, `at most ${MAX_COMMAND_COMPONENTS} components`)
    .refine((c) => !Object.hasOwn(c, CHAIN_SOURCE_COMPONENT), `"${CHAIN_SOURCE_COMPONENT}" is the agent's own component`)
    .optional(),
})

function jsonLength (value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? Infinity
  } catch {
    return Infinity
  }
}

/** Parses and validates what the command printed; pure. */
export function parseCommandOutput (stdout: string): ChainReading {
  const text = stdout.trim()
  if (text === '') throw new HeartbeatError(ErrorCodes.BAD_ANSWER, 'the command printed nothing (expected a JSON object {head, height, ...})')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `the command printed something that is not JSON: ${JSON.stringify(text.slice(0, 120))}`)
  }
  const parsed = commandOutputSchema.safeParse(value)
  if (!parsed.success) throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `the command's JSON is not usable: ${describeIssues(parsed.error)}`)
  const out = parsed.data
  return {
    head: out.head,
    height: out.height,
    ...(out.minerAddress !== undefined ? { minerAddress: out.minerAddress } : {}),
    ...(out.network !== undefined ? { network: out.network } : {}),
    ...(out.headTime !== undefined ? { headTime: out.headTime } : {}),
    ...(out.components !== undefined ? { components: out.components } : {}),
  }
}

export interface CommandSourceOptions {
  /** A shell command line, run with /bin/sh -c at every poll. */
  command: string
  env?: NodeJS.ProcessEnv
}

/**
 * Runs a command at every poll; it prints one JSON object
 * `{head, height, headTime?, minerAddress?, network?, components?}`. For nodes no built-in
 * source knows: a script that asks the node and prints the answer.
 * The poll's deadline kills it (and whatever it started) when it hangs.
 */
export class CommandSource implements ChainSource {
  readonly kind = 'command'
  private readonly command: string
  private readonly env: NodeJS.ProcessEnv | undefined

  constructor (options: CommandSourceOptions) {
    this.command = options.command
    this.env = options.env
  }

  async read ({ signal }: { signal: AbortSignal }): Promise<ChainReading> {
    const result = await runCommand(this.command, { signal, ...(this.env !== undefined ? { env: this.env } : {}) })
    if (result.exitCode !== 0) throw new HeartbeatError(ErrorCodes.COMMAND_FAILED, `the source command ${describeExit(result)}`)
    return parseCommandOutput(result.stdout)
  }
}
