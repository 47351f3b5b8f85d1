/**
 * The alert receivers the aggregator knows, besides the log (always on).
 * Adding one: its own file exporting `defineReceiver({...})` (kind, rules-file
 * key and entry schema, optional flag, check, create), and one line in
 * RECEIVER_KINDS below. The rules file, the command line, --help, the API and
 * the aggregator all read this list.
 */
import { Option } from 'commander'
import { z } from 'zod'
import type { Clock } from '../../../shared/clock.ts'
import { ErrorCodes, UsageError } from '../../../shared/errors.ts'
import { type QuietHours, quietHoursSchema, type Route, routeSchema } from '../routing.ts'
import { alertmanagerReceiver } from './alertmanager.ts'
import { discordReceiver } from './discord.ts'
import { emailReceiver } from './email.ts'
import { matrixReceiver } from './matrix.ts'
import { pagerdutyReceiver } from './pagerduty.ts'
import type { ReceiverContext } from './receiver.ts'
import type { EntryOf, ReceiverConfig, ReceiverDefinition } from './registry.ts'
import { RoutedReceiver } from './routed.ts'
import { slackReceiver } from './slack.ts'
import { telegramReceiver } from './telegram.ts'
import { webhookReceiver } from './webhook.ts'

export const RECEIVER_KINDS = [
  webhookReceiver,
  alertmanagerReceiver,
  telegramReceiver,
  discordReceiver,
  slackReceiver,
  pagerdutyReceiver,
  matrixReceiver,
  emailReceiver,
] as const

type Kinds = typeof RECEIVER_KINDS[number]

/** What every receiver entry of the rules file may carry besides its kind's own fields. */
export interface EntryCommon {
  /** Shown in the API, the logs and metrics; test-alert --receiver picks by it. Default: the kind, then kind-2, kind-3... */
  name?: string | undefined
  route?: Route | undefined
  quietHours?: QuietHours | undefined
}

/** One entry of the rules file's `receivers.<fileKey>`: the kind's own entry and the common fields. */
export type FileEntry<E> = EntryCommon & { entry: E }

/** The rules file's `receivers`, one array per kind, keyed by its fileKey (`webhooks`, `alertmanagers`, `telegram`...). */
export type FileReceivers = { [D in Kinds as D['fileKey']]: Array<FileEntry<EntryOf<D>>> }

const definitions: ReadonlyArray<ReceiverDefinition<string, string, any, any>> = RECEIVER_KINDS

const RECEIVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/
const commonSchema = z.strictObject({
  name: z.string().regex(RECEIVER_NAME, 'letters, digits, _ . - (at most 63), starting with a letter or digit').optional(),
  route: routeSchema.optional(),
  quietHours: quietHoursSchema.optional(),
})

/**
 * One entry: `name`, `route` and `quietHours` are taken off (the same for
 * every kind), the rest is the kind's own entry. Mistakes keep their path
 * (`receivers.telegram[0].chatId: ...`).
 */
function entrySchema (d: ReceiverDefinition<string, string, any, any>): z.ZodType<FileEntry<unknown>> {
  return z.unknown().transform((raw, ctx): FileEntry<unknown> => {
    let rest: unknown = raw
    let common: EntryCommon = {}
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
      const { name, route, quietHours, ...others } = raw as Record<string, unknown>
      const parsed = commonSchema.safeParse({ name, route, quietHours })
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as PropertyKey[] })
        return z.NEVER
      }
      common = parsed.data
      rest = others
    }
    const entry = d.fileEntry.safeParse(rest)
    if (!entry.success) {
      for (const issue of entry.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as PropertyKey[] })
      return z.NEVER
    }
    return { ...common, entry: entry.data }
  })
}

/** The zod schema of the rules file's `receivers` object. */
export function fileReceiversSchema (): z.ZodType<Partial<Record<string, unknown[]>>> {
  return z.strictObject(Object.fromEntries(definitions.map((d) => [d.fileKey, z.array(entrySchema(d)).optional()])))
}

/** Every kind's list, empty where the file names none. */
export function fileReceivers (parsed: Partial<Record<string, unknown[]>> | undefined): FileReceivers {
  return Object.fromEntries(definitions.map((d) => [d.fileKey, parsed?.[d.fileKey] ?? []])) as FileReceivers
}

/** The command-line flags of the receivers that have one (each repeatable, each with its environment twin). */
export function receiverFlags (): Array<{ kind: string, flags: string, description: string, attribute: string }> {
  return definitions.flatMap((d) => d.flag === undefined ? [] : [{ kind: d.kind, flags: d.flag.flags, description: d.flag.description, attribute: new Option(d.flag.flags).attributeName() }])
}

/** The file keys of the receiver kinds, for messages. */
export function receiverFileKeys (): string[] {
  return definitions.map((d) => d.fileKey)
}

/**
 * The configured receivers, checked, in the order the API lists them: per
 * kind, the rules file's first, then the flags'. Secrets are read now. Bad
 * settings are a UsageError naming where they came from.
 */
export function receiverConfigs (sources: { file?: FileReceivers, path?: string | undefined, flags?: Record<string, readonly string[] | undefined> | undefined }): ReceiverConfig[] {
  const out: ReceiverConfig[] = []
  for (const d of definitions) {
    const fromFile = (sources.file as Record<string, Array<FileEntry<unknown>>> | undefined)?.[d.fileKey] ?? []
    fromFile.forEach((e, i) => {
      out.push({ kind: d.kind, name: e.name, route: e.route, quietHours: e.quietHours, settings: d.check(e.entry, `receivers.${d.fileKey}[${i}] in ${sources.path ?? 'the rules file'}`) })
    })
    if (d.flag === undefined) continue
    const flag = d.flag.flags.split(' ')[0] ?? d.kind
    for (const value of sources.flags?.[d.kind] ?? []) out.push({ kind: d.kind, settings: d.check(d.flag.settings(value), flag) })
  }
  return withNames(out)
}

/** Gives every receiver a name: its own, else its kind (kind-2, kind-3 for more of one kind). Names must be unique. */
function withNames (configs: ReceiverConfig[]): ReceiverConfig[] {
  const taken = new Set<string>()
  for (const c of configs) {
    if (c.name === undefined) continue
    if (taken.has(c.name)) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `two alert receivers are named "${c.name}": names must be unique`)
    taken.add(c.name)
  }
  const perKind = new Map<string, number>()
  return configs.map((c) => {
    if (c.name !== undefined) return c
    let n = perKind.get(c.kind) ?? 0
    let name: string
    do {
      n++
      name = n === 1 ? c.kind : `${c.kind}-${n}`
    } while (taken.has(name))
    perKind.set(c.kind, n)
    taken.add(name)
    return { ...c, name }
  })
}

/** Makes the receivers of a config, each behind its route and quiet hours. */
export function createReceivers (configs: readonly ReceiverConfig[], context: ReceiverContext & { clock?: Clock }): RoutedReceiver[] {
  return withNames([...configs]).map((config) => {
    const definition = definitions.find((d) => d.kind === config.kind)
    if (definition === undefined) throw new Error(`unknown alert receiver kind "${config.kind}"`)
    const name = config.name as string
    const inner = definition.create(config.settings, { ...context, logger: context.logger.child({ receiverName: name }) })
    return new RoutedReceiver(inner, { name, route: config.route, quietHours: config.quietHours, clock: context.clock })
  })
}
