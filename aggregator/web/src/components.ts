// What a row says about a node's components, pure: the failing ones first
// and named in full, the ready ones as a count, and as many as fit before
// "+N more" (which opens the detail view).
import { healthStatusLook } from './status.ts'
import type { PageNode } from './types.ts'

export interface ComponentLine {
  name: string
  status: string
  /** The component's error text, when the node reports one and the caller may see details. */
  error: string | undefined
}

export interface ComponentSummary {
  /** Components not `ready`, worst first, then by name. */
  failing: ComponentLine[]
  /** Names of the ready ones. */
  ready: string[]
}

/** The error text a component's details carry (`error`, or `message`), if any. */
export function errorText (details: unknown): string | undefined {
  if (typeof details !== 'object' || details === null) return undefined
  const record = details as Record<string, unknown>
  for (const key of ['error', 'message'] as const) {
    const value = record[key]
    if (typeof value === 'string' && value.trim() !== '') return value.trim()
  }
  return undefined
}

export function summarizeComponents (node: PageNode): ComponentSummary {
  const failing: ComponentLine[] = []
  const ready: string[] = []
  for (const [name, component] of Object.entries(node.health?.components ?? {})) {
    if (component.status === 'ready') ready.push(name)
    else failing.push({ name, status: component.status, error: errorText(component.details) })
  }
  failing.sort((a, b) => healthStatusLook(a.status).rank - healthStatusLook(b.status).rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  ready.sort()
  return { failing, ready }
}

/**
 * The reason a row shows: the aggregator's, then the first failing
 * component's error text when there is one ("... · chain_source: connection
 * refused"), which is the "why" an operator looks for.
 */
export function rowReason (node: PageNode, summary: ComponentSummary): string {
  const failed = summary.failing.find((c) => c.error !== undefined)
  const error = failed === undefined ? '' : `${failed.name}: ${failed.error ?? ''}`
  if (node.reason === '') return error
  return error === '' ? node.reason : `${node.reason} · ${error}`
}

/**
 * How many of the failing chips fit in `lines` lines of `width` pixels,
 * keeping room for what follows them: the "+N more" chip when some are left
 * out, else the ready-count chip. Chips never shrink (names stay whole); a
 * single chip wider than a line still gets a line of its own (and is cut
 * with an ellipsis there, its full name in the tooltip).
 */
export function chipsThatFit (chipWidths: readonly number[], trailing: { more: (hidden: number) => number, ready: number }, width: number, lines: number, gap: number): number {
  const fits = (shown: number): boolean => {
    const widths = chipWidths.slice(0, shown)
    const hidden = chipWidths.length - shown
    const tail = hidden > 0 ? trailing.more(hidden) : trailing.ready
    if (tail > 0) widths.push(tail)
    let line = 1
    let used = 0
    for (const w of widths) {
      const needed = used === 0 ? w : used + gap + w
      if (needed <= width || used === 0) {
        used = needed
        continue
      }
      line++
      used = w
    }
    return line <= lines
  }
  let shown = chipWidths.length
  while (shown > 0 && !fits(shown)) shown--
  // At least the worst one is named, even if it has to be cut.
  return Math.max(shown, Math.min(1, chipWidths.length))
}
