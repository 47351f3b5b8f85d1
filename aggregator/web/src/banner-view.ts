// Says whether the page is live. When the feed is lost: a banner with how
// long ago, when the next try is, and a button to try now.
import { el, setClass, setText } from './dom.ts'
import type { FeedState } from './feed.ts'
import { formatSpan } from './format.ts'

export class ConnectionView {
  private readonly banner: HTMLElement
  private readonly message: HTMLElement
  private readonly pill: HTMLElement
  private state: FeedState = { kind: 'connecting', attempt: 0 }
  private everLive = false

  constructor (banner: HTMLElement, pill: HTMLElement, retryNow: () => void) {
    this.banner = banner
    this.pill = pill
    this.message = el('span', { className: 'banner-text' })
    const retry = el('button', { className: 'banner-retry', text: 'Retry now', attrs: { type: 'button' } })
    retry.addEventListener('click', retryNow)
    banner.replaceChildren(el('span', { className: 'glyph', text: '⚠', attrs: { 'aria-hidden': 'true' } }), this.message, retry)
  }

  setState (state: FeedState): void {
    this.state = state
    if (state.kind === 'live') this.everLive = true
  }

  /** Whether the data on screen may be out of date. */
  get offline (): boolean {
    return this.state.kind !== 'live'
  }

  render (now: number): void {
    const state = this.state
    if (state.kind === 'live') {
      this.banner.hidden = true
      this.banner.dataset.state = 'live'
      setText(this.pill, 'Live')
      setClass(this.pill, 'live-pill tone-ok')
      return
    }
    const lost = this.everLive
    if (state.kind === 'connecting') {
      setText(this.pill, lost ? 'Reconnecting…' : 'Connecting…')
      setClass(this.pill, `live-pill ${lost ? 'tone-bad' : 'tone-off'}`)
      // A first connection in progress needs no banner; a reconnect keeps the one it has.
      if (!lost && state.attempt === 0) return
      setText(this.message, 'Connection to the aggregator lost. Reconnecting now…')
    } else {
      const wait = Math.max(0, state.retryAt - now)
      const what = lost ? `Connection to the aggregator lost ${formatSpan(now - state.lostAt)} ago; the data shown may be out of date.` : 'Cannot reach the aggregator.'
      setText(this.message, `${what} Next try in ${formatSpan(wait + 999)} (attempt ${state.attempt + 1}).`)
      setText(this.pill, 'Offline')
      setClass(this.pill, 'live-pill tone-bad')
    }
    this.banner.hidden = false
    this.banner.dataset.state = 'lost'
  }
}
