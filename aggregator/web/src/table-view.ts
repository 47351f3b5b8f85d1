// The node table. Only the rows in view (plus a few) exist in the DOM: a pool
// of row elements is reused as the list scrolls, each cell's text is set only
// when it changed, so 10,000 nodes cost what 40 do.
import { maintenanceLine, nodeMaintenance } from './alerts-model.ts'
import { maintenanceTag } from './alerts-view.ts'
import { MAX_ROW_CHIPS, OVERSCAN_ROWS, ROW_HEIGHT_PX } from './constants.ts'
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
  { id: 'components', label: 'Components', hint: 'Health of the node\'s components (worst first when sorted)' },
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
  name: HTMLSpanElement
  reason: HTMLSpanElement
  tags: HTMLSpanElement
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

export class NodeTable {
  private readonly scroller: HTMLElement
  private readonly body: HTMLElement
  private readonly headerButtons = new Map<ColumnId, HTMLButtonElement>()
  private readonly headerCells = new Map<ColumnId, HTMLElement>()
  private readonly callbacks: TableCallbacks
  private slots: RowSlot[] = []
  private rows: PageNode[] = []
  /** The row keyboard focus sits on (roving tabindex). */
  private activeIndex = 0

  constructor (scroller: HTMLElement, headRow: HTMLElement, body: HTMLElement, callbacks: TableCallbacks) {
    this.scroller = scroller
    this.body = body
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
      const row = (event.target as Element).closest('.row')
      const index = Number((row as HTMLElement | null)?.dataset.index)
      const node = this.rows[index]
      if (node === undefined) return
      this.activeIndex = index
      this.callbacks.open(node)
    })
    body.addEventListener('keydown', (event) => { this.onKey(event) })
  }

  get rowCount (): number {
    return this.rows.length
  }

  setRows (rows: PageNode[]): void {
    this.rows = rows
    this.body.style.height = `${rows.length * ROW_HEIGHT_PX}px`
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
    // The sticky header sits on top of the first rows of the viewport; offsetTop is its height.
    const { start, end } = visibleRange(this.scroller.scrollTop, this.scroller.clientHeight - this.body.offsetTop, ROW_HEIGHT_PX, this.rows.length, OVERSCAN_ROWS)
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
    for (const slot of used) slot.row.tabIndex = slot.index === rovingIndex ? 0 : -1
  }

  private growPool (size: number): void {
    for (const slot of this.slots) slot.row.remove()
    this.slots = []
    for (let i = 0; i < size; i++) this.slots.push(this.makeSlot())
  }

  private makeSlot (): RowSlot {
    const cell = (id: ColumnId, numeric = false, children: Node[] = []): HTMLDivElement =>
      el('div', { className: `cell c-${id}${numeric ? ' num' : ''}`, attrs: { role: 'cell' } }, children)
    const badge = el('span', { className: 'badge' })
    const name = el('span', { className: 'name-main' })
    const tags = el('span', { className: 'name-tags' })
    const maint = maintenanceTag('maintenance')
    maint.hidden = true
    const reason = el('span', { className: 'name-reason' })
    const peer = el('code')
    const head = el('code')
    const slot: RowSlot = {
      row: el('div', { className: 'row', attrs: { role: 'row', tabindex: '-1' } }),
      index: -1,
      node: undefined,
      chipsKey: '',
      badge,
      name,
      reason,
      tags,
      maint,
      peer,
      height: cell('height', true),
      lag: cell('lag', true),
      head: head,
      miner: cell('miner'),
      lastSeen: cell('lastSeen', true),
      headAge: cell('headAge', true),
      chips: cell('components'),
      version: cell('version'),
    }
    slot.row.append(
      cell('status', false, [badge]),
      cell('name', false, [el('span', { className: 'name-line' }, [name, tags, maint]), reason]),
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
      row.style.transform = `translateY(${index * ROW_HEIGHT_PX}px)`
    }
    row.hidden = false
    const look = nodeStatusLook(node.status)
    const maintenance = nodeMaintenance(node)
    if (slot.node !== node) {
      slot.node = node
      row.dataset.peerId = node.peerId
      setClass(row, `row tone-${look.tone}${node.connected ? '' : ' disconnected'}${maintenance === undefined ? '' : ' in-maintenance'}`)
      slot.maint.hidden = maintenance === undefined
      setText(slot.badge, `${look.glyph} ${look.label}`)
      setClass(slot.badge, `badge tone-${look.tone}`)
      const name = displayName(node)
      setText(slot.name, name)
      setTitle(slot.name, name)
      setText(slot.tags, node.duplicateNickname === true ? 'duplicate name' : '')
      setText(slot.reason, node.reason)
      setTitle(slot.reason, node.reason)
      setText(slot.peer, shortPeerId(node.peerId))
      setTitle(slot.peer, node.peerId)
      setText(slot.height, formatCount(node.height))
      setText(slot.head, shortHead(node.head))
      setTitle(slot.head, node.head)
      setText(slot.miner, node.minerAddress === '' ? '—' : node.minerAddress)
      setTitle(slot.miner, node.minerAddress)
      setText(slot.version, node.agent?.version ?? '—')
      this.fillChips(slot, node)
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

  private fillChips (slot: RowSlot, node: PageNode): void {
    const components = Object.entries(node.health?.components ?? {})
    const key = components.map(([name, c]) => `${name}\u0000${c.status}`).join('\u0001')
    if (key === slot.chipsKey) return
    slot.chipsKey = key
    // Worst first, so the chip that matters is the one that fits.
    components.sort((a, b) => healthStatusLook(a[1].status).rank - healthStatusLook(b[1].status).rank || a[0].localeCompare(b[0]))
    const chips: Node[] = components.slice(0, MAX_ROW_CHIPS).map(([name, c]) => componentChip(name, c.status))
    if (components.length > MAX_ROW_CHIPS) chips.push(el('span', { className: 'chip more', text: `+${components.length - MAX_ROW_CHIPS}` }))
    if (components.length === 0) chips.push(el('span', { className: 'muted', text: '—' }))
    slot.chips.replaceChildren(...chips)
  }

  private onKey (event: KeyboardEvent): void {
    const row = (event.target as Element).closest('.row') as HTMLElement | null
    if (row === null) return
    const index = Number(row.dataset.index)
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT_PX) - 1)
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

  /** Scrolls row `index` into view (below the sticky header), draws, and focuses it. */
  focusIndex (index: number): void {
    if (this.rows.length === 0) return
    this.activeIndex = index
    const top = index * ROW_HEIGHT_PX
    const viewTop = this.scroller.scrollTop
    const viewHeight = this.scroller.clientHeight - this.body.offsetTop
    if (top < viewTop) this.scroller.scrollTop = top
    else if (top + ROW_HEIGHT_PX > viewTop + viewHeight) this.scroller.scrollTop = top + ROW_HEIGHT_PX - viewHeight
    this.render(this.callbacks.context())
    this.slots.find((s) => s.index === index)?.row.focus({ preventScroll: true })
  }

  /** The row element showing `peerId`, if it is rendered. */
  rowOf (peerId: string): HTMLElement | undefined {
    return this.slots.find((s) => s.node?.peerId === peerId)?.row
  }
}

function componentChip (name: string, status: string): HTMLSpanElement {
  const look = healthStatusLook(status)
  return el('span', { className: `chip tone-${look.tone}`, title: `${name}: ${look.label}` }, [
    el('span', { className: 'chip-glyph', text: look.glyph, attrs: { 'aria-hidden': 'true' } }),
    document.createTextNode(name),
    el('span', { className: 'sr-only', text: ` ${look.label}` }),
  ])
}
