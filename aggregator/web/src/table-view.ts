// The node list: a table on wide screens, cards on narrow ones (the same
// elements, laid out by the CSS). Only the rows in view (plus a few) exist in
// the DOM: a pool of row elements is reused as the list scrolls, each cell's
// text is set only when it changed, so 10,000 nodes cost what 40 do.
import { maintenanceLine, nodeMaintenance } from './alerts-model.ts'
import { maintenanceTag } from './alerts-view.ts'
import { chipsThatFit, rowReason, summarizeComponents, type ComponentSummary } from './components.ts'
import { COMPACT_MEDIA, OVERSCAN_ROWS, ROW_HEIGHT_PX, TABLE_CHIP_LINES } from './constants.ts'
import { el, setClass, setText, setTitle } from './dom.ts'
import { formatAgo, formatCount, formatDateTime, formatSpan, parseTime, shortHead, shortPeerId } from './format.ts'
import { healthStatusLook, nodeStatusLook } from './status.ts'
import { displayName, visibleRange, type ColumnId, type SortSpec } from './table-model.ts'
import type { PageNode } from './types.ts'

interface ColumnDef {
  id: ColumnId
  label: string
  /** Tooltip on the header. */
  hint: string
  numeric?: boolean
}

export const COLUMNS: ColumnDef[] = [
  { id: 'status', label: 'Status', hint: 'Sort by status (problems first)' },
  { id: 'name', label: 'Node', hint: 'Nickname (peer id when empty) and the reason for its status' },
  { id: 'peer', label: 'Peer', hint: 'End of the libp2p peer id' },
  { id: 'height', label: 'Height', hint: 'Chain height the node reports', numeric: true },
  { id: 'lag', label: 'Lag', hint: 'Blocks behind the greatest height of its network', numeric: true },
  { id: 'head', label: 'Head', hint: 'Head the node reports' },
  { id: 'miner', label: 'Miner', hint: 'Miner address' },
  { id: 'lastSeen', label: 'Last seen', hint: 'Time since the last heartbeat', numeric: true },
  { id: 'headAge', label: 'Head age', hint: 'Time since the head last changed', numeric: true },
  { id: 'components', label: 'Components', hint: 'Failing components first, by name; the ready ones counted (worst first when sorted)' },
  { id: 'version', label: 'Agent', hint: 'Agent version' },
]

/** What rendering a row needs besides the node. */
export interface RowContext {
  /** Aggregator clock now (ms). */
  now: number
  lagOf: (node: PageNode) => number
}

interface RowSlot {
  row: HTMLDivElement
  index: number
  node: PageNode | undefined
  chipsKey: string
  badge: HTMLSpanElement
  name: HTMLAnchorElement
  reason: HTMLSpanElement
  tags: HTMLSpanElement
  demo: HTMLSpanElement
  maint: HTMLSpanElement
  peer: HTMLElement
  height: HTMLDivElement
  lag: HTMLDivElement
  head: HTMLElement
  miner: HTMLDivElement
  lastSeen: HTMLDivElement
  headAge: HTMLDivElement
  chips: HTMLDivElement
  version: HTMLDivElement
}

export interface TableCallbacks {
  open (node: PageNode): void
  sort (column: ColumnId): void
  /** What rows are drawn with right now. */
  context (): RowContext
}

type Layout = 'table' | 'cards'

/** Space between chips (CSS gap) and a chip's padding, border and glyph beyond its name's text. */
const CHIP_GAP_PX = 4
const CHIP_EXTRA_PX = 30

/** Text widths in the chips' font, measured once per name (a canvas measures without layout). */
class ChipMeter {
  private context: CanvasRenderingContext2D | null | undefined
  private font = ''
  private readonly widths = new Map<string, number>()

  width (text: string): number {
    let w = this.widths.get(text)
    if (w === undefined) {
      if (this.context === undefined) this.context = document.createElement('canvas').getContext('2d')
      if (this.context !== null && this.context.font !== this.font) this.context.font = this.font
      // Without a canvas, a generous guess per character.
      w = Math.ceil((this.context?.measureText(text).width ?? text.length * 7.5) + CHIP_EXTRA_PX)
      if (this.widths.size > 20_000) this.widths.clear()
      this.widths.set(text, w)
    }
    return w
  }

