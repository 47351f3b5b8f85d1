import { readFile } from 'node:fs/promises'
import { parsePositiveDuration } from '../../shared/duration.ts'
import { ErrorCodes, UsageError } from '../../shared/errors.ts'
import { DEFAULT_ALERT_FOR_MS } from './constants.ts'
import { type AlertRule, builtInRules } from './rules.ts'
import { parseRulesDocument, RulesFileError } from './rules-file.ts'

export interface WebhookSpec { url: string, headers: Record<string, string> }
export interface AlertmanagerSpec { url: string }

/** Everything alerting needs, from the flags and the rules file. */
export interface AlertingConfig {
  rules: AlertRule[]
  webhooks: WebhookSpec[]
  alertmanagers: AlertmanagerSpec[]
}

export interface AlertingFlags {
  /** --alert-for, Go syntax. */
  alertFor?: string
  /** --alert-rules, a JSON file. */
  alertRules?: string
  alertWebhook?: string[]
  alertmanager?: string[]
}

/** The built-in rules and no receivers but the log. */
export function defaultAlertingConfig (forMs: number = DEFAULT_ALERT_FOR_MS): AlertingConfig {
  return { rules: builtInRules(forMs), webhooks: [], alertmanagers: [] }
}

/** Builds the alerting config from the flags; bad input is a UsageError that names the flag or the field. */
export async function loadAlertingConfig (flags: AlertingFlags): Promise<AlertingConfig> {
  const forMs = flags.alertFor === undefined ? DEFAULT_ALERT_FOR_MS : parsePositiveDuration(flags.alertFor, '--alert-for')
  let config = defaultAlertingConfig(forMs)
  if (flags.alertRules !== undefined && flags.alertRules !== '') {
    const doc = await readRulesFile(flags.alertRules, forMs)
    config = {
      rules: doc.rules,
      webhooks: doc.receivers.webhooks.map((w, i) => ({ ...w, url: checkReceiverUrl(w.url, `receivers.webhooks[${i}] in ${flags.alertRules}`) })),
      alertmanagers: doc.receivers.alertmanagers.map((a, i) => ({ url: checkReceiverUrl(a.url, `receivers.alertmanagers[${i}] in ${flags.alertRules}`) })),
    }
  }
  for (const url of flags.alertWebhook ?? []) config.webhooks.push({ url: checkReceiverUrl(url, '--alert-webhook'), headers: {} })
  for (const url of flags.alertmanager ?? []) config.alertmanagers.push({ url: checkReceiverUrl(url, '--alertmanager') })
  return config
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

/** An http(s) URL, returned normalised; anything else is a UsageError naming `what`. */
export function checkReceiverUrl (text: string, what: string): string {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what} "${text}": expected an http:// or https:// URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what} "${text}": expected an http:// or https:// URL`)
  }
  return url.toString()
}

/** A receiver URL safe to show: webhook paths and queries often hold secrets. */
export function redactUrl (text: string): string {
  try {
    const url = new URL(text)
    const hidden = url.pathname !== '/' || url.search !== ''
    return `${url.protocol}//${url.host}${hidden ? '/…' : ''}`
  } catch {
    return '(invalid URL)'
  }
}
