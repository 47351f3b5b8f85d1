/**
 * Label values that come from outside (nicknames, component names, networks)
 * are bounded and made of safe characters before they reach Prometheus:
 * a hostile or careless agent cannot blow up label sizes or smuggle control
 * characters into the exposition. Peer ids are already safe (base58/base32).
 */
export const MAX_LABEL_VALUE_LENGTH = 64

const UNSAFE = /[^A-Za-z0-9 ._:@/+-]/g

export function sanitizeLabelValue (value: string, maxLength = MAX_LABEL_VALUE_LENGTH): string {
  const safe = value.replace(UNSAFE, '_')
  return safe.length > maxLength ? safe.slice(0, maxLength) : safe
}
