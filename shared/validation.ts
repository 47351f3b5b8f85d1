import { z } from 'zod'
import { parseDuration, parsePositiveDuration } from './duration.ts'
import { errorMessage } from './errors.ts'

/** A JSON path as people read it: checks[2].timeout, source.url, (root). */
export function formatPath (path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out === '' ? '(root)' : out
}

/**
 * One line naming each problem's field, for error messages: zod's own text is
 * a multi-line dump meant for developers.
 */
export function describeIssues (error: z.ZodError, options: { prefix?: PropertyKey[], max?: number, knownKeys?: (path: ReadonlyArray<PropertyKey>) => string[] | undefined } = {}): string {
  const max = options.max ?? 3
  const prefix = options.prefix ?? []
  const parts = error.issues.slice(0, max).map((issue) => {
    const where = formatPath([...prefix, ...issue.path])
    if (issue.code === 'unrecognized_keys') {
      // A typo must say what was meant: name the unknown field and the known ones.
      const known = options.knownKeys?.(issue.path)
      const names = issue.keys.map((k) => `"${k}"`).join(', ')
      return `${where}: unknown field ${names}${known !== undefined ? ` (known: ${known.join(', ')})` : ''}`
    }
    return `${where}: ${issue.message}`
  })
  const more = error.issues.length - max
  return parts.join('; ') + (more > 0 ? ` (and ${more} more)` : '')
}

/**
 * A Go duration string ("3s", "1m30s") in a zod schema, as milliseconds; a
 * bad one is an issue on its own field, so config errors name it.
 */
export function zDuration (options: { positive?: boolean } = {}): z.ZodType<number, string> {
  return z.string({ error: 'expected a Go duration string such as "3s", "1m30s" or "250ms"' }).transform((text, ctx) => {
    try {
      return options.positive === true ? parsePositiveDuration(text) : parseDuration(text)
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: errorMessage(err) })
      return z.NEVER
    }
  })
}
