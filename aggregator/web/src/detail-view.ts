// One node in full: its uptime, its status history (from the aggregator's
// store, older pages on request), a chart of its height, each component with
// its details, every field of its last heartbeat. A side panel (the whole
// screen on a phone), opened by #/node/<peer id>.
import { alertAge, maintenanceLine, maintenanceSource, maintenanceUntil, nodeMaintenance, severityLook } from './alerts-model.ts'
import { maintenanceTag } from './alerts-view.ts'
import { HeightChart } from './chart.ts'
import { HISTORY_TIMEOUT_MS, nodeHistoryUrl, nodeUrl, TIMELINE_PAGE, UPTIME_REFRESH_MS } from './constants.ts'
import { copyButton } from './copy.ts'
import { apiError, makeDialog, showDialogError, type DialogParts } from './dialog.ts'
import { el, setClass, setText, setTitle } from './dom.ts'
import type { FleetModel } from './fleet-model.ts'
import { formatAgo, formatCount, formatDateTime, formatDetails, formatSpan, formatUptime, formatValue, parseTime } from './format.ts'
import { parseNodeHistory, readUptime, StatusTimeline, type HistoryChange } from './history.ts'
import { healthStatusLook, nodeStatusLook } from './status.ts'
import { displayName } from './table-model.ts'
import type { AlertView, PageNode, Uptime } from './types.ts'

interface FieldRow {
  label: string
  /** Text for the value; `node` may lack fields a later aggregator adds or an older one lacks. */
  value: (node: PageNode, now: number, lag: number) => string
  title?: (node: PageNode) => string
  copy?: (node: PageNode) => string
  mono?: boolean
  /** Only listed when the node view has the field (fields later aggregators add). */
  optional?: boolean
}

const when = (iso: string, now: number): string => {
  const ms = parseTime(iso)
  return Number.isFinite(ms) ? `${formatAgo(now - ms)} (${formatDateTime(ms)})` : '—'
}

/** The fields in reading order; anything else the node view carries is listed after them. */
const FIELDS: Record<string, FieldRow> = {
  peerId: { label: 'Peer id', value: (n) => n.peerId, copy: (n) => n.peerId, mono: true },
  nickname: { label: 'Nickname', value: (n) => n.nickname === '' ? '(none)' : n.nickname },
  status: { label: 'Status', value: (n) => nodeStatusLook(n.status).label },
  reason: { label: 'Reason', value: (n) => n.reason === '' ? '—' : n.reason },
  // The reason states absolute times; how long is rendered here, from the status's own start.
  statusSince: { label: 'In this status', value: (n, now) => { const ms = parseTime(n.statusSince); return Number.isFinite(ms) ? `for ${formatSpan(now - ms)} (since ${formatDateTime(ms)})` : '—' }, optional: true },
  statusUntil: { label: 'Down unless back by', value: (n, now) => { const ms = parseTime(n.statusUntil); return Number.isFinite(ms) ? `${formatDateTime(ms)} (${ms > now ? `in ${formatSpan(ms - now)}` : 'passed'})` : '—' }, optional: true },
  network: { label: 'Network', value: (n) => n.network === '' ? '(unknown)' : n.network, mono: true },
  height: { label: 'Height', value: (n) => formatCount(n.height) },
  lag: { label: 'Lag', value: (_n, _now, lag) => Number.isFinite(lag) ? `${formatCount(lag)} blocks` : '—' },
  head: { label: 'Head', value: (n) => n.head === '' ? '—' : n.head, copy: (n) => n.head, mono: true },
  headTime: { label: 'Head block time', value: (n, now) => headTimeText(n.headTime, now), optional: true },
  // The aggregator's measure: the agent's clock against the block's, aged on the aggregator's monotonic clock.
  headAgeMs: { label: 'Head age', value: (n) => typeof n.headAgeMs === 'number' ? formatSpan(n.headAgeMs) : '—', optional: true },
  epochsBehindClock: { label: 'Behind the clock', value: (n) => typeof n.epochsBehindClock === 'number' ? `${formatCount(n.epochsBehindClock)} epochs (expected height ${formatCount(n.expectedHeight ?? undefined)})` : '—', optional: true },
  source: { label: 'Chain source', value: (n) => n.source === 'demo' ? 'demo (a simulated node)' : String(n.source ?? '—'), optional: true },
  lastHeadChange: { label: 'Head changed', value: (n, now) => when(n.lastHeadChange, now) },
  minerAddress: { label: 'Miner address', value: (n) => n.minerAddress === '' ? '(none)' : n.minerAddress, mono: true },
  connected: { label: 'Connected', value: (n) => n.connected ? 'yes' : 'no' },
  lastSeen: { label: 'Last heartbeat', value: (n, now) => when(n.lastSeen, now) },
  firstSeen: { label: 'First seen', value: (n, now) => when(n.firstSeen, now) },
  period: { label: 'Beat period', value: (n) => Number.isFinite(n.period) && n.period > 0 ? formatSpan(n.period) : '—' },
  beats: { label: 'Heartbeats', value: (n) => formatCount(n.beats) },
  seq: { label: 'Sequence', value: (n) => formatCount(n.seq) },
  seqGaps: { label: 'Lost heartbeats', value: (n) => formatCount(n.seqGaps) },
  skewMs: { label: 'Clock skew + transit', value: (n) => n.skewMs !== null && Number.isFinite(n.skewMs) ? `${formatCount(n.skewMs)} ms` : '—' },
  phi: { label: 'Suspicion (phi)', value: (n) => typeof n.phi === 'number' ? n.phi.toFixed(2) : '—', optional: true },
  duplicateNickname: { label: 'Nickname shared', value: (n) => n.duplicateNickname === true ? 'yes: another peer uses this nickname' : 'no', optional: true },
  protocol: { label: 'Protocol', value: (n) => n.protocol },
  agent: { label: 'Agent', value: (n) => `${n.agent?.version ?? '?'}, started ${formatDateTime(parseTime(n.agent?.startedAt))}` },
  maintenance: { label: 'Maintenance', value: (n, now) => { const w = nodeMaintenance(n); return w === undefined ? 'no' : maintenanceLine(w, now) }, optional: true },
}
/** Shown elsewhere in the panel. */
const SKIP_FIELDS = new Set(['health', 'displayName', 'uptime', 'headUnchangedForMs', 'expectedHeight'])

