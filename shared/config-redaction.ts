/**
 * The effective configuration as `/actuator/info` shows it: plain data only,
 * secrets replaced. Redaction is by key name, so an option added later with a
 * secret-sounding name (a token, a webhook URL, a password) is hidden without
 * anyone remembering to list it; URLs lose any user:password part.
 */
export const REDACTED = '[redacted]'

/** Keys whose values are secrets, or may contain one (a webhook URL is its own credential). */
const SECRET_KEY = /(secret|token|password|passwd|credential|auth|apikey|api_key|privatekey|private_key|webhook|cookie|key$)/i

/** Nesting deeper than this is cut (configuration is shallow; this guards against cycles). */
const MAX_DEPTH = 8

export function redactConfig (value: unknown): unknown {
  return redact(value, 0)
}

function redact (value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value
  if (typeof value === 'string') return stripUrlCredentials(value)
  if (typeof value === 'bigint') return value.toString()
  if (depth >= MAX_DEPTH) return undefined
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1)).filter((v) => v !== undefined)
  if (typeof value === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) {
      if (SECRET_KEY.test(key)) {
        if (v !== undefined) out[key] = REDACTED
        continue
      }
      const r = redact(v, depth + 1)
      if (r !== undefined) out[key] = r
    }
    return out
  }
  // Functions, class instances (keys, loggers, sockets): not configuration.
  return undefined
}

function isPlainObject (value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** `https://user:pass@host/x` -> `https://[redacted]@host/x`; other strings unchanged. */
export function stripUrlCredentials (text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i, `$1${REDACTED}@`)
}
