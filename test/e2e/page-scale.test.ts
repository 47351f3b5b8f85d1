// The fleet page with 10,000 nodes: an in-process aggregator fed synthetic
// heartbeats (cheap), a real Chromium reading its page.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Aggregator } from '../../aggregator/aggregator.ts'
import type { Heartbeat } from '../../shared/heartbeat.ts'
import { artifactPath, openBrowser, type RunningBrowser } from '../support/browser.ts'
import { nextFrame, screenRows } from '../support/fleet-page.ts'
import { startTestAggregator } from '../support/in-process.ts'

const NODES = 10_000
/**
 * The goal (issue 16): the first rows of 10,000 nodes on screen within 1.5 s
 * of navigation. Measured by the page itself (performance marks on the
 * page's own clock, from navigation start to the frame after the first one
 * with rows, i.e. once those rows were painted), not by the test's wall
 * clock, so the test's own waits and the browser's start do not count.
 */
const FIRST_PAINT_GOAL_MS = 1_500
/** A burst that changes every node must be on screen within this (typically well under a second). */
const BURST_BOUND_MS = 10_000
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function syntheticPeerId (i: number): string {
  let tail = ''
  let n = i * 2654435761 + 97
  for (let k = 0; k < 44; k++) {
    tail += BASE58[n % 58]
    n = Math.floor(n / 58) + (k + 1) * 7919 + i
  }
  return `12D3KooW${tail}`
}

function heartbeat (i: number, height: number, seq: number): Heartbeat {
  const sick = i % 97 === 0
  return {
    v: 2,
    head: `{bafy2bzacea${String(height).padStart(12, '0')}}`,
    height: i % 50 === 0 ? height - 3 : height,
    nickname: i % 500 === 0 ? '' : `node-${String(i).padStart(5, '0')}`,
    minerAddress: `f0${10_000 + i}`,
    network: 'demo',
    seq,
    sentAt: Date.now(),
    // A long period: the synthetic nodes stay fresh for the whole test.
    period: 600_000,
    health: {
      status: sick ? 'not_ready' : 'ready',
      components: {
        chain_source: { status: 'ready', details: { source: 'synthetic' } },
        sync: { status: sick ? 'not_ready' : 'ready', details: sick ? { behind: 120 } : undefined },
      },
    },
    agent: { version: '0.1.0', startedAt: Date.now() - 60_000 },
    state: 'running',
  }
}

