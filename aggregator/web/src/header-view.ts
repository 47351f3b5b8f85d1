// The top of the page: the aggregator's identity, the fleet at a glance
// (counts by status, which double as filters; heights; consensus per network).
import { AGREEMENT_OK_SHARE, AGREEMENT_WARN_SHARE } from './constants.ts'
import { copyButton } from './copy.ts'
import { el, setClass, setText, setTitle } from './dom.ts'
import type { FleetCounts } from './fleet-model.ts'
import { formatCount, formatSpan, shortHead, shortPeerId } from './format.ts'
import { NODE_STATUS_LOOK, STATUSES_BY_RANK } from './status.ts'
import type { AggregatorInfo, AggregatorView, NetworkSummary, NodeStatus } from './types.ts'
import { fleetVerdict, type FleetVerdict } from '../../fleet/verdict.ts'

/** The fleet in one line: what needs attention first, its count matching its words (aggregator/fleet/verdict.ts). */
export function fleetVerdictOf (counts: FleetCounts): FleetVerdict {
  return fleetVerdict(counts.byStatus, counts.total)
}

/**
 * How one network agrees, honestly: the share of its reporting nodes on the heaviest head (those one block
 * behind within a block time count: they have not heard of it yet), red below half, amber below
 * AGREEMENT_OK_SHARE; "behind the clock" when every reporting node's head is old, whatever they agree on;
 * nothing when no node reports (a network of nodes that never read a head agrees on nothing).
 */
export function agreementLook (n: NetworkSummary): { text: string, tone: 'ok' | 'warn' | 'bad' | 'off', title: string } {
  const reporting = n.reporting ?? n.nodes
  if (reporting === 0 || n.heaviestHead === null) return { text: 'no node reports a head', tone: 'off', title: `${formatCount(n.nodes)} node(s), none reporting a head` }
  if (n.behindClock === true) {
    const age = typeof n.headAgeMs === 'number' ? ` (head ${formatSpan(n.headAgeMs)} old${typeof n.epochsBehindClock === 'number' && n.epochsBehindClock > 0 ? `, ${formatCount(n.epochsBehindClock)} epochs behind` : ''})` : ''
    return { text: `behind the clock${age}`, tone: 'bad', title: 'every reporting node has a head older than its head-age threshold' }
  }
  const agree = n.inConsensus + (n.catchingUp ?? 0)
  const share = agree / reporting
  const tone = share >= AGREEMENT_OK_SHARE ? 'ok' : share >= AGREEMENT_WARN_SHARE ? 'warn' : 'bad'
  return { text: `${formatCount(agree)} of ${formatCount(reporting)} agree`, tone, title: `${formatCount(n.inConsensus)} on the heaviest head, ${formatCount(n.catchingUp ?? 0)} one block behind it, ${formatCount(n.inDispute)} in dispute; ${formatCount(n.nodes - reporting)} not reporting` }
}

export interface HeaderCallbacks {
  toggleStatus (status: NodeStatus): void
}

export class HeaderView {
  private readonly statusButtons = new Map<NodeStatus, { button: HTMLButtonElement, count: HTMLSpanElement }>()
  private readonly verdict: HTMLElement
  private readonly verdictSub: HTMLElement
  private readonly totalNodes: HTMLElement
  private readonly connectedNodes: HTMLElement
  private readonly maxHeight: HTMLElement
  private readonly consensus: HTMLElement
  private readonly aggregatorPeer: HTMLElement
  private readonly aggregatorAddr: HTMLElement
  private readonly aggregators: HTMLElement
  private aggregatorInfo: AggregatorInfo | undefined
  private networksKey = ''
  private aggregatorsKey = ''

  constructor (root: { statusGroup: HTMLElement, tiles: HTMLElement, aggregator: HTMLElement, aggregatorToggle: HTMLButtonElement }, callbacks: HeaderCallbacks) {
    // Narrow screens fold the aggregator's identity away behind a button (the CSS shows it always on wide ones).
    root.aggregatorToggle.addEventListener('click', () => {
      const open = root.aggregatorToggle.getAttribute('aria-expanded') !== 'true'
      root.aggregatorToggle.setAttribute('aria-expanded', String(open))
      root.aggregator.classList.toggle('open', open)
    })
    for (const status of STATUSES_BY_RANK) {
      const look = NODE_STATUS_LOOK[status]
      const count = el('span', { className: 'count', text: '0' })
      const button = el('button', {
        className: `status-toggle tone-${look.tone}`,
        title: `Show only ${look.label.toLowerCase()} nodes (click again to show all)`,
        attrs: { type: 'button', 'aria-pressed': 'false', 'data-status': status },
      }, [
        el('span', { className: 'glyph', text: look.glyph, attrs: { 'aria-hidden': 'true' } }),
        el('span', { className: 'label', text: look.label }),
        count,
        el('span', { className: 'sr-only', text: ' nodes' }),
      ])
      button.addEventListener('click', () => { callbacks.toggleStatus(status) })
      this.statusButtons.set(status, { button, count })
      root.statusGroup.append(button)
    }

    this.verdict = el('span', { className: 'tile-value verdict', text: '—' })
    this.verdictSub = el('span', { className: 'tile-sub' })
    this.totalNodes = el('span', { className: 'tile-value', text: '—' })
    this.connectedNodes = el('span', { className: 'tile-sub', text: '' })
    this.maxHeight = el('span', { className: 'tile-value', text: '—' })
    this.consensus = el('div', { className: 'consensus' })
    root.tiles.append(
      el('div', { className: 'tile', attrs: { 'data-tile': 'fleet' } }, [el('span', { className: 'tile-label', text: 'Fleet' }), this.verdict, this.verdictSub]),
      el('div', { className: 'tile', attrs: { 'data-tile': 'nodes' } }, [el('span', { className: 'tile-label', text: 'Nodes' }), this.totalNodes, this.connectedNodes]),
      el('div', { className: 'tile', attrs: { 'data-tile': 'max-height' } }, [el('span', { className: 'tile-label', text: 'Max height' }), this.maxHeight]),
      el('div', { className: 'tile wide', attrs: { 'data-tile': 'consensus' } }, [el('span', { className: 'tile-label', text: 'Heaviest head' }), this.consensus]),
    )

    this.aggregatorPeer = el('code', { className: 'id', text: '…' })
    this.aggregatorAddr = el('code', { className: 'id addr', text: '…' })
    this.aggregators = el('span', { className: 'agg-members', attrs: { hidden: '' } })
    root.aggregator.append(
      el('span', { className: 'agg-label', text: 'Aggregator' }),
      el('span', { className: 'agg-field' }, [this.aggregatorPeer, copyButton('aggregator peer id', () => this.aggregatorInfo?.peerId ?? '')]),
      el('span', { className: 'agg-field' }, [this.aggregatorAddr, copyButton('aggregator multiaddr', () => this.multiaddr())]),
      this.aggregators,
    )
  }

