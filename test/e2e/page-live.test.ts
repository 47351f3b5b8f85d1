// The fleet page in a real Chromium, over a live fleet of real processes: an
// aggregator and demo agents, one of them with a hostile nickname.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { artifactPath, openBrowser, type RunningBrowser } from '../support/browser.ts'
import { nextFrame, rowFor, screenRows, statusWord } from '../support/fleet-page.ts'
import { freePort } from '../support/ports.ts'
import { fetchJson, startAgentProcess, startAggregatorProcess, type RunningAggregator, type Spawned } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'
import { naturalKey } from '../../aggregator/web/src/table-model.ts'

const HOSTILE = '<img src=x onerror=alert(1)>'
const NICKNAMES = ['lotus-alpha', 'lotus-bravo', HOSTILE, '']

describe('fleet page, live fleet', { timeout: 180_000 }, () => {
  let httpPort: number
  let p2pPort: number
  let aggregator: RunningAggregator
  let browser: RunningBrowser
  const agents = new Map<string, Spawned>()

  const startAggregator = async (dataDir?: string): Promise<RunningAggregator> =>
    await startAggregatorProcess({ dataDir, port: p2pPort, args: ['--http', `127.0.0.1:${httpPort}`] })

  before(async () => {
    httpPort = await freePort()
    p2pPort = await freePort()
    aggregator = await startAggregator()
    for (const nickname of NICKNAMES) {
      agents.set(nickname, startAgentProcess(aggregator.multiaddr, [
        '--nickname', nickname, '--beat-period', '500ms', '--reconnect-period', '500ms',
        '--demo-block-time', '1s', '--miner-address', nickname === '' ? '' : 'f01000',
      ]))
    }
    await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/fleet`)).nodes.length === NICKNAMES.length, { timeoutMs: 20_000, what: 'all agents in the fleet' })
    browser = await openBrowser()
  })

  after(async () => {
    await browser?.close()
    await Promise.all([...agents.values()].map(async (agent) => { await agent.stop() }))
    await aggregator?.process.stop()
  })

  it('lists the nodes of the fleet, with CSP and no external resources', async () => {
    const { page } = browser
    const requested: string[] = []
    page.on('request', (request) => { requested.push(request.url()) })
    const response = await page.goto(aggregator.url)
    const csp = response?.headers()['content-security-policy'] ?? ''
    assert.match(csp, /script-src 'self'/)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
    await page.waitForFunction((n) => document.querySelectorAll('.tbody .row:not([hidden])').length === n, NICKNAMES.length, { timeout: 10_000 })
    const rows = await screenRows(page)
    const fleet = await fetchJson(`${aggregator.url}/api/v1/fleet`)
    const expectedNames = (fleet.nodes as Array<{ nickname: string, peerId: string }>).map((n) => n.nickname === '' ? n.peerId : n.nickname).sort()
    assert.deepEqual(rows.map((r) => r.name).sort(), expectedNames)
    assert.ok(rows.every((r) => statusWord(r.status) === 'healthy'), `all healthy: ${JSON.stringify(rows)}`)
    // The header: counts, and the aggregator's identity.
    assert.equal(await page.locator('.status-toggle[data-status="healthy"] .count').textContent(), String(NICKNAMES.length))
    assert.equal(await page.locator('.agg-field .addr').textContent(), aggregator.multiaddr)
    assert.match(await page.locator('.consensus').textContent() ?? '', /of 4 agree/)
    const origin = new URL(aggregator.url).origin
    assert.deepEqual(requested.filter((url) => !url.startsWith(origin)), [], 'nothing loaded from elsewhere')
    await page.screenshot({ path: artifactPath('page-live.png') })
  })

  it('shows heights changing without a reload', async () => {
    const { page } = browser
    await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true })
    const before = (await rowFor(page, 'lotus-alpha'))?.height
    assert.ok(before !== undefined && /^\d[\d,]*$/.test(before), `a height on screen: ${before}`)
    await page.waitForFunction((was) => {
      const row = [...document.querySelectorAll('.tbody .row:not([hidden])')].find((r) => r.querySelector('.name-main')?.textContent === 'lotus-alpha')
      return row !== undefined && row.querySelector('.c-height')?.textContent !== was
    }, before, { timeout: 10_000 })
    const afterHeight = (await rowFor(page, 'lotus-alpha'))?.height ?? ''
    assert.ok(Number(afterHeight.replaceAll(',', '')) > Number(before.replaceAll(',', '')), `${afterHeight} > ${before}`)
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'no reload happened')
  })

  it('sorts by any column', async () => {
    const { page } = browser
    const names = async (): Promise<string[]> => (await screenRows(page)).map((r) => r.name)
    // The page sorts text in natural order (unit-tested in page-table-model.test.ts): "node-9" before "node-10", case ignored.
    const sortedBy = (list: string[], direction: 1 | -1): boolean => list.every((name, i) => i === 0 || (naturalKey(list[i - 1] as string) <= naturalKey(name) ? 1 : -1) === direction || naturalKey(list[i - 1] as string) === naturalKey(name))

    await page.getByRole('button', { name: 'Node', exact: true }).click()
    await page.waitForFunction(() => document.querySelector('[aria-sort="ascending"]')?.textContent?.startsWith('Node') === true)
    await nextFrame(page)
    assert.ok(sortedBy(await names(), 1), `ascending by name: ${(await names()).join(' | ')}`)
    await page.getByRole('button', { name: 'Node', exact: true }).click()
    await page.waitForFunction(() => document.querySelector('[aria-sort="descending"]')?.textContent?.startsWith('Node') === true)
    await nextFrame(page)
    assert.ok(sortedBy(await names(), -1), `descending by name: ${(await names()).join(' | ')}`)

    await page.getByRole('button', { name: 'Peer', exact: true }).click()
    await page.waitForFunction(() => document.querySelector('[aria-sort="ascending"]')?.textContent?.startsWith('Peer') === true)
    await nextFrame(page)
    const peers = (await screenRows(page)).map((r) => r.peerId)
    assert.ok(sortedBy(peers, 1), `ascending by peer id: ${peers.join(' | ')}`)

    // Back to the default: status, problems first.
    await page.getByRole('button', { name: 'Status', exact: true }).click()
    await page.waitForFunction(() => document.querySelector('[aria-sort="ascending"]')?.textContent?.startsWith('Status') === true)
  })

  it('filters by text and by status', async () => {
    const { page } = browser
    await page.locator('#filter').fill('bravo')
    await page.waitForFunction(() => document.querySelectorAll('.tbody .row:not([hidden])').length === 1)
    assert.deepEqual((await screenRows(page)).map((r) => r.name), ['lotus-bravo'])
    assert.equal(await page.locator('#row-count').textContent(), '1 of 4 nodes')
    // Escape in the filter box clears it.
    await page.locator('#filter').press('Escape')
    await page.waitForFunction((n) => document.querySelectorAll('.tbody .row:not([hidden])').length === n, NICKNAMES.length)

    // Every node is healthy: showing only degraded ones shows none, and says so.
    await page.locator('.status-toggle[data-status="degraded"]').click()
    await page.waitForFunction(() => document.querySelectorAll('.tbody .row:not([hidden])').length === 0)
    assert.match(await page.locator('#empty').textContent() ?? '', /No node matches the filter/)
    await page.locator('.status-toggle[data-status="degraded"]').click()
    await page.locator('.status-toggle[data-status="healthy"]').click()
    await page.waitForFunction((n) => document.querySelectorAll('.tbody .row:not([hidden])').length === n &&
      document.querySelector('.status-toggle[data-status="healthy"]')?.getAttribute('aria-pressed') === 'true', NICKNAMES.length)
    await page.locator('#clear-filters').click()
    // The screen follows on the next animation frame.
    await page.waitForFunction(() => document.querySelector('.status-toggle[data-status="healthy"]')?.getAttribute('aria-pressed') === 'false' && document.getElementById('clear-filters')?.hidden === true)
  })

  it('is usable from the keyboard: arrows move between rows, "/" jumps to the filter', async () => {
    const { page } = browser
    const rows = await screenRows(page)
    // Each row's name is a link to its detail; the arrows move focus from row to row.
    const focusedRow = async (): Promise<string | undefined> => await page.evaluate(() => document.activeElement?.closest<HTMLElement>('.row')?.dataset.index)
    await page.locator(`.tbody .row[data-peer-id="${rows[0]?.peerId ?? ''}"] .name-main`).focus()
    await page.keyboard.press('ArrowDown')
    assert.equal(await focusedRow(), '1')
    await page.keyboard.press('End')
    assert.equal(await focusedRow(), String(rows.length - 1))
    await page.keyboard.press('Home')
    assert.equal(await focusedRow(), '0')
    // One row is in the tab order at a time (roving tabindex).
    assert.equal(await page.evaluate(() => document.querySelectorAll('.tbody .row .name-main[tabindex="0"]').length), 1)
    await page.keyboard.press('/')
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'filter')
  })

  it('shows a hostile nickname as text and runs nothing, in the table and in the detail view', async () => {
    const { page } = browser
    const row = await rowFor(page, HOSTILE)
    assert.ok(row !== undefined, 'the hostile nickname is shown literally')
    // Open its detail with the keyboard: focus the row's link, Enter; Escape closes it and focus returns.
    await page.locator(`.tbody .row[data-peer-id="${row.peerId}"] .name-main`).focus()
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => document.getElementById('detail')?.hidden === false)
    assert.equal(await page.locator('#detail-title').textContent(), HOSTILE)
    assert.equal(new URL(page.url()).hash, `#/node/${row.peerId}`)
    await page.waitForFunction(() => document.querySelector('.chart canvas') !== null)
    await page.screenshot({ path: artifactPath('page-detail.png') })
    await page.keyboard.press('Escape')
    await page.waitForFunction(() => document.getElementById('detail')?.hidden === true)
    assert.equal(await page.evaluate(() => document.activeElement?.closest<HTMLElement>('.row')?.dataset.peerId), row.peerId)

    const injected = await page.evaluate(() => ({
      images: [...document.querySelectorAll('img')].map((img) => img.getAttribute('src')),
      withHandlers: document.querySelectorAll('[onerror]').length,
    }))
    assert.deepEqual(injected, { images: ['/assets/favicon.svg'], withHandlers: 0 })
    assert.deepEqual(browser.dialogs, [])
  })

  it('turns a killed agent non-healthy on screen within three seconds, problems first', async () => {
    const { page } = browser
    const agent = agents.get('lotus-bravo') as Spawned
    const killedAt = Date.now()
    agent.kill('SIGKILL')
    await page.waitForFunction(() => {
      const row = [...document.querySelectorAll('.tbody .row:not([hidden])')].find((r) => r.querySelector('.name-main')?.textContent === 'lotus-bravo')
      return row !== undefined && !/\sHealthy$/.test(row.querySelector('.badge')?.textContent ?? ' Healthy')
    }, undefined, { timeout: 3_000 })
    const elapsed = Date.now() - killedAt
    console.log(`# killed agent shown non-healthy after ${elapsed} ms`)
    const rows = await screenRows(page)
    assert.equal(rows[0]?.name, 'lotus-bravo', 'the problem sorts first')
    assert.notEqual(statusWord(rows[0]?.status ?? ''), 'healthy')
    assert.notEqual(rows[0]?.reason ?? '', '', 'a non-healthy node says why')
    await page.screenshot({ path: artifactPath('page-node-lost.png') })
  })

  it('shows a banner while the aggregator is away and recovers when it is back', async () => {
    const { page } = browser
    const dataDir = aggregator.dataDir
    aggregator.process.kill('SIGKILL')
    await aggregator.process.exited
    await page.waitForFunction(() => {
      const banner = document.getElementById('banner')
      return banner !== null && !banner.hidden && banner.dataset.state === 'lost'
    }, undefined, { timeout: 10_000 })
    assert.match(await page.locator('#banner').textContent() ?? '', /Connection to the aggregator lost/)
    assert.match(await page.locator('#live').textContent() ?? '', /^(Offline|Reconnecting…)$/)
    await page.screenshot({ path: artifactPath('page-reconnecting.png') })

    aggregator = await startAggregator(dataDir)
    await page.waitForFunction(() => document.getElementById('banner')?.hidden === true && document.getElementById('live')?.textContent === 'Live', undefined, { timeout: 30_000 })
    // The agents come back to the new aggregator (same peer id, same port) and the page shows them again.
    await page.waitForFunction(() => {
      const names = [...document.querySelectorAll('.tbody .row:not([hidden])')]
        .filter((r) => /\sHealthy$/.test(r.querySelector('.badge')?.textContent ?? ''))
        .map((r) => r.querySelector('.name-main')?.textContent)
      return names.includes('lotus-alpha') && names.includes('<img src=x onerror=alert(1)>')
    }, undefined, { timeout: 30_000 })
    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'recovered without a reload')
    await page.screenshot({ path: artifactPath('page-recovered.png') })
  })

  it('logged no page errors and no CSP violations', () => {
    assert.deepEqual(browser.problems, [])
    assert.deepEqual(browser.dialogs, [])
  })

  it('has a CSP that the browser enforces: injected inline script and style do not apply', async () => {
    const { page } = browser
    const result = await page.evaluate(async () => {
      // Both injections are refused and reported: wait for the two reports, not for a while.
      const reported = new Promise<void>((resolve) => {
        const seen = new Set<string>()
        document.addEventListener('securitypolicyviolation', (event) => {
          seen.add(event.violatedDirective.replace(/-elem$/, ''))
          if (seen.has('script-src') && seen.has('style-src')) resolve()
        })
      })
      const script = document.createElement('script')
      script.textContent = 'window.inlineScriptRan = true'
      document.body.append(script)
      const style = document.createElement('style')
      style.textContent = 'body { margin-left: 77px }'
      document.head.append(style)
      await reported
      return { ran: (window as unknown as { inlineScriptRan?: boolean }).inlineScriptRan === true, margin: getComputedStyle(document.body).marginLeft }
    })
    assert.deepEqual(result, { ran: false, margin: '0px' })
    assert.ok(browser.problems.some((p) => /CSP violation: script-src/.test(p)), 'the violation was reported')
  })
})
