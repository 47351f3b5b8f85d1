import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { createTransport } from 'nodemailer'
import { z } from 'zod'
import { systemClock } from '../../../shared/clock.ts'
import { ErrorCodes, UsageError } from '../../../shared/errors.ts'
import { type AlertMessage, messageText } from '../message.ts'
import type { DeliveryResult } from './delivery-queue.ts'
import { htmlLines } from './markup.ts'
import { MessageReceiver } from './message-receiver.ts'
import type { RateLimit } from './pacer.ts'
import type { ReceiverContext } from './receiver.ts'
import { defineReceiver } from './registry.ts'
import { envName, filePath, loadSecret, type Secret } from './secret.ts'

/** Mail servers throttle bursts and flag senders that storm: at most this many alert mails a minute. */
export const EMAIL_LIMITS: readonly RateLimit[] = [{ count: 30, perMs: 60_000 }]
/** One SMTP conversation (connect, greeting, TLS, auth, data) must finish within this: servers greet slowly, some on purpose. */
export const EMAIL_TIMEOUT_MS = 30_000
/** The submission port (STARTTLS), and the implicit-TLS one. */
const SUBMISSION_PORT = 587
const SMTPS_PORT = 465

export interface EmailSettings {
  smtp: {
    host: string
    port: number
    /** TLS from the first byte (port 465); otherwise STARTTLS. */
    secure: boolean
    /** Refuse to go on without STARTTLS (default whenever `secure` is off): no password and no alert in clear. */
    requireTls: boolean
    user: string | undefined
    password: Secret | undefined
    /** PEM of the CA that signs the server's certificate, when it is not a public one. */
    ca: string | undefined
  }
  from: string
  to: string[]
}

/** One mail as nodemailer takes it. */
export interface EmailMessage {
  subject: string
  text: string
  html: string
  messageId: string
  inReplyTo?: string
  references?: string
  headers: Record<string, string>
}

/**
 * The mail for one message (pure): the title as subject, the text and an
 * HTML part. Firing, reminders and resolved of one episode share a thread
 * (Message-ID / In-Reply-To / References), so a mail client shows the
 * resolution under the alarm.
 */
export function emailMessage (m: AlertMessage, from: string): EmailMessage {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'fil-heartbeat.invalid'
  const thread = createHash('sha256').update(m.episode).digest('hex').slice(0, 24)
  const first = `<alert-${thread}@${domain}>`
  const headers = { 'X-Fil-Heartbeat-Alert': m.alertId, 'X-Fil-Heartbeat-Status': m.kind }
  const html = `<!doctype html><html><body style="font-family:sans-serif"><p>${htmlLines(m, { anchors: true }).join('<br>\n')}</p></body></html>`
  const mail: EmailMessage = { subject: m.title, text: `${messageText(m)}\n`, html, messageId: first, headers }
  if (m.kind === 'firing' && !m.repeat) return mail
  return { ...mail, messageId: `<alert-${thread}-${m.kind}-${m.at}@${domain}>`, inReplyTo: first, references: first }
}

/**
 * How an SMTP failure is taken (RFC 5321): a 5yz reply is a permanent
 * refusal (bad credentials, unknown recipient), except 503 (a bad command
 * sequence, which a new connection fixes); a 4yz reply, a connection or TLS
 * failure and a timeout are worth another try.
 */
export function readSmtpError (err: unknown): DeliveryResult {
  const e = err as { code?: string, responseCode?: number, response?: string, message?: string, command?: string }
  // The command that failed says where (STARTTLS, AUTH PLAIN, RCPT TO, DATA); the reply says why.
  const said = e.response !== undefined && e.response !== '' ? e.response : `${e.code !== undefined ? `${e.code}: ` : ''}${e.message ?? String(err)}`
  const error = typeof e.command === 'string' && e.command !== '' ? `${e.command.split(' ').slice(0, 2).join(' ').replace(/:$/, '')}: ${said}` : said
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined
  if (status !== undefined && status >= 500 && status !== 503) return { ok: false, retry: false, error, status, answer: e.response }
  return { ok: false, retry: true, error, status, answer: e.response }
}

