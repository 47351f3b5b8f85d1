// Signing the page in: the viewer (or admin) token is entered once and
// traded for a session cookie (POST /api/v1/session); the cookie is HttpOnly,
// so this page never holds the token after that and learns its state from
// GET /api/v1/session. Signed in, the API and the live feed show component
// details and addresses (--details when-authorized).
import { HISTORY_TIMEOUT_MS, SESSION_URL } from './constants.ts'
import { apiError, makeDialog, showDialogError, type DialogParts } from './dialog.ts'
import { el, setText } from './dom.ts'
import { formatDateTime, parseTime } from './format.ts'
import type { SessionState } from './types.ts'

export class SessionView {
  state: SessionState | undefined
  private readonly root: HTMLElement
  private readonly onChange: (state: SessionState) => void
  private readonly status: HTMLElement
  private readonly signIn: HTMLButtonElement
  private readonly signOut: HTMLButtonElement
  private readonly dialog: DialogParts
  private readonly token: HTMLInputElement

  /** `onChange`: the session started or ended (the page reconnects its feed to get what it may now see). */
  constructor (root: HTMLElement, onChange: (state: SessionState) => void) {
    this.root = root
    this.onChange = onChange
    this.status = el('span', { className: 'session-status' })
    this.signIn = el('button', { className: 'button', text: 'Sign in', title: 'Sign in with the viewer token to see component details and addresses', attrs: { type: 'button' } })
    this.signOut = el('button', { className: 'button', text: 'Sign out', attrs: { type: 'button' } })
    this.signIn.hidden = true
    this.signOut.hidden = true
    root.replaceChildren(this.status, this.signIn, this.signOut)
    this.token = el('input', { className: 'token-input', attrs: { id: 'signin-token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: '' } })
    this.dialog = makeDialog({
      id: 'signin-dialog',
      title: 'Sign in',
      intro: 'Enter the viewer token (or the admin token) once. The page keeps a session, not the token, and shows component details, error texts and addresses.',
      confirm: 'Sign in',
      onConfirm: () => { void this.submit() },
    })
    this.dialog.body.append(el('label', { className: 'field', attrs: { for: 'signin-token' } }, [el('span', { text: 'Token' }), this.token]))
    this.signIn.addEventListener('click', () => {
      this.token.value = ''
      this.dialog.open()
      this.token.focus()
    })
    this.signOut.addEventListener('click', () => { void this.end() })
  }

  get role (): SessionState['role'] {
    return this.state?.signedIn === true ? this.state.role : null
  }

  /** Asks the aggregator what this browser is (an older one without sessions answers 404: nothing shows). */
  async load (): Promise<void> {
    try {
      const response = await fetch(SESSION_URL, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(HISTORY_TIMEOUT_MS) })
      if (!response.ok) return
      this.show(await response.json() as SessionState)
    } catch {
      // Unreachable: the feed's banner says so; sign-in waits for the next load.
    }
  }

  private show (state: SessionState): void {
    this.state = state
    this.root.hidden = !state.signIn && !state.signedIn
    this.signIn.hidden = state.signedIn || !state.signIn
    this.signOut.hidden = !state.signedIn
    const until = parseTime(state.expiresAt)
    setText(this.status, state.signedIn ? `Signed in (${state.role ?? 'viewer'})` : '')
    this.status.title = state.signedIn && Number.isFinite(until) ? `until ${formatDateTime(until)}` : ''
  }

  private async submit (): Promise<void> {
    const token = this.token.value.trim()
    if (token === '') {
      showDialogError(this.dialog, 'Enter a token.')
      return
    }
    this.dialog.confirm.disabled = true
    try {
      const response = await fetch(SESSION_URL, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(HISTORY_TIMEOUT_MS) })
      if (!response.ok) {
        showDialogError(this.dialog, response.status === 401 ? 'That token is not right.' : await apiError(response))
        return
      }
      this.token.value = ''
      this.dialog.close()
      await this.load()
      if (this.state !== undefined) this.onChange(this.state)
    } catch {
      showDialogError(this.dialog, 'The aggregator did not answer; try again.')
    }
  }

  private async end (): Promise<void> {
    try {
      await fetch(SESSION_URL, { method: 'DELETE', signal: AbortSignal.timeout(HISTORY_TIMEOUT_MS) })
    } catch { /* the cookie may outlive this; it ends with the session's expiry */ }
    await this.load()
    if (this.state !== undefined) this.onChange(this.state)
  }
}