  /** The chips' font, from the CSS (read when the layout changes). */
  setFont (font: string): void {
    if (font !== '' && font !== this.font) {
      this.font = font
      this.widths.clear()
    }
  }
}

export class NodeTable {
  private readonly scroller: HTMLElement
  private readonly body: HTMLElement
  private readonly headRow: HTMLElement
  private readonly headerButtons = new Map<ColumnId, HTMLButtonElement>()
  private readonly headerCells = new Map<ColumnId, HTMLElement>()
  private readonly callbacks: TableCallbacks
  private readonly compact = matchMedia(COMPACT_MEDIA)
  private readonly meter = new ChipMeter()
  private slots: RowSlot[] = []
  private rows: PageNode[] = []
  /** The row keyboard focus sits on (roving tabindex). */
  private activeIndex = 0
  private layout: Layout | undefined
  private rowHeight = ROW_HEIGHT_PX
  /** Width (px) and lines the component chips of one row have; read when the layout or the window size changes. */
  private chipRoom = { width: 200, lines: TABLE_CHIP_LINES }
  private sizeKey = ''

  constructor (scroller: HTMLElement, headRow: HTMLElement, body: HTMLElement, callbacks: TableCallbacks) {
    this.scroller = scroller
    this.body = body
    this.headRow = headRow
    this.callbacks = callbacks
    for (const column of COLUMNS) {
      const button = el('button', { className: 'sort', text: column.label, title: column.hint, attrs: { type: 'button' } })
      const arrow = el('span', { className: 'sort-arrow', attrs: { 'aria-hidden': 'true' } })
      button.append(arrow)
      button.addEventListener('click', () => { callbacks.sort(column.id) })
      const cell = el('div', { className: `cell c-${column.id}${column.numeric === true ? ' num' : ''}`, attrs: { role: 'columnheader', 'aria-sort': 'none' } }, [button])
      this.headerButtons.set(column.id, button)
      this.headerCells.set(column.id, cell)
      headRow.append(cell)
    }
    body.addEventListener('click', (event) => {
      const mouse = event as MouseEvent
      // A modified click on the name's link opens it elsewhere, as links do.
      if ((event.target as Element).closest('a') !== null && (mouse.ctrlKey || mouse.metaKey || mouse.shiftKey || mouse.button !== 0)) return
      const row = (event.target as Element).closest('.row')
      const index = Number((row as HTMLElement | null)?.dataset.index)
      const node = this.rows[index]
      if (node === undefined) return
      event.preventDefault()
      this.activeIndex = index
      this.callbacks.open(node)
    })
    body.addEventListener('keydown', (event) => { this.onKey(event) })
  }

  get rowCount (): number {
    return this.rows.length
  }

  /** Cards (narrow screens: the page scrolls as a whole) or the table (its own scroll box). */
  get cards (): boolean {
    return this.layout === 'cards'
  }

  setRows (rows: PageNode[]): void {
    this.rows = rows
    this.body.style.height = `${rows.length * this.rowHeight}px`
    this.body.parentElement?.setAttribute('aria-rowcount', String(rows.length + 1))
    if (this.activeIndex >= rows.length) this.activeIndex = Math.max(0, rows.length - 1)
  }

  showSort (sort: SortSpec): void {
    for (const column of COLUMNS) {
      const active = column.id === sort.column
      const cell = this.headerCells.get(column.id) as HTMLElement
      cell.setAttribute('aria-sort', active ? (sort.direction === 1 ? 'ascending' : 'descending') : 'none')
      const arrow = this.headerButtons.get(column.id)?.querySelector('.sort-arrow')
      if (arrow !== null && arrow !== undefined) setText(arrow, active ? (sort.direction === 1 ? '▲' : '▼') : '')
    }
  }

