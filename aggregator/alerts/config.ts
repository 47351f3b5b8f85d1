import { readFile } from 'node:fs/promises'
import { parsePositiveDuration } from '../../shared/duration.ts'
import { ErrorCodes, UsageError } from '../../shared/errors.ts'
import { DEFAULT_ALERT_FOR_MS } from './constants.ts'
import { receiverConfigs } from './receivers/index.ts'
import type { ReceiverConfig } from './receivers/registry.ts'
import { type AlertRule, builtInRules } from './rules.ts'
import { parseRulesDocument, RulesFileError } from './rules-file.ts'

export { checkReceiverUrl, redactUrl } from './receivers/url.ts'

/** Everything alerting needs, from the flags and the rules file. */
export interface AlertingConfig {
  rules: AlertRule[]
  /** Besides the log, which is always on; entries made by a receiver's `configure` (receivers/index.ts lists the kinds). */
  receivers: ReceiverConfig[]
}

export interface AlertingFlags {
  /** --alert-for, Go syntax. */
  alertFor?: string
  /** --alert-rules, a JSON file. */
  alertRules?: string
  /** The values of each receiver kind's flag (--alert-webhook, --alertmanager...), by kind. */
  receivers?: Record<string, readonly string[] | undefined>
}

/** The built-in rules and no receivers but the log. */
export function defaultAlertingConfig (forMs: number = DEFAULT_ALERT_FOR_MS): AlertingConfig {
  return { rules: builtInRules(forMs), receivers: [] }
}

/** Builds the alerting config from the flags; bad input is a UsageError that names the flag or the field. */
export async function loadAlertingConfig (flags: AlertingFlags): Promise<AlertingConfig> {
  const forMs = flags.alertFor === undefined ? DEFAULT_ALERT_FOR_MS : parsePositiveDuration(flags.alertFor, '--alert-for')
  const path = flags.alertRules !== undefined && flags.alertRules !== '' ? flags.alertRules : undefined
  const doc = path === undefined ? undefined : await readRulesFile(path, forMs)
  return {
    rules: doc?.rules ?? builtInRules(forMs),
    receivers: receiverConfigs({ file: doc?.receivers, path, flags: flags.receivers }),
  }
}

async function readRulesFile (path: string, forMs: number): Promise<ReturnType<typeof parseRulesDocument>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_ALERT_RULES, `cannot read --alert-rules file ${path}: ${(err as Error).message}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new UsageError(ErrorCodes.INVALID_ALERT_RULES, `invalid --alert-rules file ${path}: not JSON (${(err as Error).message})`)
  }
  try {
    return parseRulesDocument(value, { forMs })
  } catch (err) {
    if (err instanceof RulesFileError) throw new UsageError(ErrorCodes.INVALID_ALERT_RULES, `invalid --alert-rules file ${path}: ${err.message}`)
    throw err
  }
}
