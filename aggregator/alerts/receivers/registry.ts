import type { z } from 'zod'
import type { AlertReceiver, ReceiverContext } from './receiver.ts'

/**
 * One kind of alert receiver, as everything that configures receivers needs
 * it: the rules file (`receivers.<fileKey>`), the command line (`flag`), the
 * API (`kind`) and the aggregator (`create`). A receiver's file exports its
 * definition (defineReceiver) and index.ts lists it: nothing else in the
 * aggregator names a receiver kind.
 */
export interface ReceiverDefinition<Kind extends string = string, FileKey extends string = string, Settings = unknown> {
  /** Shown in GET /api/v1/alerts (`receivers[].kind`) and in logs. */
  kind: Kind
  /** The array under `receivers` in the rules file that lists receivers of this kind. */
  fileKey: FileKey
  /** One entry of that array as the rules file holds it, parsed to the receiver's settings (URLs not checked yet). */
  fileEntry: z.ZodType<Settings>
  /** A repeatable command-line flag that adds one receiver from its value, with its environment twin. */
  flag?: {
    /** commander syntax: '--alert-webhook <url>'. */
    flags: string
    description: string
    settings: (value: string) => Settings
  }
  /** Checks and normalises settings (URLs) before anything starts; `where` names them in a UsageError. */
  check: (settings: Settings, where: string) => Settings
  create: (settings: Settings, context: ReceiverContext) => AlertReceiver
}

/** A receiver as the alerting config holds it: its kind and its settings (made by `configure`). */
export interface ReceiverConfig {
  kind: string
  settings: unknown
}

export type Registered<Kind extends string, FileKey extends string, Settings> = ReceiverDefinition<Kind, FileKey, Settings> & {
  /** This kind's entry for an AlertingConfig (programs and tests that build a config by hand). */
  configure: (settings: Settings) => ReceiverConfig
}

/** Declares a receiver kind (its file exports the result; index.ts lists it). */
export function defineReceiver<const Kind extends string, const FileKey extends string, Settings> (
  definition: ReceiverDefinition<Kind, FileKey, Settings>,
): Registered<Kind, FileKey, Settings> {
  return { ...definition, configure: (settings) => ({ kind: definition.kind, settings }) }
}

/** The settings type of a definition. */
export type SettingsOf<D> = D extends ReceiverDefinition<string, string, infer S> ? S : never
