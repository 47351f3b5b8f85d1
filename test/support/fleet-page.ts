// Reading the fleet page from a test: rows as the user sees them (in screen order).
import type { Page } from 'playwright-core'

export interface ScreenRow {
  index: number
  peerId: string
  name: string
  status: string
  height: string
  reason: string
}

/** The rendered rows, top to bottom (the DOM holds only these: the table is virtualised). */
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
