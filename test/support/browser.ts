import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { ROOT, tempDir } from './processes.ts'

/** Debian's chromium (scripts/system-deps.ts installs it for `npm test`). */
export const CHROMIUM = '/usr/bin/chromium'
export const ARTIFACTS_DIR = join(ROOT, 'test-artifacts')

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage',
]

export interface RunningBrowser {
  context: BrowserContext
  page: Page
  /** Messages the page logged as errors, uncaught exceptions, and CSP violations: a healthy page has none. */
  problems: string[]
  /** Dialogs (alert, confirm, prompt) the page tried to open: a safe page opens none. */
  dialogs: string[]
  close (): Promise<void>
}

/**
 * A fresh headless Chromium (its own profile directory), one page, with the
 * page's errors, dialogs and CSP violations collected for the test to check.
 */
export async function openBrowser (options: { colorScheme?: 'light' | 'dark', viewport?: { width: number, height: number }, hasTouch?: boolean } = {}): Promise<RunningBrowser> {
  const userDataDir = tempDir('hb-chromium-')
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? { width: 1440, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    hasTouch: options.hasTouch ?? false,
  })
  const page = context.pages()[0] ?? await context.newPage()
  const problems: string[] = []
  const dialogs: string[] = []
  page.on('pageerror', (err) => { problems.push(`page error: ${err.message}`) })
  page.on('console', (message) => {
    // Failed requests (a 404 from an optional API, a refused feed while the aggregator restarts) are expected; anything else is not.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error: ${message.text()}`)
  })
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`)
    void dialog.dismiss()
  })
  // CSP violations show up as console errors in Chromium; this also catches them as events.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`)
    })
  })
  return {
    context,
    page,
    problems,
    dialogs,
    async close () {
      await context.close().catch(() => {})
      rmSync(userDataDir, { recursive: true, force: true })
    },
  }
}

export function artifactPath (name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  return join(ARTIFACTS_DIR, name)
}

export type { Browser, Page }