describe('fleet page, 10,000 nodes', { timeout: 180_000 }, () => {
  let aggregator: Aggregator
  let browser: RunningBrowser

  before(async () => {
    aggregator = await startTestAggregator()
    for (let i = 0; i < NODES; i++) aggregator.apply({ type: 'beat', peerId: syntheticPeerId(i), heartbeat: heartbeat(i, 1_000_000, 1), protocol: 'v2' })
    assert.equal(aggregator.inspect().fleet.size, NODES)
    browser = await openBrowser({ colorScheme: 'dark' })
    // Warm the browser (process start, font caches) on a page that is not measured.
    await browser.page.goto(`${aggregator.url}/api/v1/nodes/none`)
  })

  after(async () => {
    await browser?.close()
    await aggregator?.stop()
  })

  it('renders the first screen quickly and only the visible rows', async () => {
    const { page } = browser
    await page.goto(aggregator.url)
    await page.waitForFunction(() => document.documentElement.dataset.firstPaintMs, undefined, { timeout: 30_000 })
    const marks = await page.evaluate(() => {
      const at = (name: string): number => Math.round(performance.getEntriesByName(name)[0]?.startTime ?? Number.NaN)
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined
      return { script: Math.round(navigation?.domContentLoadedEventEnd ?? Number.NaN), snapshot: at('fleet-snapshot-received'), render: at('fleet-first-render'), painted: at('fleet-first-rows-painted') }
    })
    console.log(`# first rows of ${NODES} nodes painted ${marks.painted} ms after navigation (page loaded ${marks.script} ms, snapshot in the page ${marks.snapshot} ms, first frame with rows ${marks.render} ms: the page's own work ${marks.render - marks.snapshot} ms)`)
    assert.ok(marks.painted <= FIRST_PAINT_GOAL_MS, `first rows painted ${marks.painted} ms after navigation (goal ${FIRST_PAINT_GOAL_MS} ms)`)

    assert.equal(await page.locator('[data-tile="nodes"] .tile-value').textContent(), '10,000')
    assert.match(await page.locator('[data-tile="fleet"]').textContent() ?? '', /104 need attention/)
    const rendered = await page.evaluate(() => document.querySelectorAll('.tbody .row:not([hidden])').length)
    assert.ok(rendered > 10 && rendered < 120, `${rendered} rows in the DOM`)
    // Problems first: the unhealthy nodes (every 97th) lead.
    const rows = await screenRows(page)
    assert.match(rows[0]?.status ?? '', /Unhealthy/)
    await page.screenshot({ path: artifactPath('page-10k-dark.png') })

    // Scrolling to the end draws the last rows.
    await page.evaluate(() => { const s = document.getElementById('scroller') as HTMLElement; s.scrollTop = s.scrollHeight })
    await page.waitForFunction((n) => [...document.querySelectorAll<HTMLElement>('.tbody .row:not([hidden])')].some((r) => r.dataset.index === String(n - 1)), NODES)
  })

  it('sorts 10,000 rows and takes a burst of updates to every node', async () => {
    const { page } = browser
    const sortStarted = Date.now()
    await page.getByRole('button', { name: 'Height', exact: true }).click()
    await page.waitForFunction(() => document.querySelector('[aria-sort="ascending"]')?.textContent?.startsWith('Height') === true)
    await nextFrame(page)
    const heights = (await screenRows(page)).map((r) => Number(r.height.replaceAll(',', '')))
    assert.ok(heights.every((h, i) => i === 0 || (heights[i - 1] as number) <= h), `ascending heights: ${heights.join(' ')}`)
    console.log(`# sort by height of ${NODES} rows: ${Date.now() - sortStarted} ms to screen`)
    await page.evaluate(() => { (document.getElementById('scroller') as HTMLElement).scrollTop = 0 })

    // How long the page's main thread is busy at a stretch while it takes the burst (printed, not asserted: shared CI machines are noisy).
    await page.evaluate(() => {
      const longest = { ms: 0 }
      ;(window as unknown as { longestTask: typeof longest }).longestTask = longest
      new PerformanceObserver((list) => { for (const e of list.getEntries()) longest.ms = Math.max(longest.ms, Math.round(e.duration)) }).observe({ type: 'longtask' })
    })
    const burstStarted = Date.now()
    for (let i = 0; i < NODES; i++) aggregator.apply({ type: 'beat', peerId: syntheticPeerId(i), heartbeat: heartbeat(i, 1_000_010, 2), protocol: 'v2' })
    await page.waitForFunction(() => document.querySelector('[data-tile="max-height"] .tile-value')?.textContent === '1,000,010', undefined, { timeout: 30_000 })
    await page.waitForFunction(() => [...document.querySelectorAll('.tbody .row:not([hidden]) .c-height')].every((c) => c.textContent === '1,000,007'), undefined, { timeout: 30_000 })
    const burstMs = Date.now() - burstStarted
    const longestTask = await page.evaluate(() => (window as unknown as { longestTask: { ms: number } }).longestTask.ms)
    console.log(`# burst of ${NODES} node updates on screen after ${burstMs} ms (longest busy stretch of the page: ${longestTask} ms)`)
    assert.ok(burstMs < BURST_BOUND_MS, `burst took ${burstMs} ms`)
    assert.deepEqual(browser.problems, [])
  })

  it('virtualises the cards on a phone too: a few in the DOM, the page scrolls to the last', async () => {
    const { page } = browser
    await page.setViewportSize({ width: 390, height: 844 })
    await page.waitForFunction(() => document.getElementById('table')?.classList.contains('cards') === true)
    await nextFrame(page)
    const rendered = await page.evaluate(() => document.querySelectorAll('.tbody .row:not([hidden])').length)
    assert.ok(rendered > 3 && rendered < 60, `${rendered} cards in the DOM`)
    const scrollStarted = Date.now()
    await page.evaluate(() => { window.scrollTo(0, document.documentElement.scrollHeight) })
    await page.waitForFunction((n) => [...document.querySelectorAll<HTMLElement>('.tbody .row:not([hidden])')].some((r) => r.dataset.index === String(n - 1)), NODES)
    console.log(`# scrolled to the last of ${NODES} cards: ${Date.now() - scrollStarted} ms to screen`)
    assert.ok(await page.evaluate(() => document.querySelectorAll('.tbody .row:not([hidden])').length) < 60)
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), true, 'no sideways scrolling')
    await page.screenshot({ path: artifactPath('page-10k-phone-end.png') })
    assert.deepEqual(browser.problems, [])
  })
})
