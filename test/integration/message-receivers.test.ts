import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { discordReceiver } from '../../aggregator/alerts/receivers/discord.ts'
import { emailReceiver } from '../../aggregator/alerts/receivers/email.ts'
import { matrixReceiver } from '../../aggregator/alerts/receivers/matrix.ts'
import type { MessageReceiver } from '../../aggregator/alerts/receivers/message-receiver.ts'
import { pagerdutyReceiver } from '../../aggregator/alerts/receivers/pagerduty.ts'
import type { ReceiverContext } from '../../aggregator/alerts/receivers/receiver.ts'
import { slackReceiver } from '../../aggregator/alerts/receivers/slack.ts'
import { telegramReceiver } from '../../aggregator/alerts/receivers/telegram.ts'
import { ALERT_PEER, firingOf, nodeDownAlert, quietLogger, resolvedOf, testSource } from '../support/alerts.ts'
import { startFakeDiscord } from '../support/fakes/discord.ts'
import { startFakeMatrix } from '../support/fakes/matrix.ts'
import { startFakePagerDuty } from '../support/fakes/pagerduty.ts'
import { startFakeSlack } from '../support/fakes/slack.ts'
import { startSmtpSink } from '../support/fakes/smtp.ts'
import { startFakeTelegram, telegramTooMany } from '../support/fakes/telegram.ts'
import { ManualClock } from '../support/manual-clock.ts'
import { tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

/**
 * Each receiver against a local server that speaks its service's
 * documented request and answer shapes (test/support/fakes/), on a
 * ManualClock: a Retry-After is honoured to the millisecond, a rate limit
 * holds a message back until the clock moves, a 5xx is retried, a refusal
 * is not. Every wait is for the receiver to have taken the answer (its
 * counters), not only for the fake to have had the request.
 */

const T0 = Date.parse('2026-03-01T10:00:00.000Z')

function context (clock: ManualClock): ReceiverContext {
  return { source: testSource, logger: quietLogger, clock }
}

function secretFile (value: string): string {
  const file = join(tempDir('hb-secret-'), 'secret')
  writeFileSync(file, `${value}\n`, { mode: 0o600 })
  return file
}

/** The facts every message carries (issue 20): status, severity, nickname and peer id, the cause, for how long, the node's link. */
function assertMessageFacts (text: string, status: 'FIRING' | 'RESOLVED'): void {
  assert.match(text, new RegExp(`\\[${status}\\] NodeDown \\(critical\\): alpha`))
  assert.ok(text.includes(ALERT_PEER), 'the peer id')
  assert.match(text, /is down: disconnected at 12:00:03Z and not back within 3s/, 'the cause in words')
  assert.match(text, status === 'FIRING' ? /Firing for 1m5s/ : /Resolved after 2m5s/, 'for how long')
  assert.ok(text.includes(`http://heartbeat.example:8080/#/node/${ALERT_PEER}`), 'the node\'s page')
}

function stripTags (html: string): string {
  return html.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&')
}

test('telegram: sendMessage in HTML, a 429 waits parameters.retry_after, a chat gets one message a second, a wrong token is refused', async (t) => {
  const clock = new ManualClock({ wallStart: T0 })
  const tg = await startFakeTelegram({ token: '123456:ABC-secret' })
  const settings = telegramReceiver.check({ botTokenFile: secretFile('123456:ABC-secret'), chatId: '4242', apiUrl: tg.url }, 'test')
  const receiver = telegramReceiver.create(settings, context(clock)) as MessageReceiver<unknown>
  t.after(async () => { await receiver.stop(0); await tg.close() })
  assert.equal(receiver.target, 'http://127.0.0.1:' + new URL(tg.url).port + ' chat 4242', 'the token is not in the target')

  const alert = nodeDownAlert(clock.wall())
  tg.answerNext(telegramTooMany(3))
  receiver.notify(firingOf(alert, clock.wall()))
  await waitFor(() => receiver.stats().retries === 1, { what: 'the 429 to be taken' })
  await clock.advanceAsync(2_999)
  assert.equal(tg.requests.length, 1, 'not before retry_after')
  await clock.advanceAsync(1)
  await waitFor(() => receiver.stats().sent === 1, { what: 'the retry to be delivered and its answer seen' })
  const [first] = tg.messages()
  assert.equal(first!.json.chat_id, '4242')
  assert.equal(first!.json.parse_mode, 'HTML')
  assertMessageFacts(stripTags(first!.json.text), 'FIRING')
  assert.match(first!.json.text, /^<b>\[FIRING\] NodeDown \(critical\): alpha<\/b>\n/)

  // Resolved right after: one message a second to a chat, so it waits for the clock.
  receiver.notify(resolvedOf(alert, alert.firedAt! + 60_000))
  await waitFor(() => receiver.stats().queued === 1, { what: 'the resolved notice to wait' })
  assert.equal(tg.requests.length, 2, 'held back by the per-chat limit (the retry went out at this instant)')
  await clock.advanceAsync(1_000)
  await waitFor(() => receiver.stats().sent === 2, { what: 'the resolved notice' })
  assertMessageFacts(stripTags(tg.messages()[1]!.json.text), 'RESOLVED')

  // A name in the fleet is text, never markup.
  await clock.advanceAsync(1_000)
  receiver.notify(firingOf(nodeDownAlert(clock.wall(), { id: 'x', subject: { kind: 'node', peerId: ALERT_PEER, nickname: '<b>evil & co' }, summary: '<b>evil & co</b> is down' }), clock.wall()))
  await waitFor(() => receiver.stats().sent === 3, { what: 'the escaped message' })
  assert.match(tg.messages()[2]!.json.text, /&lt;b&gt;evil &amp; co/)

  // The test message goes through the same path and says what Telegram answered.
  await clock.advanceAsync(1_000)
  const outcome = await receiver.test!({ at: clock.wall(), signal: new AbortController().signal })
  assert.deepEqual([outcome.delivered, outcome.last.status, outcome.last.answer], [true, 200, 'ok, message_id 4'])

  // A wrong token: 401 Unauthorized is refused for good, with Telegram's description.
  const wrong = telegramReceiver.create(telegramReceiver.check({ botTokenFile: secretFile('999:WRONG'), chatId: '4242', apiUrl: tg.url }, 'test'), context(clock)) as MessageReceiver<unknown>
  wrong.notify(firingOf(alert, clock.wall()))
  await waitFor(() => wrong.stats().failed === 1, { what: 'the refusal' })
  assert.equal(wrong.stats().retries, 0)
  assert.equal(wrong.delivery?.()?.lastError, 'HTTP 401: Unauthorized')
  assert.ok(!JSON.stringify(wrong.delivery?.()).includes('WRONG'), 'the token is in no error')
  await wrong.stop(0)
})

test('discord: an embed with the facts, no mentions; the bucket headers and 5 per 2 s hold messages back; 429 retry_after honoured', async (t) => {
  const clock = new ManualClock({ wallStart: T0 })
  const dc = await startFakeDiscord({ id: '111', token: 'tok-secret', enforceBucket: true, now: clock.wall })
  const receiver = discordReceiver.create(discordReceiver.check({ urlFile: secretFile(dc.webhookUrl) }, 'test'), context(clock)) as MessageReceiver<unknown>
  t.after(async () => { await receiver.stop(0); await dc.close() })
  assert.ok(!receiver.target.includes('tok-secret'), 'the webhook token is not shown')

  const at = clock.wall()
  receiver.notify(firingOf(nodeDownAlert(at), at))
  await waitFor(() => receiver.stats().sent === 1, { what: 'the firing message' })
  const [first] = dc.accepted
  assert.equal(first!.query.get('wait'), 'true')
  assert.deepEqual(first!.json.allowed_mentions, { parse: [] })
  const embed = first!.json.embeds[0]
  assert.equal(embed.color, 0xc62828, 'critical is red')
  assertMessageFacts(`${embed.title}\n${embed.description}`, 'FIRING')

  // Five more at once: the webhook's bucket is 5 per 2 s, so the fifth waits for the clock (and the fake never says 429).
  for (let i = 0; i < 5; i++) receiver.notify(firingOf(nodeDownAlert(at, { id: `a${i}` }), at))
  await waitFor(() => receiver.stats().sent === 5 && receiver.stats().queued === 1, { what: 'four more, then the bucket full' })
  await clock.advanceAsync(2_000)
  await waitFor(() => receiver.stats().sent === 6, { what: 'the sixth after the window' })
  assert.equal(dc.requests.filter((r) => r.json === undefined).length, 0)
  assert.equal(dc.requests.length, 6, 'no 429 was needed')

  // A 429 from Discord: retry_after (seconds, in the body) is honoured.
  await clock.advanceAsync(60_000)
  dc.answerNext({ status: 429, headers: { 'retry-after': '3', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '2.5' }, body: { message: 'You are being rate limited.', retry_after: 2.5, global: false } })
  receiver.notify(resolvedOf(nodeDownAlert(at), at + 60_000))
  await waitFor(() => receiver.stats().retries === 1, { what: 'the 429 to be taken' })
  await clock.advanceAsync(2_499)
  assert.equal(dc.requests.length, 7, 'not before retry_after')
  await clock.advanceAsync(1)
  await waitFor(() => receiver.stats().sent === 7, { what: 'the retry' })
  const resolved = dc.accepted.at(-1)!.json
  assert.equal(resolved.embeds[0].color, 0x2e7d32, 'resolved is green')
  assertMessageFacts(`${resolved.embeds[0].title}\n${resolved.embeds[0].description}`, 'RESOLVED')
})

test('slack: blocks and a text fallback; Retry-After on 429; 404 no_service is refused for good', async (t) => {
  const clock = new ManualClock({ wallStart: T0 })
  const slack = await startFakeSlack({ path: '/services/T000/B000/XXXX' })
  // The webhook URL from the environment (a secret: not in the rules file).
  process.env.HB_TEST_SLACK_URL = slack.webhookUrl
  const receiver = slackReceiver.create(slackReceiver.check({ urlEnv: 'HB_TEST_SLACK_URL' }, 'test'), context(clock)) as MessageReceiver<unknown>
  t.after(async () => { await receiver.stop(0); await slack.close() })
  slack.answerNext({ status: 429, headers: { 'retry-after': '2' }, body: 'rate_limited' })
  const at = clock.wall()
  receiver.notify(firingOf(nodeDownAlert(at), at))
  await waitFor(() => receiver.stats().retries === 1, { what: 'the 429' })
  await clock.advanceAsync(1_999)
  assert.equal(slack.requests.length, 1)
  await clock.advanceAsync(1)
  await waitFor(() => receiver.stats().sent === 1, { what: 'the retry' })
  const body = slack.accepted[0]!.json
  assertMessageFacts(body.text, 'FIRING')
  assert.equal(body.blocks[0].type, 'header')
  assert.match(body.blocks[1].text.text, /\*Node:\* alpha · `12D3KooW/)
  assert.equal(body.blocks[2].elements[0].text, `<http://heartbeat.example:8080/#/node/${ALERT_PEER}|Open the node's page>`)

  const gone = slackReceiver.create(slackReceiver.check({ url: `${slack.url}/services/T000/B000/GONE` }, 'test'), context(clock)) as MessageReceiver<unknown>
  gone.notify(firingOf(nodeDownAlert(at), at))
  await waitFor(() => gone.stats().failed === 1, { what: 'the refusal' })
  assert.equal(gone.stats().retries, 0)
  assert.equal(gone.delivery?.()?.lastError, 'HTTP 404: no_service')
  await gone.stop(0)
})

test('pagerduty: trigger and resolve share a dedup key (the incident closes), reminders are not sent, 5xx retried, a bad routing key refused', async (t) => {
  const clock = new ManualClock({ wallStart: T0 })
  const pd = await startFakePagerDuty({ routingKey: 'R0UT1NGKEY' })
  const receiver = pagerdutyReceiver.create(pagerdutyReceiver.check({ routingKeyFile: secretFile('R0UT1NGKEY'), url: pd.enqueueUrl }, 'test'), context(clock)) as MessageReceiver<unknown>
  t.after(async () => { await receiver.stop(0); await pd.close() })
  const at = clock.wall()
  const alert = nodeDownAlert(at)
  pd.answerNext({ status: 503, body: { status: 'unavailable' } })
  receiver.notify(firingOf(alert, at))
  await waitFor(() => receiver.stats().retries === 1, { what: 'the 503' })
  await clock.advanceAsync(1_000)
  await waitFor(() => receiver.stats().sent === 1, { what: 'the trigger' })
  const trigger = pd.accepted[0]!.json
  assert.equal(trigger.event_action, 'trigger')
  assert.equal(trigger.dedup_key, alert.id)
  assert.equal(trigger.payload.severity, 'critical')
  assert.equal(trigger.payload.source, `alpha (${ALERT_PEER})`)
  assert.equal(trigger.payload.class, 'NodeDown')
  assertMessageFacts(`${trigger.payload.summary}\n${trigger.payload.custom_details.details}`, 'FIRING')
  assert.deepEqual(trigger.links, [{ href: `http://heartbeat.example:8080/#/node/${ALERT_PEER}`, text: 'Open the node\'s page' }])
  assert.deepEqual([...pd.open], [alert.id], 'an incident is open')

  receiver.notify(firingOf(alert, at + 4 * 3_600_000, { repeat: true }))
  receiver.notify(resolvedOf(alert, at + 60_000))
  await waitFor(() => receiver.stats().sent === 2, { what: 'the resolve' })
  const resolve = pd.accepted[1]!.json
  assert.deepEqual(resolve, { routing_key: 'R0UT1NGKEY', event_action: 'resolve', dedup_key: trigger.dedup_key })
  assert.deepEqual([...pd.open], [], 'the resolve closed it')
  assert.equal(pd.requests.length, 3, 'the reminder was not sent')

  process.env.HB_TEST_WRONG_KEY = 'WRONG'
  const wrong = pagerdutyReceiver.create(pagerdutyReceiver.check({ routingKeyEnv: 'HB_TEST_WRONG_KEY', url: pd.enqueueUrl }, 'test'), context(clock)) as MessageReceiver<unknown>
  wrong.notify(firingOf(alert, at))
  await waitFor(() => wrong.stats().failed === 1, { what: 'the refusal' })
  assert.match(wrong.delivery?.()?.lastError ?? '', /^HTTP 400: invalid event, Event object is invalid, 'routing_key' is invalid$/)
  await wrong.stop(0)
})

test('matrix: PUT with a transaction id (a retry after M_LIMIT_EXCEEDED reuses it), HTML and plain bodies', async (t) => {
  const clock = new ManualClock({ wallStart: T0 })
  const roomId = '!ops:fake.example'
  const mx = await startFakeMatrix({ roomId, accessToken: 'syt_secret' })
  const receiver = matrixReceiver.create(matrixReceiver.check({ homeserver: mx.url, roomId, accessTokenFile: secretFile('syt_secret') }, 'test'), context(clock)) as MessageReceiver<unknown>
  t.after(async () => { await receiver.stop(0); await mx.close() })
  mx.answerNext({ status: 429, body: { errcode: 'M_LIMIT_EXCEEDED', error: 'Too many requests', retry_after_ms: 1_500 } })
  const at = clock.wall()
  receiver.notify(firingOf(nodeDownAlert(at), at))
  await waitFor(() => receiver.stats().retries === 1, { what: 'the 429' })
  await clock.advanceAsync(1_499)
  assert.equal(mx.requests.length, 1)
  await clock.advanceAsync(1)
  await waitFor(() => receiver.stats().sent === 1, { what: 'the retry' })
  assert.equal(mx.requests[0]!.path, mx.requests[1]!.path, 'the same transaction: a retry can never post twice')
  const content = mx.accepted[0]!.json
  assert.equal(content.msgtype, 'm.text')
  assertMessageFacts(content.body, 'FIRING')
  assertMessageFacts(stripTags(content.formatted_body.replace(/<br>/g, '\n')), 'FIRING')
  assert.equal(mx.events.size, 1)
})

test('email: STARTTLS, AUTH, a well-formed multipart message threaded by Message-ID; 451 retried, 550 refused', async (t) => {
  const clock = new ManualClock({ wallStart: T0 })
  const smtp = await startSmtpSink({ user: 'alerts', password: 'pa55word' })
  const entry = {
    smtp: { host: smtp.host, port: smtp.port, user: 'alerts', passwordFile: secretFile('pa55word'), caFile: smtp.certFile },
    from: 'Heartbeat <alerts@heartbeat.example>',
    to: ['ops@example.org', 'oncall@example.org'],
  }
  const receiver = emailReceiver.create(emailReceiver.check(entry, 'test'), context(clock)) as MessageReceiver<unknown>
  t.after(async () => { await receiver.stop(0); await smtp.close() })
  const at = clock.wall()
  const alert = nodeDownAlert(at)
  smtp.failNext(1, 451, '4.3.0 Mail server temporarily rejected message')
  receiver.notify(firingOf(alert, at))
  await waitFor(() => receiver.stats().retries === 1, { timeoutMs: 20_000, what: 'the 451 to be retried' })
  await clock.advanceAsync(1_000)
  await waitFor(() => receiver.stats().sent === 1, { timeoutMs: 20_000, what: 'the mail' })
  const [mail] = smtp.mails
  assert.equal(mail!.secure, true, 'sent after STARTTLS')
  assert.equal(mail!.user, 'alerts', 'authenticated')
  assert.deepEqual(mail!.envelope, { from: 'alerts@heartbeat.example', to: ['ops@example.org', 'oncall@example.org'] })
  const p = mail!.parsed
  assert.equal(p.subject, '[FIRING] NodeDown (critical): alpha')
  assert.equal(p.from?.value[0]?.address, 'alerts@heartbeat.example')
  assert.deepEqual((Array.isArray(p.to) ? p.to : [p.to]).flatMap((a) => a?.value.map((v) => v.address)), ['ops@example.org', 'oncall@example.org'])
  assert.match(p.messageId ?? '', /^<alert-[0-9a-f]{24}@heartbeat\.example>$/)
  assert.ok(p.date instanceof Date && !Number.isNaN(p.date.getTime()), 'a Date header')
  assert.match(String(p.headers.get('content-type') && (p.headers.get('content-type') as { value: string }).value), /^multipart\/alternative$/)
  assert.equal(p.headers.get('x-fil-heartbeat-alert'), alert.id)
  assert.match(mail!.raw, /\r\nMIME-Version: 1\.0\r\n/)
  assertMessageFacts(p.text ?? '', 'FIRING')
  assertMessageFacts(stripTags(String(p.html).replace(/<br>/g, '\n')), 'FIRING')

  receiver.notify(resolvedOf(alert, at + 60_000))
  await waitFor(() => receiver.stats().sent === 2, { timeoutMs: 20_000, what: 'the resolved mail' })
  const resolved = smtp.mails[1]!.parsed
  assert.equal(resolved.subject, '[RESOLVED] NodeDown (critical): alpha')
  assert.equal(resolved.inReplyTo, p.messageId, 'threaded under the alarm')
  assertMessageFacts(resolved.text ?? '', 'RESOLVED')

  // A permanent refusal is not retried.
  smtp.failNext(1, 550, '5.1.1 Mailbox unavailable')
  receiver.notify(firingOf(nodeDownAlert(at, { id: 'other' }), at))
  await waitFor(() => receiver.stats().failed === 1, { timeoutMs: 20_000, what: 'the 550' })
  assert.equal(receiver.stats().retries, 1, 'only the 451 was retried')
  assert.match(receiver.delivery?.()?.lastError ?? '', /550 5\.1\.1 Mailbox unavailable/)

  // A wrong password: 535 is refused for good, and the password is in no message.
  const wrong = emailReceiver.create(emailReceiver.check({ ...entry, smtp: { ...entry.smtp, passwordFile: secretFile('guess') } }, 'test'), context(clock)) as MessageReceiver<unknown>
  wrong.notify(firingOf(alert, at))
  await waitFor(() => wrong.stats().failed === 1, { timeoutMs: 20_000, what: 'the refused login' })
  assert.equal(smtp.refusedLogins, 1)
  assert.match(wrong.delivery?.()?.lastError ?? '', /535/)
  assert.ok(!JSON.stringify(wrong.delivery?.()).includes('guess'))
  await wrong.stop(0)
})

test('email: a server without STARTTLS is refused when TLS is required (the default), and no password crosses in clear', async (t) => {
  const { SMTPServer } = await import('smtp-server')
  let authTried = false
  const plain = new SMTPServer({ secure: false, disabledCommands: ['STARTTLS'], authOptional: true, logger: false, onAuth (_a, _s, cb) { authTried = true; cb(null, { user: 'x' }) }, onData (s, _x, cb) { s.resume(); s.on('end', () => { cb() }) } })
  await new Promise<void>((resolve) => { plain.listen(0, '127.0.0.1', resolve) })
  const port = (plain.server.address() as { port: number }).port
  t.after(async () => { await new Promise<void>((resolve) => { plain.close(() => { resolve() }) }) })
  const clock = new ManualClock({ wallStart: T0 })
  const receiver = emailReceiver.create(emailReceiver.check({ smtp: { host: '127.0.0.1', port, user: 'alerts', passwordFile: secretFile('pa55word') }, from: 'a@b.example', to: ['c@d.example'] }, 'test'), context(clock)) as MessageReceiver<unknown>
  const outcome = await receiver.test!({ at: clock.wall(), signal: AbortSignal.timeout(20_000) })
  assert.equal(outcome.delivered, false)
  assert.match(outcome.last.ok ? '' : outcome.last.error, /^STARTTLS: 500 /, 'the server cannot STARTTLS: refused for good')
  assert.equal(authTried, false, 'the password was never sent')
  await receiver.stop(0)
})
