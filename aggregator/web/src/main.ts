// The fleet page. The live feed writes into the model as events arrive; the
// screen is redrawn at most once per animation frame, from the model, so a
// burst of 10,000 updates costs one redraw.
import { AlertsView } from './alerts-view.ts'
import { ConnectionView } from './banner-view.ts'
import { AGGREGATORS_POLL_MS, AGGREGATORS_URL, TICK_MS } from './constants.ts'
import type { AggregatorView } from './types.ts'
import { copyButton } from './copy.ts'
import { DetailPanel } from './detail-view.ts'
import { el, required, setText } from './dom.ts'
import { FleetFeed } from './feed.ts'
import { countFleet, FleetModel, type FleetCounts } from './fleet-model.ts'
import { formatCount } from './format.ts'
import { HeaderView } from './header-view.ts'
import { SessionView } from './session-view.ts'
import { DEFAULT_SORT, RowOrder, SORT_OPTIONS, type RowFilter, type SortSpec } from './table-model.ts'
import { NodeTable, type RowContext } from './table-view.ts'
import type { NetworkSummary, NodeStatus, PageNode } from './types.ts'

const model = new FleetModel()
let sort: SortSpec = DEFAULT_SORT
const filter: { text: string, statuses: Set<NodeStatus> } = { text: '', statuses: new Set() }
let counts: FleetCounts = countFleet([])
let networks: NetworkSummary[] = []
let rowsStale = true
const order = new RowOrder()
let frameRequested = false
let firstRenderMarked = false

const lagOf = (node: PageNode): number => {
  if (typeof node.lag === 'number') return node.lag
  const top = counts.maxHeightByNetwork.get(node.network ?? '')
  return top === undefined ? Number.NaN : Math.max(0, top - node.height)
}
const context = (): RowContext => ({ now: model.serverNow(Date.now()), lagOf })

const scroller = required<HTMLDivElement>('scroller')
const filterInput = required<HTMLInputElement>('filter')
const rowCount = required<HTMLSpanElement>('row-count')
const clearFilters = required<HTMLButtonElement>('clear-filters')
const empty = required<HTMLDivElement>('empty')

const sortSelect = required<HTMLSelectElement>('sort-select')

function setSort (next: SortSpec): void {
  sort = next
  table.showSort(sort)
  sortSelect.value = `${sort.column}:${sort.direction}`
  rowsStale = true
  table.scrollToTop()
  schedule()
}

const table = new NodeTable(scroller, required('head-row'), required('tbody'), {
  open: (node) => { openNode(node.peerId) },
  sort: (column) => { setSort(sort.column === column ? { column, direction: sort.direction === 1 ? -1 : 1 } : { column, direction: 1 }) },
  context,
})
table.showSort(sort)

// Cards have no column headers to click: the same sorts, as a list.
for (const option of SORT_OPTIONS) sortSelect.append(el('option', { text: option.label, attrs: { value: `${option.sort.column}:${option.sort.direction}` } }))
sortSelect.value = `${sort.column}:${sort.direction}`
sortSelect.addEventListener('change', () => {
  const [column, direction] = sortSelect.value.split(':')
  const option = SORT_OPTIONS.find((o) => o.sort.column === column && String(o.sort.direction) === direction)
  if (option !== undefined) setSort(option.sort)
})

const header = new HeaderView({ statusGroup: required('status-filter'), tiles: required('tiles'), aggregator: required('aggregator'), aggregatorToggle: required('aggregator-toggle') }, {
  toggleStatus: (status) => {
    if (filter.statuses.has(status)) filter.statuses.delete(status)
    else filter.statuses.add(status)
    filtersChanged()
  },
})

const alertsView = new AlertsView({ panel: required('alerts'), notice: required('fleet-maintenance'), tiles: required('tiles') }, schedule)

const session = new SessionView(required('session'), () => {
  // What the feed may carry changed: a fresh connection brings a snapshot with (or without) details.
  feed.restart()
  detail.refresh()
  schedule()
})

const detail = new DetailPanel(required('detail'), model, {
  close: () => { closeDetail() },
  lagOf,
  role: () => session.role,
  detailsNeedSignIn: () => session.state?.details === 'when-authorized' && session.state.signIn && !session.state.signedIn,
})

const feed = new FleetFeed({
  snapshot: (doc) => { model.applySnapshot(doc, Date.now()); header.renderAggregators(doc.aggregators); schedule() },
  node: (node) => { model.applyNode(node); schedule() },
  status: (change) => { model.applyStatus(change); schedule() },
  remove: (peerId) => { model.applyRemove(peerId); schedule() },
  summary: (summary) => { model.applySummary(summary); schedule() },
  alerts: (doc) => { model.applyAlerts(doc); schedule() },
  ping: (at) => { model.syncClock(at, Date.now()) },
  state: (state) => { connection.setState(state); schedule() },
})
const connection = new ConnectionView(required('banner'), required('live'), () => { feed.retryNow() })

function schedule (): void {
  if (frameRequested) return
  frameRequested = true
  requestAnimationFrame(frame)
}

