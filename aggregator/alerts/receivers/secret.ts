import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { z } from 'zod'
import { ErrorCodes, UsageError } from '../../../shared/errors.ts'
import { REDACTED } from '../../../shared/config-redaction.ts'

/**
 * A credential (a bot token, a routing key, a password, a webhook URL that
 * is its own credential). It shows as "[redacted]" however it is printed:
 * JSON (the API, /actuator/info, pino's log lines), util.inspect, template
 * strings. Only `reveal()` gives the value, at the one place it is sent.
 */
export class Secret {
  readonly #value: string
  /** Where it came from, for messages: "file /etc/heartbeat/telegram-token", "env TELEGRAM_TOKEN", "the rules file". */
  readonly origin: string

  constructor (value: string, origin: string) {
    this.#value = value
    this.origin = origin
  }

  reveal (): string {
    return this.#value
  }

  toJSON (): string {
    return REDACTED
  }

  toString (): string {
    return REDACTED
  }

  [inspect.custom] (): string {
    return REDACTED
  }
}

/** How a rules-file entry names a secret: from a file (preferred), from an environment variable, or (where allowed) inline. */
export interface SecretRef {
  file?: string | undefined
  env?: string | undefined
  value?: string | undefined
}

/**
 * Reads a secret at start-up, so a missing file or variable stops the
 * aggregator with one line (exit 2) rather than failing at the first alert.
 * A file's content is trimmed (editors add a newline). `what` names the field
 * in the error ("receivers.telegram[0].botTokenFile in rules.json").
 */
export function loadSecret (ref: SecretRef, what: string, env: NodeJS.ProcessEnv = process.env): Secret {
  const given = [ref.file, ref.env, ref.value].filter((v) => v !== undefined).length
  if (given !== 1) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what}: give exactly one of the file, the environment variable${ref.value !== undefined ? ' or the value' : ''}`)
  if (ref.file !== undefined) {
    let text: string
    try {
      text = readFileSync(ref.file, 'utf8')
    } catch (err) {
      throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `cannot read ${what} ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    const value = text.trim()
    if (value === '') throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what} ${ref.file}: the file is empty`)
    return new Secret(value, `file ${ref.file}`)
  }
  if (ref.env !== undefined) {
    const value = env[ref.env]?.trim() ?? ''
    if (value === '') throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what}: environment variable ${ref.env} is not set`)
    return new Secret(value, `env ${ref.env}`)
  }
  return new Secret((ref.value as string).trim(), 'the rules file')
}

/** The name of an environment variable, as a rules file may give it. */
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name: letters, digits and _')
/** A file path, as a rules file may give it. */
export const filePath = z.string().min(1)
