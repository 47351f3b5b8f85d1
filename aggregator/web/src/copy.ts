import { COPIED_FEEDBACK_MS } from './constants.ts'
import { el } from './dom.ts'

/** Puts text on the clipboard; falls back to a hidden textarea where the Clipboard API is unavailable (plain http on a LAN address). */
export async function copyText (text: string): Promise<boolean> {
  try {
    if (navigator.clipboard !== undefined && window.isSecureContext) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch { /* fall through */ }
  const area = el('textarea', { className: 'offscreen', attrs: { readonly: '', 'aria-hidden': 'true' } })
  area.value = text
  document.body.append(area)
  area.select()
  let ok = false
  try {
    ok = document.execCommand('copy')
  } catch {
    ok = false
  }
  area.remove()
  return ok
}

/** A small "Copy" button for `text()`; says "Copied" for a moment. */
export function copyButton (label: string, text: () => string): HTMLButtonElement {
  const button = el('button', { className: 'copy', text: 'Copy', attrs: { type: 'button', 'aria-label': `Copy ${label}` } })
  let reset: number | undefined
  button.addEventListener('click', (event) => {
    event.stopPropagation()
    void copyText(text()).then((ok) => {
      button.textContent = ok ? 'Copied' : 'Copy failed'
      window.clearTimeout(reset)
      reset = window.setTimeout(() => { button.textContent = 'Copy' }, COPIED_FEEDBACK_MS)
    })
  })
  return button
}