  /** The address agents should dial: the first multiaddr, with the /p2p/ suffix they need. */
  private multiaddr (): string {
    const info = this.aggregatorInfo
    const first = info?.multiaddrs?.[0] ?? ''
    if (info === undefined || first === '' || first.includes('/p2p/')) return first
    return `${first}/p2p/${info.peerId}`
  }

  renderCounts (counts: FleetCounts, selected: ReadonlySet<NodeStatus>): void {
    for (const [status, { button, count }] of this.statusButtons) {
      const n = counts.byStatus[status]
      setText(count, formatCount(n))
      button.setAttribute('aria-pressed', String(selected.has(status)))
      setClass(button, `status-toggle tone-${NODE_STATUS_LOOK[status].tone}${n === 0 ? ' zero' : ''}`)
    }
    const verdict = fleetVerdictOf(counts)
    setText(this.verdict, verdict.text)
    setClass(this.verdict, `tile-value verdict tone-${verdict.tone}`)
    setText(this.verdictSub, verdict.sub)
    setText(this.totalNodes, formatCount(counts.total))
    setText(this.connectedNodes, `${formatCount(counts.connected)} connected`)
    setText(this.maxHeight, counts.total > 0 ? formatCount(counts.maxHeight) : '—')
  }

  renderNetworks (networks: NetworkSummary[]): void {
    const key = JSON.stringify(networks)
    if (key === this.networksKey) return
    this.networksKey = key
    if (networks.length === 0) {
      this.consensus.replaceChildren(el('span', { className: 'tile-value muted', text: '—' }))
      return
    }
    // Several networks: one line each, the largest first (the list is short; aggregators normally serve one).
    this.consensus.replaceChildren(...networks.map((n) => {
      const agreement = agreementLook(n)
      const line = el('div', { className: 'network' }, [
        el('code', { className: 'tile-value head', text: n.heaviestHead === null || n.heaviestHead === '' ? '—' : shortHead(n.heaviestHead), title: n.heaviestHead ?? '' }),
        el('span', { className: `agree tone-${agreement.tone}`, text: agreement.text, title: agreement.title }),
        n.inDispute > 0 ? el('span', { className: 'tile-sub', text: `${formatCount(n.inDispute)} in dispute` }) : null,
        networks.length > 1 || n.network !== '' ? el('span', { className: 'tile-sub network-name', text: n.network === '' ? 'unknown network' : shortHead(n.network), title: n.network }) : null,
      ])
      return line
    }))
  }

  renderAggregator (info: AggregatorInfo | undefined): void {
    this.aggregatorInfo = info
    if (info === undefined) return
    setText(this.aggregatorPeer, shortPeerId(info.peerId))
    setTitle(this.aggregatorPeer, info.peerId)
    const addr = this.multiaddr()
    setText(this.aggregatorAddr, addr === '' ? '—' : addr)
    setTitle(this.aggregatorAddr, addr)
  }

  /** With a shared store: every aggregator of the fleet and how it is (one aggregator alone shows nothing more). */
  renderAggregators (list: readonly AggregatorView[] | undefined): void {
    const key = JSON.stringify(list?.map((a) => [a.peerId, a.state, a.alerting, a.nodes]) ?? [])
    if (key === this.aggregatorsKey) return
    this.aggregatorsKey = key
    if (list === undefined || list.length <= 1) {
      this.aggregators.hidden = true
      return
    }
    this.aggregators.hidden = false
    const tone = { reporting: 'ok', silent: 'bad', stopped: 'off' } as const
    this.aggregators.replaceChildren(
      el('span', { className: 'agg-label', text: `${list.length} aggregators` }),
      ...list.map((a) => el('span', {
        className: `agg-member tone-${tone[a.state]}`,
        title: `${a.peerId}${a.self ? ' (this one)' : ''}: ${a.state}, ${a.nodes} node${a.nodes === 1 ? '' : 's'}${a.alerting ? ', sends the alerts' : ''}${a.url !== '' ? `, ${a.url}` : ''}`,
        attrs: { 'data-state': a.state },
        text: `${shortPeerId(a.peerId)} ${a.state === 'reporting' ? '✓' : a.state === 'silent' ? '✕ silent' : '■ stopped'}${a.alerting ? ' (alerts)' : ''}`,
      })),
    )
  }
}