/** A head's block time, ms or ISO text: "12s ago (…)". */
function headTimeText (value: unknown, now: number): string {
  const ms = typeof value === 'number' ? value : parseTime(value)
  return Number.isFinite(ms) ? `${formatAgo(now - ms)} (${formatDateTime(ms)})` : '—'
}

export interface DetailCallbacks {
  close (): void
  lagOf (node: PageNode): number
  /** The page's session: an admin may remove the node; a stranger is told that signing in shows details. */
  role (): 'admin' | 'viewer' | null
  /** Whether signing in would show component details (--details when-authorized and not signed in). */
  detailsNeedSignIn (): boolean
}

const UPTIME_WINDOWS: Array<{ key: keyof Uptime, label: string }> = [
  { key: 'hour', label: 'Last hour' },
  { key: 'day', label: 'Last day' },
  { key: 'week', label: 'Last week' },
]

export class DetailPanel {
  private readonly root: HTMLElement
  private readonly callbacks: DetailCallbacks
  private readonly model: FleetModel
  private readonly title: HTMLElement
  private readonly badge: HTMLElement
  private readonly reason: HTMLElement
  private readonly maint: HTMLElement
  private readonly maintSource: HTMLElement
  private readonly maintUntil: HTMLElement
  private readonly maintReason: HTMLElement
  private readonly alertsSection: HTMLElement
  private readonly alertsList: HTMLElement
  private alertLines: Array<{ alert: AlertView, age: HTMLElement }> = []
  private alertsKey = ''
  private readonly chartBox: HTMLElement
  private readonly chartNote: HTMLElement
  private readonly components: HTMLElement
  private readonly componentsNote: HTMLElement
  private readonly timeline: HTMLElement
  private readonly timelineNote: HTMLElement
  private readonly loadOlder: HTMLButtonElement
  private readonly uptimeValues = new Map<keyof Uptime, { value: HTMLElement, bar: HTMLElement }>()
  private readonly uptimeNote: HTMLElement
  private readonly removeButton: HTMLButtonElement
  private readonly removeDialog: DialogParts
  private readonly fields: HTMLElement
  private readonly missing: HTMLElement
  private readonly body: HTMLElement
  private fieldValues = new Map<string, HTMLElement>()
  private chart: HeightChart | undefined
  private peerId: string | undefined
  private lastNode: PageNode | undefined
  private componentsKey = ''
  private timelineKey = ''
  private chartKey = ''
  private historyNote = ''
  private opener: HTMLElement | null = null
  /** Cancels the requests about the node shown, when the panel closes or shows another node. */
  private historyRequest: AbortController | undefined
  private timelineData = new StatusTimeline()
  private timelineShown = TIMELINE_PAGE
  private timelineLoading = false
  private uptime: Uptime | undefined
  private uptimeAt = 0
  private uptimeLoading = false

