import { ErrorCodes, UsageError } from '../../../shared/errors.ts'

/**
 * An http(s) URL, returned normalised; anything else is a UsageError naming
 * `what`. A URL that is its own credential (`secret`: a Discord or Slack
 * webhook) is not quoted in the error.
 */
export function checkReceiverUrl (text: string, what: string, options: { secret?: boolean } = {}): string {
  const quoted = options.secret === true ? '' : ` "${text}"`
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what}${quoted}: expected an http:// or https:// URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what}${quoted}: expected an http:// or https:// URL`)
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
