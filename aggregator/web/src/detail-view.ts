// One node in full: every field, each component with its details, a chart of
// its height, its recent status changes. A side panel, opened by #/node/<peer id>.
import { alertAge, maintenanceLine, maintenanceSource, maintenanceUntil, nodeMaintenance, severityLook } from './alerts-model.ts'
import { maintenanceTag } from './alerts-view.ts'
import { HeightChart } from './chart.ts'
import { HISTORY_TIMEOUT_MS, historyUrl } from './constants.ts'
import { copyButton } from './copy.ts'
import { el, setClass, setText, setTitle } from './dom.ts'
import type { FleetModel } from './fleet-model.ts'
import { formatAgo, formatCount, formatDateTime, formatDetails, formatSpan, formatValue, parseTime } from './format.ts'
import { parseHeightHistory } from './history.ts'
import { healthStatusLook, nodeStatusLook } from './status.ts'
import { displayName } from './table-model.ts'
import type { AlertView, PageNode } from './types.ts'

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
const SKIP_FIELDS = new Set(['health', 'displayName', 'headUnchangedForMs'])

export interface DetailCallbacks {
  close (): void
  lagOf (node: PageNode): number
}

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
  private readonly timeline: HTMLElement
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
  /** Cancels the history request of the node shown, when the panel closes or shows another node. */
  private historyRequest: AbortController | undefined

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
    this.timeline = el('ol', { className: 'timeline' })
    this.fields = el('dl', { className: 'fields' })
    this.missing = el('p', { className: 'note' })
    this.body = el('div', { className: 'detail-body' }, [
      this.reason,
      this.maint,
      this.alertsSection,
      el('section', {}, [el('h3', { text: 'Height' }), this.chartBox, this.chartNote]),
      el('section', {}, [el('h3', { text: 'Components' }), this.components]),
      el('section', {}, [el('h3', { text: 'Recent status changes' }), this.timeline]),
      el('section', {}, [el('h3', { text: 'All fields' }), this.fields]),
    ])
    root.replaceChildren(
      el('header', { className: 'detail-head' }, [el('div', { className: 'detail-title' }, [this.title, this.badge]), close]),
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
    this.render(now)
    this.root.focus({ preventScroll: true })
    void this.loadHistory(peerId)
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
    this.alertsKey = ''
    this.alertLines = []
    this.alertsList.replaceChildren()
    this.fieldValues = new Map()
    this.fields.replaceChildren()
    this.components.replaceChildren()
    this.timeline.replaceChildren()
  }

  /** History from the aggregator, where it keeps it; an aggregator without it answers 404 and the chart shows what the page saw live. */
  private async loadHistory (peerId: string): Promise<void> {
    const request = new AbortController()
    this.historyRequest = request
    const timeout = window.setTimeout(() => { request.abort() }, HISTORY_TIMEOUT_MS)
    try {
      const response = await fetch(historyUrl(peerId), { headers: { accept: 'application/json' }, signal: request.signal })
      if (!response.ok) return
      const points = parseHeightHistory(await response.json())
      if (this.peerId !== peerId || points.length === 0) return
      this.model.heights.get(peerId)?.merge(points)
      this.historyNote = 'with history from the aggregator'
      this.chartKey = ''
      this.render(this.model.serverNow(Date.now()))
    } catch {
      // No history (aborted, unreachable, not JSON): the chart shows live samples only.
    } finally {
      window.clearTimeout(timeout)
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
    this.renderAlerts(peerId, now)
    this.renderFields(node, now)
    if (node !== this.lastNode) {
      this.renderComponents(node)
      this.lastNode = node
    }
    this.renderTimeline(peerId)
    this.renderChart(node, now)
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
    const key = JSON.stringify([node.health?.status, entries])
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
  }

  private renderTimeline (peerId: string): void {
    const log = this.model.statusLog.get(peerId) ?? []
    const key = `${log.length}:${log.at(-1)?.at ?? ''}`
    if (key === this.timelineKey) return
    this.timelineKey = key
    if (log.length === 0) {
      this.timeline.replaceChildren(el('li', { className: 'muted', text: 'No status change seen since this page opened.' }))
      return
    }
    this.timeline.replaceChildren(...[...log].reverse().map((entry) => {
      const to = nodeStatusLook(entry.to)
      const from = entry.from === undefined ? 'first seen' : nodeStatusLook(entry.from).label
      return el('li', {}, [
        el('time', { text: formatDateTime(entry.at) }),
        el('span', { className: `badge tone-${to.tone}`, text: `${to.glyph} ${to.label}` }),
        el('span', { className: 'muted', text: `from ${from}` }),
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
