/**
 * The alert receivers the aggregator knows, besides the log (always on).
 * Adding one: its own file exporting `defineReceiver({...})` (kind, rules-file
 * key and entry schema, optional flag, check, create), and one line in
 * RECEIVER_KINDS below. The rules file, the command line, --help, the API and
 * the aggregator all read this list.
 */
import { Option } from 'commander'
import { z } from 'zod'
import { alertmanagerReceiver } from './alertmanager.ts'
import type { AlertReceiver, ReceiverContext } from './receiver.ts'
import type { ReceiverConfig, ReceiverDefinition, SettingsOf } from './registry.ts'
import { webhookReceiver } from './webhook.ts'

export const RECEIVER_KINDS = [
  webhookReceiver,
  alertmanagerReceiver,
] as const

type Kinds = typeof RECEIVER_KINDS[number]

/** The rules file's `receivers`, one array per kind, keyed by its fileKey (`webhooks`, `alertmanagers`...). */
export type FileReceivers = { [D in Kinds as D['fileKey']]: Array<SettingsOf<D>> }

const definitions: ReadonlyArray<ReceiverDefinition<string, string, any>> = RECEIVER_KINDS

/** The zod schema of the rules file's `receivers` object. */
export function fileReceiversSchema (): z.ZodType<Partial<Record<string, unknown[]>>> {
  return z.strictObject(Object.fromEntries(definitions.map((d) => [d.fileKey, z.array(d.fileEntry).optional()])))
}

/** Every kind's list, empty where the file names none. */
export function fileReceivers (parsed: Partial<Record<string, unknown[]>> | undefined): FileReceivers {
  return Object.fromEntries(definitions.map((d) => [d.fileKey, parsed?.[d.fileKey] ?? []])) as FileReceivers
}

/** The command-line flags of the receivers that have one (each repeatable, each with its environment twin). */
export function receiverFlags (): Array<{ kind: string, flags: string, description: string, attribute: string }> {
  return definitions.flatMap((d) => d.flag === undefined ? [] : [{ kind: d.kind, flags: d.flag.flags, description: d.flag.description, attribute: new Option(d.flag.flags).attributeName() }])
}

/**
 * The configured receivers, checked, in the order the API lists them: per
 * kind, the rules file's first, then the flags'. Bad settings are a
 * UsageError naming where they came from.
 */
export function receiverConfigs (sources: { file?: FileReceivers, path?: string, flags?: Record<string, readonly string[] | undefined> }): ReceiverConfig[] {
  const out: ReceiverConfig[] = []
  for (const d of definitions) {
    const fromFile = (sources.file as Record<string, unknown[]> | undefined)?.[d.fileKey] ?? []
    fromFile.forEach((settings, i) => { out.push({ kind: d.kind, settings: d.check(settings, `receivers.${d.fileKey}[${i}] in ${sources.path ?? 'the rules file'}`) }) })
    if (d.flag === undefined) continue
    const name = d.flag.flags.split(' ')[0] ?? d.kind
    for (const value of sources.flags?.[d.kind] ?? []) out.push({ kind: d.kind, settings: d.check(d.flag.settings(value), name) })
  }
  return out
}

/** Makes the receivers of a config. */
export function createReceivers (configs: readonly ReceiverConfig[], context: ReceiverContext): AlertReceiver[] {
  return configs.map((config) => {
    const definition = definitions.find((d) => d.kind === config.kind)
    if (definition === undefined) throw new Error(`unknown alert receiver kind "${config.kind}"`)
    return definition.create(config.settings, context)
  })
}
