import { type AlertMessage, messageLines } from '../message.ts'

/**
 * The message in the markups the services read: a small HTML subset
 * (Telegram's parse_mode HTML, Matrix's org.matrix.custom.html, e-mail) and
 * Slack's mrkdwn. Everything from the fleet (nicknames, error texts) is
 * escaped, so a node named `<b>` or `@everyone` is shown, never obeyed.
 */

/** Escapes text for HTML (Telegram needs &, < and >; attributes and e-mail need the quotes too). */
export function escapeHtml (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** Escapes text for Slack's mrkdwn (the three characters Slack documents). */
export function escapeMrkdwn (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/**
 * The message as HTML lines: the title bold, the peer id as code, the rest
 * as text. Links are written out (not hidden behind words): some services
 * refuse links to hosts they cannot resolve, and people want to see where a
 * link goes before they tap it.
 */
export function htmlLines (m: AlertMessage, options: { anchors?: boolean } = {}): string[] {
  const lines = [`<b>${escapeHtml(m.title)}</b>`, escapeHtml(m.cause)]
  if (m.node !== undefined) lines.push(`Node: ${m.node.nickname !== '' ? `${escapeHtml(m.node.nickname)} · ` : ''}<code>${escapeHtml(m.node.peerId)}</code>`)
  lines.push(escapeHtml(m.duration))
  if (m.heldBack.length > 0) lines.push(`Held back (same cause): ${escapeHtml(m.heldBack.join('; '))}`)
  const url = escapeHtml(m.link.url)
  lines.push(options.anchors === true ? `<a href="${url}">Open ${escapeHtml(m.link.text)}</a>: ${url}` : `Open ${escapeHtml(m.link.text)}: ${url}`)
  return lines
}

/** The plain text lines after the title (for services that show the title on its own). */
export function bodyLines (m: AlertMessage): string[] {
  return messageLines(m).slice(1)
}
