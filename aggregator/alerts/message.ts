import { formatDuration, roundToSeconds } from '../../shared/duration.ts'
import type { AlertNotification, AlertRecord } from './types.ts'

/**
 * What a person reads about one notification, whatever the service: the
 * same facts in the same order for Telegram, Discord, Slack, PagerDuty,
 * Matrix and e-mail, each receiver only dressing them in its own markup.
 * Every message says firing or resolved, the severity, the node (nickname
 * and peer id), the cause in words, for how long, what it holds back, and
 * links to the node's page. Pure.
 */
export interface AlertMessage {
  kind: 'firing' | 'resolved' | 'test'
  /** A reminder of an alert already announced (repeat interval). */
  repeat: boolean
  /** "FIRING", "FIRING (reminder)", "RESOLVED", "TEST". */
  status: string
  name: string
  severity: string
  /** "[FIRING] NodeDown (critical): alpha": the line a phone shows. */
  title: string
  /** The cause in words: the alert's summary (the node, its reason, its components' errors). */
  cause: string
  /** The node, when the alert is about one. */
  node: { nickname: string, peerId: string } | undefined
  /** The node's component, for a component alert. */
  component: string | undefined
  /** "Firing for 1m5s (since 2025-01-01T00:00:00.000Z)", "Resolved after 3m0s (...)". */
  duration: string
  /** Alerts of the same cause held back by this one ("ComponentNotReady chain_source", "HeadStuck"). */
  heldBack: string[]
  /** The rule's description. */
  description: string
  /** The node's page (--public-url + #/node/<peerId>), or the fleet page for fleet and network alerts. */
  link: { url: string, text: string }
  /** The stable id (a pager's dedup key derives from it). */
  alertId: string
  /** One episode of the alert (its id and when it became active): firing, reminders and resolved share it (mail threads). */
  episode: string
  /** Aggregator clock (ms) of the notification. */
  at: number
}

/** Where the notification came from: the page people open from a message. */
export interface MessageSource {
  /** --public-url (or the HTTP address), no trailing slash. */
  publicUrl: string
  /** The aggregator's peer id. */
  peerId: string
}

/** Held-back alerts listed by name, at most this many (then "and N more"). */
const HELD_BACK_LISTED = 5

/** The message for one notification. */
export function alertMessage (n: AlertNotification, source: MessageSource): AlertMessage {
  const a = n.alert
  const kind = n.status
  const status = kind === 'resolved' ? 'RESOLVED' : n.repeat ? 'FIRING (reminder)' : 'FIRING'
  const node = a.subject.kind === 'node' ? { nickname: a.subject.nickname, peerId: a.subject.peerId } : undefined
  const heldBack = (n.holdsBack ?? []).map(heldBackLine)
  const listed = heldBack.length > HELD_BACK_LISTED ? [...heldBack.slice(0, HELD_BACK_LISTED), `and ${heldBack.length - HELD_BACK_LISTED} more`] : heldBack
  return {
    kind,
    repeat: n.repeat,
    status,
    name: a.name,
    severity: a.severity,
    title: `[${status}] ${a.name} (${a.severity}): ${subjectText(a)}`,
    // A resolved message tells what was wrong, not what is.
    cause: kind === 'resolved' ? `Was: ${a.summary}` : a.summary,
    node,
    component: a.subject.kind === 'node' ? a.subject.component : undefined,
    duration: durationText(a, n.at, kind),
    heldBack: listed,
    description: a.description,
    link: linkFor(a, source.publicUrl),
    alertId: a.id,
    episode: `${a.id}@${a.activeSince}`,
    at: n.at,
  }
}

/** The message `test-alert` and POST /api/v1/alerts/test send: says what it is and where it came from. */
export function testMessage (source: MessageSource, at: number, note?: string): AlertMessage {
  return {
    kind: 'test',
    repeat: false,
    status: 'TEST',
    name: 'HeartbeatTest',
    severity: 'info',
    title: '[TEST] fil-heartbeat: this receiver works',
    cause: `A test message from the heartbeat aggregator ${source.peerId !== '' ? `${source.peerId} ` : ''}at ${source.publicUrl}: alerts will reach you here.${note !== undefined && note !== '' ? ` ${note}` : ''}`,
    node: undefined,
    component: undefined,
    duration: `Sent ${new Date(at).toISOString()}`,
    heldBack: [],
    description: 'Sent by `heartbeat-aggregator test-alert` or POST /api/v1/alerts/test; nothing is wrong.',
    link: { url: `${source.publicUrl}/`, text: 'the fleet page' },
    alertId: `HeartbeatTest/${at}`,
    episode: `HeartbeatTest@${at}`,
    at,
  }
}

/** The message as plain text lines (what e-mail and Matrix's `body` carry, and what the others start from). */
export function messageLines (m: AlertMessage): string[] {
  const lines = [m.title, m.cause]
  if (m.node !== undefined) lines.push(`Node: ${m.node.nickname !== '' ? `${m.node.nickname} · ` : ''}${m.node.peerId}`)
  lines.push(m.duration)
  if (m.heldBack.length > 0) lines.push(`Held back (same cause): ${m.heldBack.join('; ')}`)
  lines.push(`${capitalise(m.link.text)}: ${m.link.url}`)
  return lines
}

export function messageText (m: AlertMessage): string {
  return messageLines(m).join('\n')
}

/** Cuts a text to `max` characters (a service's field limit), marking the cut. */
export function clip (text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`
}

function subjectText (a: AlertRecord): string {
  switch (a.subject.kind) {
    case 'node': {
      const who = a.subject.nickname !== '' ? a.subject.nickname : a.subject.peerId
      return a.subject.component !== undefined ? `${who} · ${a.subject.component}` : who
    }
    case 'network': return `network ${a.subject.network !== '' ? a.subject.network : '(unnamed)'}`
    case 'fleet': return 'the fleet'
  }
}

function durationText (a: AlertRecord, at: number, kind: 'firing' | 'resolved'): string {
  const since = new Date(a.activeSince).toISOString()
  if (kind === 'resolved') {
    const end = a.resolvedAt ?? at
    return `Resolved after ${formatDuration(roundToSeconds(Math.max(0, end - a.activeSince)))} (active since ${since}, resolved ${new Date(end).toISOString()})`
  }
  return `Firing for ${formatDuration(roundToSeconds(Math.max(0, at - a.activeSince)))} (since ${since})`
}

/** A held-back alert by name (and component): its error text is already in the cause of the alert that holds it. */
function heldBackLine (a: AlertRecord): string {
  return a.subject.kind === 'node' && a.subject.component !== undefined ? `${a.name} ${a.subject.component}` : a.name
}

function linkFor (a: AlertRecord, publicUrl: string): { url: string, text: string } {
  const base = publicUrl.replace(/\/+$/, '')
  if (a.subject.kind === 'node') return { url: `${base}/#/node/${encodeURIComponent(a.subject.peerId)}`, text: 'the node\'s page' }
  return { url: `${base}/`, text: 'the fleet page' }
}


function capitalise (text: string): string {
  return text === '' ? text : `${text[0]?.toUpperCase() ?? ''}${text.slice(1)}`
}
