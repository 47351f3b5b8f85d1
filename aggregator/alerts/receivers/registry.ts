import type { z } from 'zod'
import type { QuietHours, Route } from '../routing.ts'
import type { AlertReceiver, ReceiverContext } from './receiver.ts'

/**
 * One kind of alert receiver, as everything that configures receivers needs
 * it: the rules file (`receivers.<fileKey>`), the command line (`flag`), the
 * API (`kind`) and the aggregator (`create`). A receiver's file exports its
 * definition (defineReceiver) and index.ts lists it: nothing else in the
 * aggregator names a receiver kind.
 */
export interface ReceiverDefinition<Kind extends string = string, FileKey extends string = string, Entry = unknown, Settings = Entry> {
  /** Shown in GET /api/v1/alerts (`receivers[].kind`) and in logs. */
  kind: Kind
  /** The array under `receivers` in the rules file that lists receivers of this kind. */
  fileKey: FileKey
  /** One entry of that array as the rules file holds it, parsed (URLs not checked, secrets not read yet). */
  fileEntry: z.ZodType<Entry>
  /** A repeatable command-line flag that adds one receiver from its value, with its environment twin. */
  flag?: {
    /** commander syntax: '--alert-webhook <url>'. */
    flags: string
    description: string
    settings: (value: string) => Entry
  }
  /**
   * Checks an entry and makes the receiver's settings before anything starts:
   * URLs normalised, secrets read from their files or the environment; `where`
   * names the entry in a UsageError.
   */
  check: (entry: Entry, where: string) => Settings
  create: (settings: Settings, context: ReceiverContext) => AlertReceiver
}

/** A receiver as the alerting config holds it: its kind, its settings (made by `check` or `configure`), its name and routing. */
export interface ReceiverConfig {
  kind: string
  settings: unknown
  /** Unique among the receivers; made from the kind when absent (receivers/index.ts). */
  name?: string | undefined
  /** Which notifications it takes (routing.ts); all when absent. */
  route?: Route | undefined
  quietHours?: QuietHours | undefined
}

export type Registered<Kind extends string, FileKey extends string, Entry, Settings> = ReceiverDefinition<Kind, FileKey, Entry, Settings> & {
  /** This kind's entry for an AlertingConfig (programs and tests that build a config by hand). */
  configure: (settings: Settings, options?: Omit<ReceiverConfig, 'kind' | 'settings'>) => ReceiverConfig
}

/** Declares a receiver kind (its file exports the result; index.ts lists it). */
export function defineReceiver<const Kind extends string, const FileKey extends string, Entry, Settings = Entry> (
  definition: ReceiverDefinition<Kind, FileKey, Entry, Settings>,
): Registered<Kind, FileKey, Entry, Settings> {
  return { ...definition, configure: (settings, options) => ({ ...options, kind: definition.kind, settings }) }
}

/** The rules-file entry type of a definition (what its fileEntry parses to). */
export type EntryOf<D> = D extends ReceiverDefinition<string, string, infer E, any> ? E : never
