// A modal dialog (<dialog> with showModal: the browser traps focus, Escape
// cancels, focus returns to the opener when it closes). Text only.
import { el } from './dom.ts'

export interface DialogParts {
  dialog: HTMLDialogElement
  /** Where the caller puts its fields. */
  body: HTMLElement
  /** Says what went wrong (announced to screen readers). */
  error: HTMLElement
  /** The confirming button. */
  confirm: HTMLButtonElement
  open (): void
  close (): void
}

export function makeDialog (options: { id: string, title: string, intro: string, confirm: string, danger?: boolean, onConfirm: () => void }): DialogParts {
  const titleId = `${options.id}-title`
  const error = el('p', { className: 'dialog-error', attrs: { role: 'alert' } })
  error.hidden = true
  const body = el('div', { className: 'dialog-body' })
  const cancel = el('button', { className: 'button', text: 'Cancel', attrs: { type: 'button' } })
  const confirm = el('button', { className: `button primary${options.danger === true ? ' danger' : ''}`, text: options.confirm, attrs: { type: 'submit' } })
  // A form so that Enter in a field confirms; it is never submitted (CSP form-action 'none').
  const form = el('form', { className: 'dialog-form', attrs: { novalidate: '' } }, [
    el('h2', { text: options.title, attrs: { id: titleId } }),
    el('p', { className: 'dialog-intro', text: options.intro }),
    body,
    error,
    el('div', { className: 'dialog-actions' }, [cancel, confirm]),
  ])
  const dialog = el('dialog', { className: 'dialog', attrs: { id: options.id, 'aria-labelledby': titleId } }, [form])
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    options.onConfirm()
  })
  cancel.addEventListener('click', () => { dialog.close() })
  document.body.append(dialog)
  return {
    dialog,
    body,
    error,
    confirm,
    open: () => {
      error.hidden = true
      error.textContent = ''
      confirm.disabled = false
      if (!dialog.open) dialog.showModal()
    },
    close: () => { if (dialog.open) dialog.close() },
  }
}

/** Shows `message` in the dialog's error line. */
export function showDialogError (parts: DialogParts, message: string): void {
  parts.error.textContent = message
  parts.error.hidden = false
  parts.confirm.disabled = false
}

/** The message of an API error answer (`{error: {message}}`), or a plain one. */
export async function apiError (response: Response): Promise<string> {
  try {
    const body = await response.json() as { error?: { message?: unknown } }
    if (typeof body.error?.message === 'string') return body.error.message
  } catch { /* not JSON */ }
  return `the aggregator answered ${response.status}`
}
