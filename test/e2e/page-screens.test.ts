// The fleet page for the person on call, in a real Chromium at a phone's
// size (390x844, 360x740 and 844x390) and a desktop's (1440x900), with and without
// firing alerts, over a live fleet of real processes: the nodes stay in view
// and tappable, no sideways scrolling, touch targets of 40 px, failing
// components named in full, sign-in with the viewer token shows the error
// text, the detail view has uptime and stored history, an admin removes a
// node, the public status page and badges leak no peer id, and axe finds no
// serious or critical accessibility problem.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { artifactPath, openBrowser, type RunningBrowser } from '../support/browser.ts'
import { rowHit, screenRows, scrollsSideways, seriousA11yViolations, smallTargets } from '../support/fleet-page.ts'
import { freePort } from '../support/ports.ts'
import { fetchJson, startAgentProcess, startAggregatorProcess, tempDir, type RunningAggregator, type Spawned } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const ADMIN_TOKEN = 'page-screens-admin-token-0123456789abcdef'
const VIEWER_TOKEN = 'page-screens-viewer-token-0123456789abcdef'
const HEALTHY = ['lotus-alpha', 'lotus-bravo', 'lotus-charlie', 'lotus-delta', 'lotus-echo', 'lotus-foxtrot', 'lotus-golf']
/** Killed to make alerts fire. */
const VICTIMS = ['lotus-delta', 'lotus-echo', 'lotus-foxtrot']
/** Its two core checks fail: it is unhealthy with two long component names and an error text each. */
const BROKEN = 'lotus-broken-storage-provider'
const FAILING = ['market_deals_chain_source_backup', 'sealing_pipeline_rpc_endpoint']
const SIZES = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'small-phone', width: 360, height: 740 },
  { name: 'phone-landscape', width: 844, height: 390 },
  { name: 'desktop', width: 1440, height: 900 },
] as const
/** What WCAG 2.5.5 and the issue ask of anything one taps on a touch screen. */
const TOUCH_PX = 40

interface ShownNode { peerId: string, nickname: string, status: string }