  /** Draws the rows in view. Cheap when nothing changed: each cell compares before it writes. */
  render (ctx: RowContext): void {
    this.updateLayout()
    const view = this.viewport()
    const { start, end } = visibleRange(view.top, view.height, this.rowHeight, this.rows.length, OVERSCAN_ROWS)
    const needed = end - start
    if (needed > this.slots.length) this.growPool(needed + OVERSCAN_ROWS)
    // Index i always uses slot i % pool size: scrolling one row moves one element, and a focused row keeps its element.
    const used = new Set<RowSlot>()
    for (let index = start; index < end; index++) {
      const slot = this.slots[index % this.slots.length] as RowSlot
      used.add(slot)
      this.fill(slot, index, this.rows[index] as PageNode, ctx)
    }
    for (const slot of this.slots) {
      if (!used.has(slot) && slot.node !== undefined) {
        slot.row.hidden = true
        slot.node = undefined
        slot.index = -1
      }
    }
    const rovingIndex = this.activeIndex >= start && this.activeIndex < end ? this.activeIndex : start
    for (const slot of used) slot.name.tabIndex = slot.index === rovingIndex ? 0 : -1
  }

  /**
   * Follows the screen: the layout (cards below COMPACT_MEDIA), the row
   * height the CSS gives it, and the room for component chips. Read only
   * when the window's size changed: the rest of the time nothing is measured.
   */
  private updateLayout (): void {
    const layout: Layout = this.compact.matches ? 'cards' : 'table'
    const sizeKey = `${layout}:${window.innerWidth}x${window.innerHeight}`
    if (sizeKey === this.sizeKey) return
    this.sizeKey = sizeKey
    const changed = layout !== this.layout
    this.layout = layout
    this.body.parentElement?.classList.toggle('cards', layout === 'cards')
    const style = getComputedStyle(this.body)
    const height = Number.parseFloat(style.getPropertyValue('--row-height'))
    this.meter.setFont(`${style.getPropertyValue('--chip-font').trim()}`)
    if (Number.isFinite(height) && height > 0 && height !== this.rowHeight) {
      this.rowHeight = height
      this.setRows(this.rows)
    }
    const chipLines = Number.parseFloat(style.getPropertyValue('--chip-lines'))
    const lines = Number.isFinite(chipLines) && chipLines > 0 ? chipLines : TABLE_CHIP_LINES
    // The table: the Components column; a card: its own width less its padding (--card-inset).
    const inset = Number.parseFloat(style.getPropertyValue('--card-inset'))
    const width = layout === 'table'
      ? (this.headerCells.get('components')?.getBoundingClientRect().width ?? 200) - 20
      : this.body.getBoundingClientRect().width - (Number.isFinite(inset) ? inset : 32)
    this.chipRoom = { width: Math.max(60, Math.floor(width)), lines }
    if (changed) for (const slot of this.slots) slot.index = -1
    for (const slot of this.slots) slot.chipsKey = ''
  }

  /** The part of the list's body on screen, in the body's own coordinates. */
  private viewport (): { top: number, height: number } {
    const body = this.body.getBoundingClientRect()
    let clipTop = 0
    let clipBottom = window.innerHeight
    if (this.layout === 'table') {
      const box = this.scroller.getBoundingClientRect()
      // The sticky header covers the first rows of the box.
      clipTop = Math.max(clipTop, box.top + this.headRow.getBoundingClientRect().height)
      clipBottom = Math.min(clipBottom, box.bottom)
    }
    const top = Math.max(0, clipTop - body.top)
    const bottom = Math.min(body.height, clipBottom - body.top)
    return { top, height: Math.max(0, bottom - top) }
  }

  private growPool (size: number): void {
    for (const slot of this.slots) slot.row.remove()
    this.slots = []
    for (let i = 0; i < size; i++) this.slots.push(this.makeSlot())
  }