/** One redraw: everything that changed since the last frame, at once. */
function frame (): void {
  frameRequested = false
  const changes = model.takeChanges()
  const dataChanged = changes.all || changes.membership || changes.peerIds.size > 0
  if (dataChanged) {
    counts = countFleet(model.nodes.values())
    networks = model.networks()
  } else if (changes.header) {
    networks = model.networks()
  }
  if (dataChanged || rowsStale) {
    const rowFilter: RowFilter = { text: filter.text, statuses: filter.statuses }
    const changed = [...changes.peerIds].map((peerId) => ({ peerId, node: model.nodes.get(peerId) }))
    const patched = !rowsStale && !changes.all && !changes.membership && order.patch(changed, rowFilter, sort, { lagOf })
    if (!patched) order.rebuild(model.nodes.values(), rowFilter, sort, { lagOf })
    table.setRows(order.rows)
    rowsStale = false
  }
  const ctx = context()
  table.render(ctx)
  header.renderCounts(counts, filter.statuses)
  header.renderNetworks(networks)
  header.renderAggregator(model.aggregator)
  alertsView.render(ctx.now, model.alerts)
  detail.render(ctx.now)
  connection.render(Date.now())
  document.body.classList.toggle('offline', connection.offline)
  renderFooterBits()
  if (!firstRenderMarked && model.loaded) {
    firstRenderMarked = true
    // Read by the end-to-end test: milliseconds from navigation to the first frame with the fleet in it.
    document.documentElement.dataset.firstRenderMs = String(Math.round(performance.now()))
    performance.mark('fleet-first-render')
  }
}

function renderFooterBits (): void {
  const filtering = filter.text.trim() !== '' || filter.statuses.size > 0
  setText(rowCount, model.loaded ? (filtering ? `${formatCount(table.rowCount)} of ${formatCount(counts.total)} nodes` : `${formatCount(counts.total)} nodes`) : '')
  clearFilters.hidden = !filtering
  rowCount.dataset.filtering = String(filtering)
  const problems = counts.byStatus.unhealthy + counts.byStatus.down + counts.byStatus.stale
  const title = problems > 0 ? `(${problems}) Fleet health` : 'Fleet health'
  if (document.title !== title) document.title = title
  const state = !model.loaded ? 'loading' : counts.total === 0 ? 'no-nodes' : table.rowCount === 0 ? 'no-match' : 'rows'
  if (empty.dataset.state === state) return
  empty.dataset.state = state
  empty.hidden = state === 'rows'
  if (state === 'loading') empty.replaceChildren(el('p', { text: 'Loading the fleet…' }))
  if (state === 'no-match') {
    const clear = el('button', { className: 'link', text: 'Clear filters', attrs: { type: 'button' } })
    clear.addEventListener('click', clearAllFilters)
    empty.replaceChildren(el('p', { text: 'No node matches the filter. ' }, [clear]))
  }
  if (state === 'no-nodes') {
    const command = (): string => `heartbeat-agent --target ${model.aggregator?.multiaddrs?.[0] ?? '<multiaddr>'} --nickname my-node`
    empty.replaceChildren(
      el('p', { className: 'empty-title', text: 'No node has reported yet.' }),
      el('p', { text: 'Start an agent beside each node and point it at this aggregator:' }),
      el('div', { className: 'command' }, [el('code', { text: command() }), copyButton('agent command', command)]),
    )
  }
}

function filtersChanged (): void {
  rowsStale = true
  table.scrollToTop()
  schedule()
}

function clearAllFilters (): void {
  filter.text = ''
  filter.statuses.clear()
  filterInput.value = ''
  filtersChanged()
}

filterInput.addEventListener('input', () => {
  filter.text = filterInput.value
  filtersChanged()
})
clearFilters.addEventListener('click', clearAllFilters)

// The detail panel follows the address: #/node/<peer id> can be bookmarked and shared.
const NODE_ROUTE = /^#\/node\/(.+)$/

function routeFromHash (): void {
  const match = NODE_ROUTE.exec(location.hash)
  let peerId: string | undefined
  try {
    peerId = match?.[1] === undefined ? undefined : decodeURIComponent(match[1])
  } catch {
    peerId = undefined
  }
  if (peerId === undefined) detail.close()
  else detail.open(peerId, model.serverNow(Date.now()))
}

function openNode (peerId: string): void {
  const hash = `#/node/${encodeURIComponent(peerId)}`
  if (location.hash === hash) routeFromHash()
  else location.hash = hash
}

function closeDetail (): void {
  const peerId = detail.openPeerId
  if (NODE_ROUTE.test(location.hash)) history.replaceState(null, '', location.pathname + location.search)
  detail.close(peerId === undefined ? undefined : table.rowOf(peerId))
}

window.addEventListener('hashchange', routeFromHash)
scroller.addEventListener('scroll', schedule, { passive: true })
// Cards (narrow screens) scroll with the page.
window.addEventListener('scroll', schedule, { passive: true })
window.addEventListener('resize', schedule)
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
  rowsStale = true
  schedule()
})
document.addEventListener('keydown', (event) => {
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement
  if (event.key === 'Escape') {
    if (detail.openPeerId !== undefined) {
      event.preventDefault()
      closeDetail()
    } else if (event.target === filterInput && filterInput.value !== '') {
      clearAllFilters()
    }
  } else if (event.key === '/' && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault()
    filterInput.focus()
    filterInput.select()
  }
})
setInterval(schedule, TICK_MS)
// The aggregators sharing the store: their states change without a node event, so they are asked for.
setInterval(() => {
  fetch(AGGREGATORS_URL, { headers: { accept: 'application/json' } })
    .then(async (res) => res.ok ? await res.json() as { aggregators?: unknown } : undefined)
    .then((doc) => { if (Array.isArray(doc?.aggregators)) header.renderAggregators(doc.aggregators as AggregatorView[]) })
    .catch(() => { /* the banner already says when the aggregator is away */ })
}, AGGREGATORS_POLL_MS)

routeFromHash()
feed.start()
void session.load()
schedule()