describe('fleet page on every screen', { timeout: 240_000 }, () => {
  let aggregator: RunningAggregator
  let browser: RunningBrowser
  const agents = new Map<string, Spawned>()
  let closedPort: number

  const fleetNodes = async (): Promise<ShownNode[]> => (await fetchJson(`${aggregator.url}/api/v1/fleet`)).nodes as ShownNode[]
  const peerOf = async (nickname: string): Promise<string> => (await fleetNodes()).find((n) => n.nickname === nickname)?.peerId ?? ''
  const firing = async (): Promise<number> => ((await fetchJson(`${aggregator.url}/api/v1/alerts`)).alerts as Array<{ state: string }>).filter((a) => a.state === 'firing').length

  /** At each size: the first rows are on screen and tappable, nothing scrolls sideways, touch targets are big enough; a screenshot of each. */
  async function checkSizes (label: string): Promise<void> {
    const { page } = browser
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height })
      await page.goto(aggregator.url)
      await page.waitForFunction(() => document.querySelectorAll('.tbody .row:not([hidden])').length > 0, undefined, { timeout: 10_000 })
      if (label === 'alerts') await page.waitForFunction(() => document.getElementById('alerts')?.hidden === false, undefined, { timeout: 10_000 })
      await page.evaluate(async () => { await new Promise((resolve) => { requestAnimationFrame(() => { requestAnimationFrame(resolve) }) }) })
      await page.screenshot({ path: artifactPath(`page-${size.name}-${label}.png`) })
      const compact = size.width < 1280
      assert.equal(await page.evaluate(() => document.getElementById('table')?.classList.contains('cards')), compact, `${size.name}: cards below 1280 px`)
      const rows = await screenRows(page)
      const first = rows[0]
      assert.ok(first !== undefined, `${size.name}: a first row`)
      const hit = await rowHit(page, first.peerId)
      assert.ok(hit !== undefined)
      assert.ok(hit.box.x >= 0 && hit.box.y >= 0 && hit.box.x + hit.box.width <= hit.viewport.width && hit.box.y + hit.box.height <= hit.viewport.height,
        `${size.name} (${label}): the first ${compact ? 'card' : 'row'} is inside the viewport: ${JSON.stringify(hit)}`)
      assert.equal(hit.hitsRow, true, `${size.name} (${label}): a tap at its middle lands on it`)
      assert.equal(await scrollsSideways(page), false, `${size.name} (${label}): no sideways scrolling`)
      if (compact) assert.deepEqual(await smallTargets(page, TOUCH_PX), [], `${size.name} (${label}): touch targets of ${TOUCH_PX} px`)
      // Tapping it opens its detail.
      if (compact) await page.touchscreen.tap(hit.box.x + hit.box.width / 2, hit.box.y + hit.box.height / 2)
      else await page.mouse.click(hit.box.x + hit.box.width / 2, hit.box.y + hit.box.height / 2)
      await page.waitForFunction((id) => document.getElementById('detail')?.hidden === false && location.hash === `#/node/${encodeURIComponent(id)}`, first.peerId, { timeout: 5_000 })
      assert.equal(await page.locator('#detail-title').textContent(), first.name)
      await page.screenshot({ path: artifactPath(`page-${size.name}-${label}-detail.png`) })
      await page.keyboard.press('Escape')
      await page.waitForFunction(() => document.getElementById('detail')?.hidden === true)
    }
  }

  before(async () => {
    const dir = tempDir('hb-tokens-')
    writeFileSync(join(dir, 'admin.token'), ADMIN_TOKEN, { mode: 0o600 })
    writeFileSync(join(dir, 'viewer.token'), VIEWER_TOKEN, { mode: 0o600 })
    aggregator = await startAggregatorProcess({
      args: ['--alert-for', '1s', '--admin-token-file', join(dir, 'admin.token'), '--viewer-token-file', join(dir, 'viewer.token'), '--status-page', '--store-flush-interval', '200ms'],
    })
    for (const nickname of HEALTHY) {
      agents.set(nickname, startAgentProcess(aggregator.multiaddr, ['--nickname', nickname, '--beat-period', '500ms', '--reconnect-period', '500ms', '--demo-block-time', '30s']))
    }
    await waitFor(async () => {
      const nodes = await fleetNodes()
      return nodes.length === HEALTHY.length && nodes.every((n) => n.status === 'healthy')
    }, { timeoutMs: 30_000, what: 'the healthy fleet' })
    // A port nobody listens on: the broken node's checks fail with "connection refused".
    closedPort = await freePort()
    browser = await openBrowser({ viewport: { width: 390, height: 844 }, hasTouch: true })
  })

  after(async () => {
    await browser?.close()
    await Promise.all([...agents.values()].map(async (agent) => { await agent.stop() }))
    await aggregator?.process.stop()
  })

  it('keeps the nodes in view and tappable at 390x844, 844x390 and 1440x900 with no alert firing', async () => {
    // Heights move every 30 s: a block boundary can put the network in dispute for a moment (NetworkInDispute
    // after --alert-for 1s on a loaded machine); wait until nothing fires.
    await waitFor(async () => await firing() === 0, { timeoutMs: 30_000, what: 'no alert firing' })
    await checkSizes('no-alerts')
  })

  it('keeps them in view with four or more alerts firing: the alert list folds to its count on a phone', async () => {
    agents.set(BROKEN, startAgentProcess(aggregator.multiaddr, [
      '--nickname', BROKEN, '--beat-period', '500ms', '--reconnect-period', '500ms', '--demo-block-time', '30s',
      ...FAILING.flatMap((name) => ['--check', `${name}=tcp:127.0.0.1:${closedPort}`]),
    ]))
    for (const victim of VICTIMS) agents.get(victim)?.kill('SIGKILL')
    await waitFor(async () => await firing() >= 4, { timeoutMs: 30_000, what: 'four alerts firing' })
    await checkSizes('alerts')
    const { page } = browser
    // On the phone the panel is a count that unfolds.
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(aggregator.url)
    await page.waitForFunction(() => document.getElementById('alerts')?.hidden === false, undefined, { timeout: 10_000 })
    const disclosure = page.locator('.alerts-disclosure')
    assert.equal(await disclosure.getAttribute('aria-expanded'), 'false')
    assert.match(await page.locator('#alerts-title').textContent() ?? '', /^⚑\d+ alerts firing$/)
    assert.equal(await page.locator('#alerts-body').isHidden(), true)
    await disclosure.tap()
    await page.waitForFunction(() => document.querySelector('.alerts-disclosure')?.getAttribute('aria-expanded') === 'true')
    assert.ok(await page.locator('#alerts .alert-item').count() >= 4)
    assert.equal(await scrollsSideways(page), false)
    await page.screenshot({ path: artifactPath('page-phone-alerts-open.png'), fullPage: false })
  })

  it('names every failing component in full at 1440x900, and gives the reason in the row', async () => {
    const { page } = browser
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(aggregator.url)
    const peerId = await peerOf(BROKEN)
    await page.waitForFunction((id) => document.querySelectorAll(`.tbody .row[data-peer-id="${id}"] .chip-name`).length === 2, peerId, { timeout: 15_000 })
    const chips = await page.evaluate((id) => [...document.querySelectorAll<HTMLElement>(`.tbody .row[data-peer-id="${id}"] .chip-name`)].map((e) => {
      const r = e.getBoundingClientRect()
      return { text: e.textContent, cut: e.scrollWidth > e.clientWidth, visible: r.width > 0 && r.right <= window.innerWidth }
    }), peerId)
    assert.deepEqual(chips, FAILING.map((text) => ({ text, cut: false, visible: true })))
    const reason = await page.locator(`.tbody .row[data-peer-id="${peerId}"] .name-reason`).textContent() ?? ''
    assert.match(reason, /reports not_ready/)
    // Every non-healthy node says why in its row.
    for (const row of await screenRows(page)) if (!row.status.endsWith('Healthy')) assert.notEqual(row.reason, '', `${row.name} says why`)
    // The tile's count matches its words.
    const byStatus = (await fetchJson(`${aggregator.url}/api/v1/fleet`)).summary.byStatus as Record<string, number>
    const attention = ['unhealthy', 'down', 'stale', 'degraded'].reduce((n, s) => n + (byStatus[s] ?? 0), 0)
    assert.equal(await page.locator('[data-tile="fleet"] .tile-value').textContent(), `✕ ${attention} need${attention === 1 ? 's' : ''} attention`)
    await page.screenshot({ path: artifactPath('page-desktop-failing-components.png') })
  })

  it('shows the component error text once signed in with the viewer token, and not before', async () => {
    const { page } = browser
    await page.setViewportSize({ width: 390, height: 844 })
    const peerId = await peerOf(BROKEN)
    await page.goto(`${aggregator.url}/#/node/${encodeURIComponent(peerId)}`)
    await page.waitForFunction(() => document.querySelector('.components .component-name') !== null, undefined, { timeout: 10_000 })
    assert.equal(await page.locator('.components .details').count(), 0, 'no details for a stranger')
    assert.match(await page.locator('.detail .note', { hasText: 'signed-in' }).textContent() ?? '', /Sign in/)
    await page.keyboard.press('Escape')
    await page.locator('#session button', { hasText: 'Sign in' }).tap()
    await page.locator('#signin-token').fill(VIEWER_TOKEN)
    await page.screenshot({ path: artifactPath('page-phone-signin.png') })
    await page.locator('#signin-dialog button[type="submit"]').tap()
    await page.waitForFunction(() => document.querySelector('.session-status')?.textContent === 'Signed in (viewer)', undefined, { timeout: 10_000 })
    // The feed reconnected with the cookie: the card says why, error text included, and so does the detail.
    await page.waitForFunction((id) => /ECONNREFUSED|connect|refused/i.test(document.querySelector(`.tbody .row[data-peer-id="${id}"] .name-reason`)?.textContent ?? ''), peerId, { timeout: 10_000 })
    await page.locator(`.tbody .row[data-peer-id="${peerId}"]`).tap()
    await page.waitForFunction(() => document.querySelectorAll('.components .details').length >= 2, undefined, { timeout: 10_000 })
    const details = await page.locator('.components .details').first().textContent() ?? ''
    assert.match(details, /ECONNREFUSED|refused/i)
    assert.equal(await page.locator('.remove-node').isHidden(), true, 'a viewer cannot remove nodes')
    const box = await page.locator('.components .details').first().boundingBox()
    assert.ok(box !== null && box.y < 844 * 3, 'the error text is on the page')
    await page.locator('.components .details').first().scrollIntoViewIfNeeded()
    await page.screenshot({ path: artifactPath('page-phone-signed-in-detail.png') })
    await page.keyboard.press('Escape')
    await page.locator('#session button', { hasText: 'Sign out' }).tap()
    await page.waitForFunction(() => document.querySelector('#session button:not([hidden])')?.textContent === 'Sign in', undefined, { timeout: 10_000 })
  })

  it('shows uptime and the stored status history, older than the page load, in the detail view; its height chart has readable axes', async () => {
    const { page } = browser
    await page.setViewportSize({ width: 1440, height: 900 })
    const peerId = await peerOf('lotus-alpha')
    await page.goto(`${aggregator.url}/#/node/${encodeURIComponent(peerId)}`)
    const loadedAt = await page.evaluate(() => Date.now() - performance.now())
    await page.waitForFunction(() => document.querySelector('.timeline li[data-at]') !== null, undefined, { timeout: 10_000 })
    const uptime = await page.locator('.uptime-item[data-window="hour"] .uptime-value').textContent()
    assert.match(uptime ?? '', /^\d+(\.\d+)?%$/)
    const times = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.timeline li[data-at]')].map((li) => Number(li.dataset.at)))
    assert.ok(times.some((t) => t < loadedAt), `a change from before the page load (${loadedAt}): ${times.join(', ')}`)
    assert.match(await page.locator('.timeline li').last().textContent() ?? '', /Healthy/)
    // Axis labels: no two touch, none reads like "…:16.000".
    await page.waitForFunction(() => document.querySelectorAll('.chart .u-axis').length >= 2, undefined, { timeout: 10_000 })
    const labels = await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.chart .u-axis')].map((axis) => [...axis.querySelectorAll<HTMLElement>('.u-value')].map((v) => {
      const r = v.getBoundingClientRect()
      return { text: v.textContent ?? '', left: r.left, right: r.right, top: r.top, bottom: r.bottom }
    })))
    for (const axis of labels) {
      for (const v of axis) assert.doesNotMatch(v.text, /\.\d{3}$|am|pm/, `label ${v.text}`)
      for (let i = 1; i < axis.length; i++) {
        const a = axis[i - 1] as typeof axis[number]
        const b = axis[i] as typeof axis[number]
        const overlap = Math.min(a.right, b.right) > Math.max(a.left, b.left) && Math.min(a.bottom, b.bottom) > Math.max(a.top, b.top)
        assert.equal(overlap, false, `labels ${a.text} and ${b.text} overlap`)
      }
    }
    await page.screenshot({ path: artifactPath('page-desktop-detail-history.png') })
    await page.keyboard.press('Escape')
  })

  it('lets a signed-in admin remove a node, after asking', async () => {
    const { page } = browser
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(aggregator.url)
    await page.locator('#session button', { hasText: 'Sign in' }).click()
    await page.locator('#signin-token').fill(ADMIN_TOKEN)
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => document.querySelector('.session-status')?.textContent === 'Signed in (admin)', undefined, { timeout: 10_000 })
    const victim = VICTIMS[0] as string
    const peerId = await peerOf(victim)
    await page.goto(`${aggregator.url}/#/node/${encodeURIComponent(peerId)}`)
    await page.waitForFunction(() => document.querySelector<HTMLElement>('.remove-node')?.hidden === false, undefined, { timeout: 10_000 })
    await page.locator('.remove-node').click()
    assert.match(await page.locator('#remove-dialog .dialog-intro').textContent() ?? '', new RegExp(`forgets ${victim}`))
    await page.screenshot({ path: artifactPath('page-desktop-remove-confirm.png') })
    await page.locator('#remove-dialog button[type="submit"]').click()
    await page.waitForFunction((id) => document.getElementById('detail')?.hidden === true && document.querySelector(`.tbody .row[data-peer-id="${id}"]`) === null, peerId, { timeout: 10_000 })
    assert.equal((await fetch(`${aggregator.url}/api/v1/nodes/${peerId}`)).status, 404)
    await page.locator('#session button', { hasText: 'Sign out' }).click()
  })

  it('publishes /status and /badge/fleet.svg without a token, with no peer id', async () => {
    const peerIds = (await fleetNodes()).map((n) => n.peerId)
    for (const path of ['/status', '/badge/fleet.svg', `/badge/node/${encodeURIComponent(BROKEN)}.svg`]) {
      const response = await fetch(`${aggregator.url}${path}`)
      assert.equal(response.status, 200, path)
      const text = await response.text()
      assert.ok(!text.includes('12D3KooW'), `${path} has no peer id`)
      for (const peerId of peerIds) assert.ok(!text.includes(peerId), path)
      assert.ok(!/ECONNREFUSED|127\.0\.0\.1/.test(text), `${path} has no error text or address`)
    }
    const { page } = browser
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(`${aggregator.url}/status`)
    assert.match(await page.locator('.status-verdict').textContent() ?? '', /need/)
    assert.equal(await scrollsSideways(page), false)
    await page.screenshot({ path: artifactPath('page-status-phone.png'), fullPage: true })
    await page.goto(`${aggregator.url}/badge/fleet.svg`)
    await page.screenshot({ path: artifactPath('page-badge-fleet.png') })
  })

  it('has no serious or critical accessibility violation (axe) at phone and desktop sizes, list and detail', async () => {
    const { page } = browser
    for (const size of [SIZES[0], SIZES[3]]) {
      await page.setViewportSize({ width: size.width, height: size.height })
      await page.goto(aggregator.url)
      await page.waitForFunction(() => document.querySelectorAll('.tbody .row:not([hidden])').length > 0 && document.getElementById('alerts')?.hidden === false, undefined, { timeout: 10_000 })
      assert.deepEqual(await seriousA11yViolations(page), [], `${size.name}: the list`)
      const first = (await screenRows(page))[0]
      await page.goto(`${aggregator.url}/#/node/${encodeURIComponent(first?.peerId ?? '')}`)
      await page.waitForFunction(() => document.getElementById('detail')?.hidden === false && document.querySelector('.timeline li') !== null, undefined, { timeout: 10_000 })
      assert.deepEqual(await seriousA11yViolations(page), [], `${size.name}: the detail`)
      await page.goto(`${aggregator.url}/status`)
      assert.deepEqual(await seriousA11yViolations(page), [], `${size.name}: /status`)
    }
    assert.deepEqual(browser.problems, [])
    assert.deepEqual(browser.dialogs, [])
  })
})
