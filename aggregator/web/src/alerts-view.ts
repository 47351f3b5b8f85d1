// Firing alerts and maintenance at the top of the page: a notice while the
// whole fleet is in maintenance, a list of the firing alerts (worst first),
// and an "Alerts" tile among the others. Everything in an alert (names,
// summaries, nicknames) is shown as text.
import { ALERT_GLYPH, alertAge, alertSubject, MAINTENANCE_GLYPH, maintenanceSource, maintenanceUntil, type PageAlerts, severityLook, summaryAfterSubject } from './alerts-model.ts'
import { ALERTS_SHOWN, ALERTS_SHOWN_MAX, ALERTS_URL, COMPACT_MEDIA } from './constants.ts'
import { el, setClass, setText, setTitle } from './dom.ts'
import { formatCount } from './format.ts'
import type { AlertView } from './types.ts'

/** The tile's words for the alert count. */
export function alertsVerdict (alerts: PageAlerts): { text: string, sub: string, tone: 'ok' | 'warn' | 'bad' } {
  const firing = alerts.firing.length
  const critical = alerts.firing.some((a) => severityLook(a.severity).rank === 0)
  const notes = [
    alerts.pending > 0 ? `${formatCount(alerts.pending)} pending` : '',
    alerts.nodesInMaintenance > 0 ? `${formatCount(alerts.nodesInMaintenance)} node${alerts.nodesInMaintenance === 1 ? '' : 's'} in maintenance` : '',
    alerts.fleetMaintenance !== null ? 'fleet in maintenance' : '',
    (alerts.failingReceivers ?? []).length > 0 ? `not delivering: ${(alerts.failingReceivers ?? []).map((r) => r.name).join(', ')}` : '',
  ].filter((s) => s !== '').join(' · ')
  if (firing === 0) return { text: '✓ None firing', sub: notes, tone: 'ok' }
  return { text: `${ALERT_GLYPH} ${formatCount(firing)} firing`, sub: notes, tone: critical ? 'bad' : 'warn' }
}

/** A rendered alert line, kept to update its age every tick without rebuilding the list. */
interface AlertLine { alert: AlertView, age: HTMLElement }

export class AlertsView {
  private readonly panel: HTMLElement
  private readonly notice: HTMLElement
  private readonly tile: HTMLElement
  private readonly tileValue: HTMLElement
  private readonly tileSub: HTMLElement
  private readonly title: HTMLElement
  private readonly sub: HTMLElement
  private readonly toggle: HTMLButtonElement
  private readonly list: HTMLElement
  private readonly more: HTMLElement
  private readonly noticeText: HTMLElement
  private readonly disclosure: HTMLButtonElement
  private readonly body: HTMLElement
  private lines: AlertLine[] = []
  private listKey = ''
  private expanded = false
  /** The list folded to its count: by default on narrow screens (the nodes must stay in reach), until the user says otherwise. */
  private folded: boolean | undefined
  private readonly compact = matchMedia(COMPACT_MEDIA)

  /** `redraw`: asks for a frame (the list was expanded or collapsed). */
  constructor (root: { panel: HTMLElement, notice: HTMLElement, tiles: HTMLElement }, redraw: () => void) {
    this.panel = root.panel
    this.notice = root.notice

    this.noticeText = el('span', { className: 'notice-text' })
    this.notice.replaceChildren(
      el('span', { className: 'glyph', text: MAINTENANCE_GLYPH, attrs: { 'aria-hidden': 'true' } }),
      el('strong', { text: 'Fleet in maintenance' }),
      this.noticeText,
    )

    this.title = el('span', { className: 'alerts-count' })
    this.sub = el('span', { className: 'alerts-sub' })
    this.toggle = el('button', { className: 'link alerts-toggle', attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'alert-list' } })
    this.toggle.addEventListener('click', () => {
      this.expanded = !this.expanded
      this.listKey = ''
      redraw()
    })
    this.list = el('ul', { className: 'alert-list', attrs: { id: 'alert-list' } })
    this.more = el('p', { className: 'note alerts-more' })
    this.body = el('div', { className: 'alerts-body', attrs: { id: 'alerts-body' } }, [this.list, this.more])
    // The count is the button that folds and unfolds the list.
    this.disclosure = el('button', { className: 'alerts-disclosure', attrs: { type: 'button', 'aria-expanded': 'true', 'aria-controls': 'alerts-body' } }, [
      el('span', { className: 'glyph', text: ALERT_GLYPH, attrs: { 'aria-hidden': 'true' } }),
      this.title,
    ])
    this.disclosure.addEventListener('click', () => {
      this.folded = !this.isFolded()
      redraw()
    })
    this.panel.replaceChildren(
      el('div', { className: 'alerts-head' }, [
        // Polite: a screen reader hears when alerts start or stop firing, not every tick.
        el('h2', { attrs: { id: 'alerts-title', 'aria-live': 'polite' } }, [this.disclosure]),
        this.sub,
        this.toggle,
      ]),
      this.body,
    )