export function createEmailReceiver (settings: EmailSettings, context: ReceiverContext): MessageReceiver<EmailMessage> {
  const { smtp } = settings
  const clock = context.clock ?? systemClock
  return new MessageReceiver<EmailMessage>({
    kind: 'email',
    target: `smtp://${smtp.host}:${smtp.port} to ${settings.to.length} recipient${settings.to.length === 1 ? '' : 's'}`,
    context,
    limits: EMAIL_LIMITS,
    render: (m) => emailMessage(m, settings.from),
    describe: (mail) => mail.subject,
    send: async (mail, signal) => {
      // A transport per mail: nothing idles between alerts, and closing it is how an attempt is aborted.
      const transport = createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        requireTLS: !smtp.secure && smtp.requireTls,
        auth: smtp.user !== undefined ? { user: smtp.user, pass: smtp.password?.reveal() ?? '' } : undefined,
        // SNI takes a host name only (RFC 6066); the certificate is checked against the host either way.
        tls: { ...(smtp.ca !== undefined ? { ca: smtp.ca } : {}), ...(isIP(smtp.host) === 0 ? { servername: smtp.host } : {}) },
        connectionTimeout: EMAIL_TIMEOUT_MS,
        greetingTimeout: EMAIL_TIMEOUT_MS,
        socketTimeout: EMAIL_TIMEOUT_MS,
        disableFileAccess: true,
        disableUrlAccess: true,
      })
      let timer: { cancel: () => void } | undefined
      const stop = new Promise<never>((_resolve, reject) => {
        const abort = (): void => { transport.close(); reject(Object.assign(new Error('stopped'), { code: 'EABORT' })) }
        timer = clock.timeout(EMAIL_TIMEOUT_MS, () => { transport.close(); reject(Object.assign(new Error(`no answer within ${EMAIL_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })) })
        if (signal.aborted) abort()
        else signal.addEventListener('abort', abort, { once: true })
      })
      stop.catch(() => {})
      try {
        const info = await Promise.race([transport.sendMail({ from: settings.from, to: settings.to, ...mail }), stop])
        const response = typeof info.response === 'string' ? info.response : ''
        const code = Number(/^(\d{3})/.exec(response)?.[1])
        return { ok: true, status: Number.isFinite(code) ? code : undefined, answer: response }
      } catch (err) {
        return readSmtpError(err)
      } finally {
        timer?.cancel()
        transport.close()
      }
    },
  })
}

const address = z.string().min(3).max(320).regex(/@/, 'an e-mail address')

const entry = z.strictObject({
  smtp: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535).optional(),
    secure: z.boolean().optional(),
    requireTls: z.boolean().optional(),
    user: z.string().min(1).optional(),
    passwordFile: filePath.optional(),
    passwordEnv: envName.optional(),
    caFile: filePath.optional(),
  }),
  from: address,
  to: z.union([address, z.array(address).min(1)]).transform((to) => typeof to === 'string' ? [to] : to),
})

/** `receivers.email` in the rules file: `{smtp: {host, port?, secure?, requireTls?, user?, passwordFile | passwordEnv, caFile?}, from, to}`. */
export const emailReceiver = defineReceiver({
  kind: 'email',
  fileKey: 'email',
  fileEntry: entry,
  check: (e, where): EmailSettings => {
    const { smtp } = e
    const secure = smtp.secure ?? false
    const hasPassword = smtp.passwordFile !== undefined || smtp.passwordEnv !== undefined
    if (hasPassword !== (smtp.user !== undefined)) {
      throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${where}: smtp.user and smtp.passwordFile (or passwordEnv) go together`)
    }
    let ca: string | undefined
    if (smtp.caFile !== undefined) {
      try {
        ca = readFileSync(smtp.caFile, 'utf8')
      } catch (err) {
        throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `cannot read ${where}: smtp.caFile ${smtp.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
      }
    }
    return {
      smtp: {
        host: smtp.host,
        port: smtp.port ?? (secure ? SMTPS_PORT : SUBMISSION_PORT),
        secure,
        requireTls: smtp.requireTls ?? true,
        user: smtp.user,
        password: hasPassword ? loadSecret({ file: smtp.passwordFile, env: smtp.passwordEnv }, `${where}: smtp.passwordFile / passwordEnv`) : undefined,
        ca,
      },
      from: e.from,
      to: e.to,
    }
  },
  create: (settings, context) => createEmailReceiver(settings, context),
})
