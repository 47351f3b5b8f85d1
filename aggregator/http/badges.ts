import type { NodeStatus } from '../fleet/types.ts'

/**
 * Shields-style SVG badges ("fleet | all healthy") for READMEs and wikis,
 * as Uptime Kuma, Gatus and Healthchecks offer. Pure: text in, SVG text out.
 * The colours are the fleet page's (white text on them reads at 4.5:1 or
 * better), and the status is in the words, never in the colour alone.
 */

export type BadgeTone = 'ok' | 'warn' | 'bad' | 'down' | 'stale' | 'off'

export const BADGE_COLOURS: Record<BadgeTone, string> = {
  ok: '#1a7f37',
  warn: '#9a6700',
  bad: '#cf222e',
  down: '#a40e26',
  stale: '#8250df',
  off: '#59636e',
}
const LABEL_COLOUR = '#444d56'

/** Status -> tone, as the fleet page colours it. */
export const STATUS_TONE: Record<NodeStatus, BadgeTone> = {
  healthy: 'ok', degraded: 'warn', unhealthy: 'bad', down: 'down', stale: 'stale', stopped: 'off',
}

/** Longer labels (nicknames run to 128 characters) are cut: a badge is a glance. */
export const MAX_BADGE_LABEL = 40
const FONT_SIZE = 11
const PADDING = 6

/**
 * The width of text in 11 px Verdana (the badges' font), close enough to lay
 * out a badge without a font file: narrow, wide, capital and other letters
 * have their own average widths. `textLength` then makes the renderer fit
 * the text to exactly this width whichever font it picks.
 */
export function textWidth (text: string): number {
  let width = 0
  for (const ch of text) {
    if ('iljtfI.,:;!|\' '.includes(ch)) width += 3.9
    else if ('mwMW@%'.includes(ch)) width += 10.7
    else if (ch >= 'A' && ch <= 'Z') width += 7.6
    else if (ch >= '0' && ch <= '9') width += 7
    else if (ch.charCodeAt(0) > 0x2e7f) width += 11
    else width += 6.6
  }
  return Math.ceil(width)
}

export function escapeXml (text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string)
}

function cut (text: string): string {
  const chars = [...text.replace(/[\u0000-\u001f\u007f]/g, ' ')]
  return chars.length > MAX_BADGE_LABEL ? `${chars.slice(0, MAX_BADGE_LABEL - 1).join('')}…` : chars.join('')
}

/** One badge: label on grey, message on the tone's colour; `<title>` and aria-label say both for screen readers. */
export function badgeSvg (label: string, message: string, tone: BadgeTone): string {
  const left = cut(label)
  const right = cut(message)
  const lw = textWidth(left) + 2 * PADDING
  const rw = textWidth(right) + 2 * PADDING
  const width = lw + rw
  const title = escapeXml(`${left}: ${right}`)
  const text = (x: number, value: string, w: number): string =>
    `<text x="${x}" y="15" fill="#010101" fill-opacity=".3" textLength="${w}" lengthAdjust="spacingAndGlyphs">${escapeXml(value)}</text>` +
    `<text x="${x}" y="14" textLength="${w}" lengthAdjust="spacingAndGlyphs">${escapeXml(value)}</text>`
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" viewBox="0 0 ${width} 20" role="img" aria-label="${title}">` +
    `<title>${title}</title>` +
    '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>' +
    `<clipPath id="r"><rect width="${width}" height="20" rx="3" fill="#fff"/></clipPath>` +
    `<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="${LABEL_COLOUR}"/><rect x="${lw}" width="${rw}" height="20" fill="${BADGE_COLOURS[tone]}"/><rect width="${width}" height="20" fill="url(#s)"/></g>` +
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="${FONT_SIZE}">` +
    text(lw / 2, left, lw - 2 * PADDING) + text(lw + rw / 2, right, rw - 2 * PADDING) +
    '</g></svg>'
}