  private makeSlot (): RowSlot {
    const cell = (id: ColumnId, numeric = false, children: Node[] = [], label?: string): HTMLDivElement =>
      el('div', { className: `cell c-${id}${numeric ? ' num' : ''}`, attrs: { role: 'cell', ...(label === undefined ? {} : { 'data-label': label }) } }, children)
    const badge = el('span', { className: 'badge' })
    const name = el('a', { className: 'name-main', attrs: { tabindex: '-1' } })
    const tags = el('span', { className: 'name-tags' })
    const demo = el('span', { className: 'demo-tag', text: 'demo', title: 'A simulated node: its agent runs the demo source' })
    demo.hidden = true
    const maint = maintenanceTag('maintenance')
    maint.hidden = true
    const reason = el('span', { className: 'name-reason' })
    const peer = el('code')
    const head = el('code')
    const slot: RowSlot = {
      row: el('div', { className: 'row', attrs: { role: 'row' } }),
      index: -1,
      node: undefined,
      chipsKey: '',
      badge,
      name,
      reason,
      tags,
      demo,
      maint,
      peer,
      height: cell('height', true, [], 'Height'),
      lag: cell('lag', true, [], 'Lag'),
      head,
      miner: cell('miner'),
      lastSeen: cell('lastSeen', true, [], 'Seen'),
      headAge: cell('headAge', true),
      chips: cell('components'),
      version: cell('version'),
    }
    slot.row.append(
      cell('status', false, [badge]),
      cell('name', false, [el('span', { className: 'name-line' }, [name, tags, demo, maint]), reason]),
      cell('peer', false, [peer]),
      slot.height,
      slot.lag,
      cell('head', false, [head]),
      slot.miner,
      slot.lastSeen,
      slot.headAge,
      slot.chips,
      slot.version,
    )
    slot.row.hidden = true
    this.body.append(slot.row)
    return slot
  }

  private fill (slot: RowSlot, index: number, node: PageNode, ctx: RowContext): void {
    const { row } = slot
    if (slot.index !== index) {
      slot.index = index
      row.dataset.index = String(index)
      row.setAttribute('aria-rowindex', String(index + 2))
      row.style.transform = `translateY(${index * this.rowHeight}px)`
    }
    row.hidden = false
    const look = nodeStatusLook(node.status)
    const maintenance = nodeMaintenance(node)
    if (slot.node !== node) {
      slot.node = node
      row.dataset.peerId = node.peerId
      setClass(row, `row tone-${look.tone}${node.connected ? '' : ' disconnected'}${maintenance === undefined ? '' : ' in-maintenance'}`)
      slot.maint.hidden = maintenance === undefined
      slot.demo.hidden = node.source !== 'demo'
      setText(slot.badge, `${look.glyph} ${look.label}`)
      setClass(slot.badge, `badge tone-${look.tone}`)
      const name = displayName(node)
      setText(slot.name, name)
      setTitle(slot.name, name)
      const href = `#/node/${encodeURIComponent(node.peerId)}`
      if (slot.name.getAttribute('href') !== href) slot.name.setAttribute('href', href)
      setText(slot.tags, node.duplicateNickname === true ? 'duplicate name' : '')
      const summary = summarizeComponents(node)
      const reason = rowReason(node, summary)
      setText(slot.reason, reason)
      setTitle(slot.reason, reason)
      setText(slot.peer, shortPeerId(node.peerId))
      setTitle(slot.peer, node.peerId)
      setText(slot.height, formatCount(node.height))
      setText(slot.head, shortHead(node.head))
      setTitle(slot.head, node.head)
      setText(slot.miner, node.minerAddress === '' ? '—' : node.minerAddress)
      setTitle(slot.miner, node.minerAddress)
      setText(slot.version, node.agent?.version ?? '—')
      this.fillChips(slot, summary)
    }
    // The tooltip says how long is left, so it follows the clock.
    if (maintenance !== undefined) setTitle(slot.maint, maintenanceLine(maintenance, ctx.now))
    const lag = ctx.lagOf(node)
    setText(slot.lag, Number.isFinite(lag) ? formatCount(lag) : '—')
    setClass(slot.lag, lag > 0 ? 'cell c-lag num behind' : 'cell c-lag num')
    const lastSeen = parseTime(node.lastSeen)
    setText(slot.lastSeen, formatAgo(ctx.now - lastSeen))
    setTitle(slot.lastSeen, formatDateTime(lastSeen))
    const headChange = parseTime(node.lastHeadChange)
    setText(slot.headAge, Number.isFinite(headChange) ? formatSpan(ctx.now - headChange) : '—')
    setTitle(slot.headAge, `head changed ${formatDateTime(headChange)}`)
  }

