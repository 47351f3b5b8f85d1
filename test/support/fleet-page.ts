// Reading the fleet page from a test: rows as the user sees them (in screen order).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'

export interface ScreenRow {
  index: number
  peerId: string
  name: string
  status: string
  height: string
  reason: string
}

/** The rendered rows (or cards), top to bottom (the DOM holds only these: the list is virtualised). */
export async function screenRows (page: Page): Promise<ScreenRow[]> {
  return await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.tbody .row:not([hidden])')]
    .map((row) => ({
      index: Number(row.dataset.index),
      peerId: row.dataset.peerId ?? '',
      name: row.querySelector('.name-main')?.textContent ?? '',
      status: row.querySelector('.badge')?.textContent ?? '',
      height: row.querySelector('.c-height')?.textContent ?? '',
      reason: row.querySelector('.name-reason')?.textContent ?? '',
    }))
    .sort((a, b) => a.index - b.index))
}

export async function rowFor (page: Page, name: string): Promise<ScreenRow | undefined> {
  return (await screenRows(page)).find((row) => row.name === name)
}

/** "✓ Healthy" -> "healthy". */
export function statusWord (badge: string): string {
  return badge.replace(/^\S+\s+/, '').toLowerCase()
}

/** Resolves after the page drew its next frame (it redraws at most once per animation frame). */
export async function nextFrame (page: Page): Promise<void> {
  await page.evaluate(async () => { await new Promise((resolve) => { requestAnimationFrame(() => { requestAnimationFrame(resolve) }) }) })
}

/** Where a row (or card) is on screen, and what a tap at its middle would hit. */
export interface RowHit {
  box: { x: number, y: number, width: number, height: number }
  viewport: { width: number, height: number }
  /** The element at the middle of the row's box belongs to the row. */
  hitsRow: boolean
}

export async function rowHit (page: Page, peerId: string): Promise<RowHit | undefined> {
  return await page.evaluate((id) => {
    const row = document.querySelector<HTMLElement>(`.tbody .row[data-peer-id="${CSS.escape(id)}"]:not([hidden])`)
    if (row === null) return undefined
    const r = row.getBoundingClientRect()
    const target = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
    return {
      box: { x: r.left, y: r.top, width: r.width, height: r.height },
      viewport: { width: window.innerWidth, height: window.innerHeight },
      hitsRow: target !== null && row.contains(target),
    }
  }, peerId)
}

/** Visible interactive elements smaller than `min` px either way (touch targets), outside the cards (a card is its own target). */
export async function smallTargets (page: Page, min: number): Promise<string[]> {
  return await page.evaluate((size) => {
    const out: string[] = []
    for (const e of document.querySelectorAll<HTMLElement>('button, a[href], input, select, [role="button"]')) {
      if (e.closest('.tbody .row') !== null) continue
      const r = e.getBoundingClientRect()
      if (r.width === 0 || r.height === 0 || getComputedStyle(e).visibility === 'hidden') continue
      if (r.width < size || r.height < size) out.push(`${e.tagName.toLowerCase()}.${e.className} "${(e.textContent ?? '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`)
    }
    return out
  }, min)
}

/** The page scrolls sideways (it must not). */
export async function scrollsSideways (page: Page): Promise<boolean> {
  return await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1)
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation { id: string, impact: string, help: string, nodes: string[] }

/**
 * Runs axe-core in the page (injected by the test through the DevTools
 * protocol, which the page's CSP does not govern; it is never in the
 * bundle) and returns the serious and critical violations.
 */
export async function seriousA11yViolations (page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource)
  return await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: Array<{ id: string, impact: string | null, help: string, nodes: Array<{ target: unknown[] }> }> }> } }).axe
    const result = await axe.run(document, { resultTypes: ['violations'] })
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }))
  })
}