  constructor (root: HTMLElement, model: FleetModel, callbacks: DetailCallbacks) {
    this.root = root
    this.model = model
    this.callbacks = callbacks
    this.title = el('h2', { attrs: { id: 'detail-title' } })
    this.badge = el('span', { className: 'badge' })
    const close = el('button', { className: 'close', text: '✕', title: 'Close (Esc)', attrs: { type: 'button', 'aria-label': 'Close details' } })
    close.addEventListener('click', () => { callbacks.close() })
    this.reason = el('p', { className: 'detail-reason' })
    this.maintSource = el('span', { className: 'muted' })
    this.maintUntil = el('span', { className: 'maint-until' })
    this.maintReason = el('span', { className: 'maint-reason' })
    this.maint = el('div', { className: 'detail-maint' }, [
      el('div', { className: 'maint-head' }, [maintenanceTag('In maintenance'), this.maintSource]),
      this.maintUntil,
      this.maintReason,
    ])
    this.alertsList = el('ul', { className: 'alert-list' })
    this.alertsSection = el('section', { className: 'detail-alerts' }, [el('h3', { text: 'Firing alerts' }), this.alertsList])
    this.chartBox = el('div', { className: 'chart' })
    this.chartNote = el('p', { className: 'note' })
    this.components = el('ul', { className: 'components' })
    this.componentsNote = el('p', { className: 'note' })
    this.timeline = el('ol', { className: 'timeline', attrs: { 'aria-label': 'Status changes, newest first' } })
    this.timelineNote = el('p', { className: 'note' })
    this.loadOlder = el('button', { className: 'button load-older', text: 'Load older changes', attrs: { type: 'button' } })
    this.loadOlder.addEventListener('click', () => { void this.showOlder() })
    this.fields = el('dl', { className: 'fields' })
    this.missing = el('p', { className: 'note' })
    const uptimeList = el('dl', { className: 'uptime' })
    for (const { key, label } of UPTIME_WINDOWS) {
      const value = el('span', { className: 'uptime-value', text: '—' })
      const bar = el('span', { className: 'uptime-bar' })
      uptimeList.append(el('div', { className: 'uptime-item', attrs: { 'data-window': key } }, [
        el('dt', { text: label }),
        el('dd', {}, [value, el('span', { className: 'uptime-track', attrs: { 'aria-hidden': 'true' } }, [bar])]),
      ]))
      this.uptimeValues.set(key, { value, bar })
    }
    this.uptimeNote = el('p', { className: 'note', text: 'Share of the watched time the node was healthy or degraded.' })
    this.removeButton = el('button', { className: 'button danger remove-node', text: 'Remove…', title: 'Forget this node (admin)', attrs: { type: 'button' } })
    this.removeButton.hidden = true
    this.removeDialog = makeDialog({
      id: 'remove-dialog',
      title: 'Remove this node?',
      intro: '',
      confirm: 'Remove',
      danger: true,
      onConfirm: () => { void this.remove() },
    })
    this.removeButton.addEventListener('click', () => {
      const node = this.peerId === undefined ? undefined : this.model.nodes.get(this.peerId)
      const intro = this.removeDialog.dialog.querySelector('.dialog-intro')
      if (intro !== null) {
        intro.textContent = `The aggregator forgets ${node === undefined ? 'this node' : displayName(node)}: its history, uptime and alerts. ` +
          'If its agent still runs, it comes back as a new node with its next heartbeat.'
      }
      this.removeDialog.open()
    })
    this.body = el('div', { className: 'detail-body' }, [
      this.reason,
      this.maint,
      this.alertsSection,
      el('section', { attrs: { 'aria-labelledby': 'detail-uptime' } }, [el('h3', { text: 'Uptime', attrs: { id: 'detail-uptime' } }), uptimeList, this.uptimeNote]),
      el('section', { attrs: { 'aria-labelledby': 'detail-components' } }, [el('h3', { text: 'Components', attrs: { id: 'detail-components' } }), this.components, this.componentsNote]),
      el('section', { attrs: { 'aria-labelledby': 'detail-history' } }, [el('h3', { text: 'Status history', attrs: { id: 'detail-history' } }), this.timeline, this.timelineNote, this.loadOlder]),
      el('section', { attrs: { 'aria-labelledby': 'detail-height' } }, [el('h3', { text: 'Height', attrs: { id: 'detail-height' } }), this.chartBox, this.chartNote]),
      el('section', { attrs: { 'aria-labelledby': 'detail-fields' } }, [el('h3', { text: 'Last heartbeat', attrs: { id: 'detail-fields' } }), this.fields]),
    ])
    root.replaceChildren(
      el('header', { className: 'detail-head' }, [el('div', { className: 'detail-title' }, [this.title, this.badge]), el('div', { className: 'detail-actions' }, [this.removeButton, close])]),
      this.missing,
      this.body,
    )
    root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation()
        callbacks.close()
      }
    })
  }

  get openPeerId (): string | undefined {
    return this.peerId
  }

  open (peerId: string, now: number): void {
    if (this.peerId === peerId) return
    if (this.peerId === undefined) this.opener = document.activeElement as HTMLElement | null
    this.reset()
    this.peerId = peerId
    this.root.hidden = false
    document.body.classList.add('detail-open')
    this.chart = new HeightChart(this.chartBox)
    this.historyRequest = new AbortController()
    this.render(now)
    this.root.focus({ preventScroll: true })
    void this.loadHistory(peerId)
  }

  /** The session changed: what the panel may show changed (details come with the feed's new snapshot). */
  refresh (): void {
    this.componentsKey = ''
    this.lastNode = undefined
  }

  /** Closes the panel; focus returns to where it came from (the row), if that is still there. */
  close (focusTarget?: HTMLElement): void {
    if (this.peerId === undefined) return
    this.reset()
    this.root.hidden = true
    document.body.classList.remove('detail-open')
    const target = focusTarget ?? (this.opener?.isConnected === true ? this.opener : null)
    target?.focus({ preventScroll: true })
    this.opener = null
  }

  private reset (): void {
    this.historyRequest?.abort()
    this.historyRequest = undefined
    this.chart?.destroy()
    this.chart = undefined
    this.peerId = undefined
    this.lastNode = undefined
    this.componentsKey = ''
    this.timelineKey = ''
    this.chartKey = ''
    this.historyNote = ''
    this.timelineData = new StatusTimeline()
    this.timelineShown = TIMELINE_PAGE
    this.timelineLoading = false
    this.uptime = undefined
    this.uptimeAt = 0
    this.uptimeLoading = false
    this.removeDialog.close()
    this.alertsKey = ''
    this.alertLines = []
    this.alertsList.replaceChildren()
    this.fieldValues = new Map()
    this.fields.replaceChildren()
    this.components.replaceChildren()
    this.timeline.replaceChildren()
  }

  /** JSON from the aggregator about the node shown, or undefined (not found, unreachable, timed out, closed meanwhile). */
  private async fetchJson (url: string, peerId: string): Promise<unknown> {
    const request = this.historyRequest
    if (request === undefined) return undefined
    // Aborted when the panel closes, or after the timeout.
    const controller = new AbortController()
    const abort = (): void => { controller.abort() }
    request.signal.addEventListener('abort', abort, { once: true })
    const timeout = window.setTimeout(abort, HISTORY_TIMEOUT_MS)
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, signal: controller.signal })
      if (!response.ok) return undefined
      const body: unknown = await response.json()
      return this.peerId === peerId ? body : undefined
    } catch {
      return undefined
    } finally {
      window.clearTimeout(timeout)
      request.signal.removeEventListener('abort', abort)
    }
  }

  /**
   * The node's stored history: heights for the chart, the status changes of
   * the last day (and the one in force before), its uptime. An aggregator
   * without a store answers 404: the chart and timeline show what this page
   * saw live.
   */
  private async loadHistory (peerId: string): Promise<void> {
    this.timelineLoading = true
    const body = await this.fetchJson(nodeHistoryUrl(peerId), peerId)
    if (this.peerId !== peerId) return
    this.timelineLoading = false
    if (body !== undefined) {
      const page = parseNodeHistory(body)
      this.timelineData.addFirstPage(page)
      if (page.uptime !== undefined) this.setUptime(page.uptime)
      if (page.heights.length > 0) {
        this.model.heights.get(peerId)?.merge(page.heights)
        this.historyNote = 'with history from the aggregator'
        this.chartKey = ''
      }
    }
    this.timelineKey = ''
    this.render(this.model.serverNow(Date.now()))
  }

  /** "Load older": more of what is held, then an older page from the aggregator. */
  private async showOlder (): Promise<void> {
    const peerId = this.peerId
    if (peerId === undefined || this.timelineLoading) return
    if (this.timelineShown < this.timelineData.size) {
      this.timelineShown += TIMELINE_PAGE
      this.timelineKey = ''
      this.render(this.model.serverNow(Date.now()))
      return
    }
    const oldest = this.timelineData.oldest
    if (oldest === undefined) return
    this.timelineLoading = true
    this.timelineKey = ''
    this.render(this.model.serverNow(Date.now()))
    const body = await this.fetchJson(nodeHistoryUrl(peerId, oldest), peerId)
    if (this.peerId !== peerId) return
    this.timelineLoading = false
    if (body === undefined) this.timelineData.hasOlder = false
    else this.timelineData.addOlderPage(parseNodeHistory(body))
    this.timelineShown += TIMELINE_PAGE
    this.timelineKey = ''
    this.render(this.model.serverNow(Date.now()))
  }

  private setUptime (uptime: Uptime): void {
    this.uptime = uptime
    this.uptimeAt = Date.now()
    for (const { key } of UPTIME_WINDOWS) {
      const parts = this.uptimeValues.get(key)
      if (parts === undefined) continue
      const ratio = uptime[key]
      setText(parts.value, formatUptime(ratio))
      parts.bar.style.width = typeof ratio === 'number' ? `${Math.round(Math.min(1, Math.max(0, ratio)) * 100)}%` : '0%'
      setClass(parts.bar, `uptime-bar tone-${typeof ratio !== 'number' ? 'off' : ratio >= 0.99 ? 'ok' : ratio >= 0.9 ? 'warn' : 'bad'}`)
    }
  }

  /** Uptime moves with time: fetched again (the node's own view: fresh, not the fleet list's cache) while the panel stays open. */
  private async refreshUptime (peerId: string): Promise<void> {
    this.uptimeLoading = true
    const body = await this.fetchJson(nodeUrl(peerId), peerId)
    if (this.peerId !== peerId) return
    this.uptimeLoading = false
    const uptime = readUptime((body as { uptime?: unknown } | undefined)?.uptime)
    if (uptime !== undefined) this.setUptime(uptime)
    else this.uptimeAt = Date.now()
  }

  /** Asks the aggregator to forget the node (admin session); the feed's `remove` then takes it off the page. */
  private async remove (): Promise<void> {
    const peerId = this.peerId
    if (peerId === undefined) return
    this.removeDialog.confirm.disabled = true
    try {
      const response = await fetch(nodeUrl(peerId), { method: 'DELETE', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(HISTORY_TIMEOUT_MS) })
      if (!response.ok) {
        showDialogError(this.removeDialog, `Not removed: ${await apiError(response)}`)
        return
      }
      this.removeDialog.close()
      this.callbacks.close()
    } catch {
      showDialogError(this.removeDialog, 'Not removed: the aggregator did not answer.')
    }
  }

  render (now: number): void {
    const peerId = this.peerId
    if (peerId === undefined) return
    const node = this.model.nodes.get(peerId)
    this.missing.hidden = node !== undefined
    this.body.hidden = node === undefined
    setText(this.missing, this.model.loaded
      ? 'This node is not in the fleet (any more). It may have been forgotten, or the peer id is wrong.'
      : 'Loading the fleet…')
    if (node === undefined) {
      setText(this.title, peerId)
      setText(this.badge, '')
      return
    }
    const look = nodeStatusLook(node.status)
    setText(this.title, displayName(node))
    setTitle(this.title, displayName(node))
    setText(this.badge, `${look.glyph} ${look.label}`)
    setClass(this.badge, `badge tone-${look.tone}`)
    setText(this.reason, node.reason)
    this.reason.hidden = node.reason === ''
    const maintenance = nodeMaintenance(node)
    this.maint.hidden = maintenance === undefined
    if (maintenance !== undefined) {
      setText(this.maintSource, maintenanceSource(maintenance))
      const until = maintenanceUntil(maintenance, now)
      setText(this.maintUntil, until.charAt(0).toUpperCase() + until.slice(1))
      setText(this.maintReason, maintenance.reason === '' ? 'No reason given.' : `Reason: ${maintenance.reason}`)
    }
    this.removeButton.hidden = this.callbacks.role() !== 'admin'
    this.renderAlerts(peerId, now)
    this.renderFields(node, now)
    if (node !== this.lastNode) {
      this.renderComponents(node)
      this.lastNode = node
    }
    this.renderTimeline(peerId)
    this.renderChart(node, now)
    if (this.uptime === undefined && !this.uptimeLoading && node.uptime !== undefined) this.setUptime(node.uptime)
    if (!this.uptimeLoading && !this.timelineLoading && Date.now() - this.uptimeAt >= UPTIME_REFRESH_MS) void this.refreshUptime(peerId)
  }

  /** The node's firing alerts, if any: what the receivers were told about it. */
  private renderAlerts (peerId: string, now: number): void {
    const alerts = this.model.alertsOf(peerId)
    this.alertsSection.hidden = alerts.length === 0
    const key = JSON.stringify(alerts.map((a) => [a.id, a.silenced, a.summary, a.firedAt]))
    if (key !== this.alertsKey) {
      this.alertsKey = key
      this.alertLines = alerts.map((alert) => ({ alert, age: el('span', { className: 'alert-age' }) }))
      this.alertsList.replaceChildren(...this.alertLines.map(({ alert, age }) => {
        const look = severityLook(alert.severity)
        return el('li', { className: `alert-item tone-${look.tone}`, attrs: { 'data-alert-id': alert.id } }, [
          el('span', { className: `badge tone-${look.tone}`, text: `${look.glyph} ${look.label}` }),
          el('span', { className: 'alert-name', text: alert.name }),
          age,
          alert.silenced ? maintenanceTag('held back', 'A maintenance window holds back its notifications') : null,
          el('span', { className: 'alert-summary wrap', text: alert.summary }),
        ])
      }))
    }
    for (const { alert, age } of this.alertLines) {
      const text = alertAge(alert, now)
      setText(age, text.text)
      setTitle(age, text.title)
    }
  }

  private renderFields (node: PageNode, now: number): void {
    const lag = this.callbacks.lagOf(node)
    const keys = [...Object.keys(FIELDS), ...Object.keys(node).filter((k) => !Object.hasOwn(FIELDS, k) && !SKIP_FIELDS.has(k))]
    for (const key of keys) {
      const field = FIELDS[key]
      if ((field === undefined || field.optional === true) && !Object.hasOwn(node, key)) continue
      let value = this.fieldValues.get(key)
      if (value === undefined) {
        value = el('span', { className: field?.mono === true ? 'value mono' : 'value' })
        const dd = el('dd', {}, [value])
        if (field?.copy !== undefined) dd.append(copyButton(field.label.toLowerCase(), () => field.copy?.(this.lastNode ?? node) ?? ''))
        this.fields.append(el('dt', { text: field?.label ?? key }), dd)
        this.fieldValues.set(key, value)
      }
      setText(value, field !== undefined ? field.value(node, now, lag) : formatValue((node as unknown as Record<string, unknown>)[key]))
    }
  }

  private renderComponents (node: PageNode): void {
    const entries = Object.entries(node.health?.components ?? {})
    const key = JSON.stringify([node.health?.status, entries, this.callbacks.detailsNeedSignIn()])
    if (key === this.componentsKey) return
    this.componentsKey = key
    const app = healthStatusLook(node.health?.status ?? '')
    const items: HTMLElement[] = [el('li', { className: 'component app' }, [
      el('span', { className: `chip tone-${app.tone}`, text: `${app.glyph} ${app.label}` }),
      el('span', { className: 'component-name', text: 'overall (worst component wins)' }),
    ])]
    if (entries.length === 0) items.push(el('li', { className: 'component muted', text: 'The node reports no components.' }))
    entries.sort((a, b) => healthStatusLook(a[1].status).rank - healthStatusLook(b[1].status).rank || a[0].localeCompare(b[0]))
    for (const [name, component] of entries) {
      const look = healthStatusLook(component.status)
      const details = formatDetails(component.details)
      items.push(el('li', { className: 'component' }, [
        el('span', { className: `chip tone-${look.tone}`, text: `${look.glyph} ${look.label}` }),
        el('span', { className: 'component-name', text: name }),
        details === '' ? null : el('pre', { className: 'details', text: details }),
      ]))
    }
    this.components.replaceChildren(...items)
    const anyDetails = entries.some(([, c]) => c.details !== undefined)
    const hint = !anyDetails && entries.length > 0 && this.callbacks.detailsNeedSignIn()
    this.componentsNote.hidden = !hint
    setText(this.componentsNote, hint ? 'Component details and error texts are shown to signed-in viewers: Sign in at the top of the page.' : '')
  }

  /** Stored changes merged with those the feed reported live, newest first; a page at a time. */
  private renderTimeline (peerId: string): void {
    const live = this.model.statusLog.get(peerId) ?? []
    const key = `${live.length}:${live.at(-1)?.at ?? ''}:${this.timelineData.size}:${this.timelineShown}:${this.timelineLoading}:${this.timelineData.hasOlder}`
    if (key === this.timelineKey) return
    this.timelineKey = key
    this.timelineData.add(live.map((e): HistoryChange => ({ at: e.at, from: e.from ?? null, to: e.to, reason: e.reason })))
    const all = this.timelineData.newestFirst()
    const shown = all.slice(0, this.timelineShown)
    this.loadOlder.hidden = !(all.length > shown.length || this.timelineData.hasOlder)
    this.loadOlder.disabled = this.timelineLoading
    setText(this.loadOlder, this.timelineLoading ? 'Loading…' : 'Load older changes')
    setText(this.timelineNote, this.timelineLoading && all.length === 0 ? 'Loading the history…' : all.length === 0 ? 'No status change recorded.' : '')
    this.timelineNote.hidden = this.timelineNote.textContent === ''
    this.timeline.replaceChildren(...shown.map((entry) => {
      const to = nodeStatusLook(entry.to)
      const from = entry.from === undefined ? '' : entry.from === null ? 'first seen' : `from ${nodeStatusLook(entry.from).label}`
      return el('li', { attrs: { 'data-at': String(entry.at) } }, [
        el('time', { text: formatDateTime(entry.at), attrs: { datetime: new Date(entry.at).toISOString() } }),
        el('span', { className: `badge tone-${to.tone}`, text: `${to.glyph} ${to.label}` }),
        from === '' ? null : el('span', { className: 'muted', text: from }),
        entry.reason === '' ? null : el('span', { className: 'timeline-reason', text: entry.reason }),
      ])
    }))
  }

  private renderChart (node: PageNode, now: number): void {
    const series = this.model.heights.get(node.peerId)
    if (series === undefined || this.chart === undefined) return
    // The height holds from its last change until the last heartbeat: draw that flat stretch too.
    const lastSeen = parseTime(node.lastSeen)
    const times = [...series.times]
    const heights = [...series.heights]
    const lastTime = times.at(-1)
    if (Number.isFinite(lastSeen) && (lastTime === undefined || lastSeen > lastTime)) {
      times.push(lastSeen)
      heights.push(node.height)
    }
    const key = `${times.length}:${times.at(-1) ?? ''}:${heights.at(-1) ?? ''}`
    if (key !== this.chartKey) {
      this.chartKey = key
      this.chart.setData(times, heights)
    }
    const span = times.length > 1 ? formatSpan(now - (times[0] as number)) : ''
    setText(this.chartNote, times.length > 1
      ? `${formatCount(series.length)} height changes over the last ${span}${this.historyNote === '' ? ', seen live by this page' : `, ${this.historyNote}`}.`
      : 'One sample so far: the chart fills in as heartbeats arrive.')
  }
}
