/**
 * What changed in a node's view between two builds, as the live feed sends
 * it (pure). A delta sets fields; it never unsets one, so a view that lost a
 * field is sent whole instead.
 */

/** How a node changed since the feed last spoke of it: gone, to be sent whole, or these fields. */
export type NodeChange = 'removed' | 'full' | ReadonlySet<string>

/**
 * A field name in a change: only the components' details changed (an agent's
 * chain source reports its height in them, so nearly every beat does), which
 * clients that see no details need not be sent.
 */
export const HEALTH_DETAILS_ONLY = 'health (details only)'

/**
 * The fields of a node view that move with time alone (the silence's phi, how
 * long the head has been unchanged, its age, the height the clock expects):
 * a cached view shows them as of its build, and a rebuild that moved only
 * these (a notice that did not concern the node) keeps the view it had.
 */
export const TIME_MOVED_FIELDS: ReadonlySet<string> = new Set(['phi', 'headUnchangedForMs', 'headAgeMs', 'expectedHeight', 'epochsBehindClock'])

/** Whether a change moved only what time moves (or nothing). */
export function onlyTimeMoved (change: ReadonlySet<string>): boolean {
  for (const key of change) if (!TIME_MOVED_FIELDS.has(key)) return false
  return true
}

/** Deep equality of JSON values (what the serialised views would show), key order ignored. */
export function sameValue (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const left = a as Record<string, unknown>
  const right = b as Record<string, unknown>
  let count = 0
  for (const key in left) {
    if (left[key] === undefined) continue
    count++
    if (!sameValue(left[key], right[key])) return false
  }
  for (const key in right) if (right[key] !== undefined) count--
  return count === 0
}

/**
 * The top-level fields whose values differ from `before` to `after` (fields
 * holding undefined count as absent, as in JSON); 'full' when a field of
 * `before` is gone from `after`.
 */
export function changedKeys (before: object, after: object): ReadonlySet<string> | 'full' {
  const old = before as Record<string, unknown>
  const next = after as Record<string, unknown>
  const keys = new Set<string>()
  for (const key in old) if (old[key] !== undefined && next[key] === undefined) return 'full'
  for (const key in next) {
    if (next[key] === undefined) continue
    if (!sameValue(old[key], next[key])) keys.add(key)
  }
  return keys
}

/** Two changes of one node between flushes, as one: gone and whole win, fields add up. */
export function mergeChange (previous: NodeChange | undefined, next: NodeChange): NodeChange {
  if (previous === undefined || next === 'removed' || next === 'full') return next
  // A node removed and then changed again came back as a new view: `next` is then 'full' (handled above).
  if (previous === 'removed' || previous === 'full') return previous
  if (next.size === 0) return previous
  if (previous.size === 0) return next
  return new Set([...previous, ...next])
}

/**
 * The delta of an exposed view: its peer id and the values of `keys` (a key
 * the view lacks is left out); `details`: whether it was exposed with them.
 */
export function deltaOf (view: object, keys: ReadonlySet<string>, details: boolean): Record<string, unknown> {
  const source = view as Record<string, unknown>
  const delta: Record<string, unknown> = { peerId: source.peerId }
  for (const key of keys) {
    const field = key === HEALTH_DETAILS_ONLY ? (details ? 'health' : undefined) : key
    if (field !== undefined && source[field] !== undefined) delta[field] = source[field]
  }
  return delta
}