    this.tileValue = el('span', { className: 'tile-value verdict', text: '—' })
    this.tileSub = el('span', { className: 'tile-sub' })
    this.tile = el('div', { className: 'tile', attrs: { 'data-tile': 'alerts', hidden: '' } }, [el('span', { className: 'tile-label', text: 'Alerts' }), this.tileValue, this.tileSub])
    // Second, after the fleet verdict: the two answers to "is anything wrong?" side by side.
    root.tiles.insertBefore(this.tile, root.tiles.children[1] ?? null)
  }

  /** `now`: the aggregator's clock. `alerts` undefined: the aggregator does not alert, and nothing of this shows. */
  render (now: number, alerts: PageAlerts | undefined): void {
    this.tile.hidden = alerts === undefined
    if (alerts === undefined) {
      this.panel.hidden = true
      this.notice.hidden = true
      return
    }
    const verdict = alertsVerdict(alerts)
    setText(this.tileValue, verdict.text)
    setClass(this.tileValue, `tile-value verdict tone-${verdict.tone}`)
    setText(this.tileSub, verdict.sub)
    this.renderNotice(now, alerts)
    this.renderPanel(now, alerts, verdict.tone)
  }

  private renderNotice (now: number, alerts: PageAlerts): void {
    const window = alerts.fleetMaintenance
    this.notice.hidden = window === null
    if (window === null) return
    const reason = window.reason === '' ? '' : `: ${window.reason}`
    setText(this.noticeText, `${maintenanceUntil(window, now)}${reason} (${maintenanceSource(window)}). Alerts still show here but reach no receiver.`)
  }

  private isFolded (): boolean {
    return this.folded ?? this.compact.matches
  }

  private renderPanel (now: number, alerts: PageAlerts, tone: 'ok' | 'warn' | 'bad'): void {
    const firing = alerts.firing
    this.panel.hidden = firing.length === 0
    if (firing.length === 0) {
      this.lines = []
      this.listKey = ''
      return
    }
    const folded = this.isFolded()
    setClass(this.panel, `alerts tone-${tone}${folded ? ' folded' : ''}`)
    this.disclosure.setAttribute('aria-expanded', String(!folded))
    setTitle(this.disclosure, folded ? 'Show the firing alerts' : 'Fold the list of firing alerts')
    this.body.hidden = folded

    setText(this.title, `${formatCount(firing.length)} alert${firing.length === 1 ? '' : 's'} firing`)
    const silenced = firing.filter((a) => a.silenced).length
    const inhibited = firing.filter((a) => typeof a.inhibitedBy === 'string').length
    setText(this.sub, [
      alerts.pending > 0 ? `${formatCount(alerts.pending)} pending` : '',
      silenced > 0 ? `${formatCount(silenced)} held back by maintenance` : '',
      inhibited > 0 ? `${formatCount(inhibited)} inhibited (same cause as another alert)` : '',
      ...(alerts.failingReceivers ?? []).map((r) => `${r.name} not delivering${r.error !== '' ? `: ${r.error}` : ''}`),
    ].filter((s) => s !== '').join(' · '))
    const limit = this.expanded ? ALERTS_SHOWN_MAX : ALERTS_SHOWN
    this.toggle.hidden = folded || firing.length <= ALERTS_SHOWN
    setText(this.toggle, this.expanded ? 'Show fewer' : `Show all ${formatCount(firing.length)}`)
    this.toggle.setAttribute('aria-expanded', String(this.expanded))
    const shown = firing.slice(0, limit)
    const key = JSON.stringify(shown.map((a) => [a.id, a.state, a.silenced, a.inhibitedBy, a.summary, a.firedAt]))
    if (key !== this.listKey) {
      this.listKey = key
      this.lines = shown.map((alert) => ({ alert, age: el('span', { className: 'alert-age' }) }))
      this.list.replaceChildren(...this.lines.map(alertItem))
    }
    for (const line of this.lines) {
      const age = alertAge(line.alert, now)
      setText(line.age, age.text)
      setTitle(line.age, age.title)
    }
    const hidden = firing.length - shown.length
    this.more.hidden = !this.expanded || hidden <= 0
    setText(this.more, `${formatCount(hidden)} more not listed here: ${ALERTS_URL} has them all.`)
  }
}

/** One alert: severity (word and glyph), name, subject (a link to the node), summary, how long, whether held back. */
function alertItem (line: AlertLine): HTMLLIElement {
  const { alert } = line
  const look = severityLook(alert.severity)
  const subject = alertSubject(alert)
  const subjectEl = subject.peerId !== undefined
    ? el('a', { className: 'alert-subject', text: subject.text, title: subject.title, attrs: { href: `#/node/${encodeURIComponent(subject.peerId)}` } })
    : el('span', { className: 'alert-subject', text: subject.text, title: subject.title })
  return el('li', { className: `alert-item tone-${look.tone}`, attrs: { 'data-alert-id': alert.id } }, [
    el('span', { className: `badge tone-${look.tone}`, text: `${look.glyph} ${look.label}` }),
    el('span', { className: 'alert-name', text: alert.name }),
    subjectEl,
    el('span', { className: 'alert-summary', text: summaryAfterSubject(alert), title: alert.description === '' ? alert.summary : `${alert.summary}\n${alert.description}` }),
    line.age,
    alert.silenced ? maintenanceTag('held back', 'A maintenance window holds back its notifications') : null,
    typeof alert.inhibitedBy === 'string' ? el('span', { className: 'maint-tag', text: 'inhibited', title: `Same cause as ${alert.inhibitedBy}: shown here, not sent` }) : null,
  ])
}

/** "⚒ maintenance": the glyph for the eye, the word for everyone. */
export function maintenanceTag (word: string, title = ''): HTMLSpanElement {
  return el('span', { className: 'maint-tag', title }, [
    el('span', { className: 'glyph', text: MAINTENANCE_GLYPH, attrs: { 'aria-hidden': 'true' } }),
    el('span', { text: word }),
  ])
}
