import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { tempDir } from '../processes.ts'

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl for this test run. */
export function selfSignedCertificate (): { key: string, cert: string, certFile: string } {
  const dir = tempDir('hb-smtp-tls-')
  const keyFile = join(dir, 'key.pem')
  const certFile = join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' })
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile }
}

export interface ReceivedMail {
  /** The raw message as it came over DATA. */
  raw: string
  parsed: ParsedMail
  envelope: { from: string, to: string[] }
  /** The session was upgraded with STARTTLS before the mail was sent. */
  secure: boolean
  user: string | undefined
  authMethod: string | undefined
}

export interface SmtpSink {
  host: string
  port: number
  certFile: string
  mails: ReceivedMail[]
  /** Logins the sink refused. */
  refusedLogins: number
  /** The next mails get this reply (e.g. 451 4.3.0 or 550 5.1.1) instead of being taken. */
  failNext: (n: number, code: number, message: string) => void
  close: () => Promise<void>
}

/**
 * An SMTP submission server (smtp-server) that takes STARTTLS (a
 * self-signed certificate), requires it before AUTH (PLAIN or LOGIN, with
 * one user), and keeps every message it accepts, parsed (mailparser) so a
 * test can check the headers and MIME parts.
 */
export async function startSmtpSink (options: { user: string, password: string }): Promise<SmtpSink> {
  const tls = selfSignedCertificate()
  const mails: ReceivedMail[] = []
  let failures = 0
  let failure = { code: 451, message: '4.3.0 try again later' }
  const sink: Partial<SmtpSink> & { mails: ReceivedMail[], refusedLogins: number } = { mails, refusedLogins: 0 }
  const server = new SMTPServer({
    secure: false,
    key: tls.key,
    cert: tls.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    // AUTH only after STARTTLS: a client that would send the password in clear is refused.
    allowInsecureAuth: false,
    authOptional: false,
    logger: false,
    disabledCommands: [],
    onAuth (auth, session, callback) {
      if (session.secure !== true) { callback(new Error('Must issue a STARTTLS command first')); return }
      if (auth.username !== options.user || auth.password !== options.password) {
        sink.refusedLogins++
        callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }))
        return
      }
      callback(null, { user: auth.username })
    },
    onData (stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => { chunks.push(c) })
      stream.on('end', () => {
        if (failures > 0) {
          failures--
          callback(Object.assign(new Error(failure.message), { responseCode: failure.code }))
          return
        }
        const raw = Buffer.concat(chunks).toString('utf8')
        simpleParser(raw).then((parsed) => {
          mails.push({
            raw,
            parsed,
            envelope: { from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address) },
            secure: session.secure,
            user: typeof session.user === 'string' ? session.user : undefined,
            authMethod: (session as { transmissionType?: string }).transmissionType,
          })
          callback()
        }, (err: Error) => { callback(err) })
      })
    },
  })
  server.on('error', () => {})
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const port = (server.server.address() as AddressInfo).port
  sink.host = '127.0.0.1'
  sink.port = port
  sink.certFile = tls.certFile
  sink.failNext = (n, code, message) => { failures = n; failure = { code, message } }
  sink.close = async () => { await new Promise<void>((resolve) => { server.close(() => { resolve() }) }) }
  return sink as SmtpSink
}