  /** Failing components named in full (as many as fit), then "+N more" or the ready count. */
  private fillChips (slot: RowSlot, summary: ComponentSummary): void {
    const { width, lines } = this.chipRoom
    const key = `${width}:${lines}:${summary.failing.map((c) => `${c.name}\u0000${c.status}\u0000${c.error ?? ''}`).join('\u0001')}:${summary.ready.length}`
    if (key === slot.chipsKey) return
    slot.chipsKey = key
    const chipWidths = summary.failing.map((c) => this.meter.width(`${c.name}`))
    const readyText = readyLabel(summary.ready.length)
    const shown = chipsThatFit(chipWidths, {
      more: (hidden) => this.meter.width(moreLabel(hidden)),
      ready: summary.ready.length === 0 ? 0 : this.meter.width(readyText),
    }, width, lines, CHIP_GAP_PX)
    const chips: Node[] = summary.failing.slice(0, shown).map((c) => componentChip(c.name, c.status, c.error))
    const hidden = summary.failing.length - shown
    if (hidden > 0) {
      chips.push(el('button', {
        className: 'chip more',
        text: moreLabel(hidden),
        title: `Also failing: ${summary.failing.slice(shown).map((c) => c.name).join(', ')}`,
        attrs: { type: 'button', 'aria-label': `${hidden} more failing component${hidden === 1 ? '' : 's'}: open the details` },
      }))
    } else if (summary.ready.length > 0) {
      chips.push(el('span', { className: 'chip tone-ok ready', title: `Ready: ${summary.ready.join(', ')}` }, [
        el('span', { className: 'chip-glyph', text: '✓', attrs: { 'aria-hidden': 'true' } }),
        document.createTextNode(readyText),
      ]))
    }
    if (chips.length === 0) chips.push(el('span', { className: 'muted', text: '—', attrs: { 'aria-label': 'no components' } }))
    slot.chips.replaceChildren(...chips)
  }

  private onKey (event: KeyboardEvent): void {
    const row = (event.target as Element).closest('.row') as HTMLElement | null
    if (row === null) return
    const index = Number(row.dataset.index)
    const page = Math.max(1, Math.floor(this.viewport().height / this.rowHeight) - 1)
    let target: number | undefined
    switch (event.key) {
      case 'ArrowDown': target = index + 1; break
      case 'ArrowUp': target = index - 1; break
      case 'PageDown': target = index + page; break
      case 'PageUp': target = index - page; break
      case 'Home': target = 0; break
      case 'End': target = this.rows.length - 1; break
      case 'Enter':
      case ' ': {
        const node = this.rows[index]
        if (node !== undefined) {
          event.preventDefault()
          this.activeIndex = index
          this.callbacks.open(node)
        }
        return
      }
      default: return
    }
    event.preventDefault()
    this.focusIndex(Math.max(0, Math.min(this.rows.length - 1, target)))
  }

  /** Scrolls row `index` into view (below the sticky header in the table), draws, and focuses it. */
  focusIndex (index: number): void {
    if (this.rows.length === 0) return
    this.activeIndex = index
    const view = this.viewport()
    const top = index * this.rowHeight
    let by = 0
    if (top < view.top) by = top - view.top
    else if (top + this.rowHeight > view.top + view.height) by = top + this.rowHeight - (view.top + view.height)
    if (by !== 0) {
      if (this.layout === 'table') this.scroller.scrollTop += by
      else window.scrollBy(0, by)
    }
    this.render(this.callbacks.context())
    this.slots.find((s) => s.index === index)?.name.focus({ preventScroll: true })
  }

  /** The element of the row showing `peerId` that takes focus (its name's link), if it is rendered. */
  rowOf (peerId: string): HTMLElement | undefined {
    return this.slots.find((s) => s.node?.peerId === peerId)?.name
  }

  /** Back to the first row (a new sort or filter). */
  scrollToTop (): void {
    if (this.layout === 'table') this.scroller.scrollTop = 0
    else {
      const top = this.body.getBoundingClientRect().top
      if (top < 0) window.scrollBy(0, top - 8)
    }
  }
}

function moreLabel (hidden: number): string {
  return `+${hidden} more`
}

function readyLabel (count: number): string {
  return `${count} ready`
}

function componentChip (name: string, status: string, error: string | undefined): HTMLSpanElement {
  const look = healthStatusLook(status)
  return el('span', { className: `chip tone-${look.tone}`, title: `${name}: ${look.label}${error === undefined ? '' : ` (${error})`}` }, [
    el('span', { className: 'chip-glyph', text: look.glyph, attrs: { 'aria-hidden': 'true' } }),
    el('span', { className: 'chip-name', text: name }),
    el('span', { className: 'sr-only', text: ` ${look.label}` }),
  ])
}
