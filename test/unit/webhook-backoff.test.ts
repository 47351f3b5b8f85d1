import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_RETRY, parseRetryAfter, retryDelay, type RetryPolicy } from '../../aggregator/alerts/receivers/retry.ts'
import { DeliveryQueue, type DeliveryResult } from '../../aggregator/alerts/receivers/delivery-queue.ts'
import { toAlertmanagerAlert, alertmanagerEndpoint } from '../../aggregator/alerts/receivers/alertmanager.ts'
import { webhookBody } from '../../aggregator/alerts/receivers/webhook.ts'
import { redactUrl } from '../../aggregator/alerts/config.ts'
import type { AlertRecord } from '../../aggregator/alerts/types.ts'
import { createLogger } from '../../shared/log.ts'

const policy: RetryPolicy = { initialMs: 500, base: 2, capMs: 30_000, jitter: { kind: 'down', share: 0.5 }, maxAttempts: 8, retryAfterCapMs: 300_000 }
const quiet = createLogger({ name: 'test', level: 'silent' })

test('backoff: exponential from the first delay, capped, jittered downwards by the injected randomness, given up after maxAttempts', () => {
  const none = (): number => 0
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((a) => retryDelay(policy, a, none)), [500, 1000, 2000, 4000, 8000, 16000, 30000])
  assert.equal(retryDelay(policy, 8, none), undefined, 'the 8th failure was the last attempt')
  // random() near 1 takes off the whole jitter fraction: half the delay.
  assert.deepEqual([1, 2, 7].map((a) => retryDelay(policy, a, () => 0.999999)), [250, 500, 15000])
  assert.equal(retryDelay(policy, 3, () => 0.5), 1500)
  assert.equal(retryDelay({ ...policy, jitter: { kind: 'down', share: 0 } }, 3, () => 0.9), 2000, 'no jitter: randomness ignored')
  // Garbage from the random source cannot make a negative or longer delay.
  assert.equal(retryDelay(policy, 1, () => Number.NaN), 500)
  assert.equal(retryDelay(policy, 1, () => 7), 250)
})

test('backoff: a Retry-After lengthens the wait, never shortens it, and is capped', () => {
  const none = (): number => 0
  assert.equal(retryDelay(policy, 1, none, 10_000), 10_000)
  assert.equal(retryDelay(policy, 6, none, 1_000), 16_000, 'shorter than our own backoff: ours')
  assert.equal(retryDelay(policy, 1, none, 3_600_000), 300_000, 'capped')
  assert.equal(retryDelay(policy, 8, none, 1_000), undefined, 'does not extend the attempts')
  const now = Date.parse('2025-01-01T00:00:00Z')
  assert.equal(parseRetryAfter('120', now), 120_000)
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000)
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now), 0, 'a date in the past: no wait')
  assert.equal(parseRetryAfter('soon', now), undefined)
  assert.equal(parseRetryAfter(null, now), undefined)
  assert.equal(DEFAULT_RETRY.maxAttempts > 1, true)
})

const fast: RetryPolicy = { initialMs: 1, base: 2, capMs: 5, jitter: { kind: 'down', share: 0 }, maxAttempts: 4, retryAfterCapMs: 10 }

/** A receiver that answers from a script, one result per call, and records what it got. */
function scripted (results: DeliveryResult[]): { got: string[], send: (item: string) => Promise<DeliveryResult>, release: () => void, hold: () => void } {
  const got: string[] = []
  let gate: Promise<void> | undefined
  let open: (() => void) | undefined
  return {
    got,
    send: async (item) => {
      if (gate !== undefined) await gate
      got.push(item)
      return results.shift() ?? { ok: true }
    },
    hold: () => { gate = new Promise((resolve) => { open = resolve }) },
    release: () => { gate = undefined; open?.() },
  }
}

test('delivery queue: retries a failure with backoff, keeps order, gives up after the attempts, does not retry a refusal', async () => {
  const fail = (error: string): DeliveryResult => ({ ok: false, retry: true, error })
  const receiver = scripted([fail('HTTP 503'), fail('ECONNREFUSED'), { ok: true }, { ok: false, retry: false, error: 'HTTP 400' }, fail('a'), fail('b'), fail('c'), fail('d')])
  const queue = new DeliveryQueue<string>({ capacity: 10, send: receiver.send, policy: fast, logger: quiet, describe: (s) => s, random: () => 0 })
  assert.equal(queue.push('firing A'), true)
  assert.equal(queue.push('refused B'), true)
  assert.equal(queue.push('doomed C'), true)
  await queue.idle()
  assert.deepEqual(receiver.got, ['firing A', 'firing A', 'firing A', 'refused B', 'doomed C', 'doomed C', 'doomed C', 'doomed C'])
  assert.deepEqual(queue.stats(), { sent: 1, failed: 2, dropped: 0, retries: 5, queued: 0 })
})

test('delivery queue: push never waits; when full it drops the oldest waiting item and counts it', async () => {
  const receiver = scripted([])
  receiver.hold() // the receiver hangs
  const queue = new DeliveryQueue<string>({ capacity: 3, send: receiver.send, policy: fast, logger: quiet, describe: (s) => s })
  const started = performance.now()
  const accepted = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'].map((n) => queue.push(n))
  assert.ok(performance.now() - started < 50, 'pushing into a stuck receiver returns at once')
  // n1 is in flight (not counted against capacity); n2..n4 wait; n5 and n6 each push out the oldest waiting one.
  assert.deepEqual(accepted, [true, true, true, true, false, false])
  assert.deepEqual(queue.stats(), { sent: 0, failed: 0, dropped: 2, retries: 0, queued: 4 })
  receiver.release()
  await queue.idle()
  assert.deepEqual(receiver.got, ['n1', 'n4', 'n5', 'n6'])
  assert.equal(queue.stats().sent, 4)
})

test('delivery queue: stop gives pending items a deadline, then abandons them (counted as dropped)', async () => {
  const receiver = scripted([])
  receiver.hold()
  const queue = new DeliveryQueue<string>({ capacity: 10, send: async (item, signal) => {
    await Promise.race([receiver.send(item), new Promise((resolve) => { signal.addEventListener('abort', resolve, { once: true }) })])
    return signal.aborted ? { ok: false, retry: true, error: 'aborted' } : { ok: true }
  }, policy: fast, logger: quiet, describe: (s) => s })
  queue.push('a')
  queue.push('b')
  const started = performance.now()
  await queue.stop(50)
  const took = performance.now() - started
  assert.ok(took >= 45 && took < 2000, `stopped after the deadline (${took.toFixed(0)} ms)`)
  assert.deepEqual(queue.stats(), { sent: 0, failed: 0, dropped: 2, retries: 0, queued: 0 })
  assert.equal(queue.push('late'), false, 'a stopped queue takes nothing')
})

const record: AlertRecord = {
  id: 'NodeDown/node/12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc',
  name: 'NodeDown',
  severity: 'critical',
  labels: { alertname: 'NodeDown', severity: 'critical', peer_id: '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc', nickname: 'alpha' },
  summary: 'alpha (12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc) is down: disconnected 1m ago',
  description: 'A node has been down or stale for 1m0s.',
  subject: { kind: 'node', peerId: '12D3KooWLq2NkLP9uEAYQTVmEMYvQZPRBa9v2cf7WsHd4iPSyXrc', nickname: 'alpha' },
  state: 'firing',
  activeSince: Date.parse('2025-01-01T00:00:00Z'),
  firedAt: Date.parse('2025-01-01T00:01:00Z'),
  resolvedAt: undefined,
  silenced: false,
}

test('webhook body: says firing or resolved and names the node by nickname and peer id', () => {
  const at = Date.parse('2025-01-01T00:01:00.500Z')
  const body = webhookBody({ status: 'firing', alert: record, repeat: false, at }, { peerId: '12D3KooWAgg', url: 'http://agg:8080' })
  assert.equal(body.status, 'firing')
  assert.deepEqual(body.alert.node, { peerId: record.subject.kind === 'node' ? record.subject.peerId : '', nickname: 'alpha' })
  assert.equal(body.alert.startsAt, '2025-01-01T00:01:00.000Z')
  assert.equal(body.alert.endsAt, null)
  assert.equal(body.text, `[FIRING] NodeDown (critical): ${record.summary}`)
  assert.equal(body.sentAt, '2025-01-01T00:01:00.500Z')
  assert.deepEqual(body.aggregator, { peerId: '12D3KooWAgg', url: 'http://agg:8080' })
  const resolved = webhookBody({ status: 'resolved', alert: { ...record, state: 'resolved', resolvedAt: at + 60_000 }, repeat: false, at: at + 60_000 }, { peerId: 'p', url: 'u' })
  assert.equal(resolved.status, 'resolved')
  assert.equal(resolved.alert.endsAt, '2025-01-01T00:02:00.500Z')
  assert.match(resolved.text, /^\[RESOLVED\] NodeDown/)
})

test('alertmanager form: labels, annotations, startsAt, endsAt ahead while firing, the resolve time once resolved', () => {
  const now = Date.parse('2025-01-01T00:01:00Z')
  const firing = toAlertmanagerAlert(record, now, 60_000, 'http://agg:8080/')
  assert.deepEqual(firing, {
    labels: record.labels,
    annotations: { summary: record.summary, description: record.description },
    startsAt: '2025-01-01T00:01:00.000Z',
    endsAt: '2025-01-01T00:05:00.000Z',
    generatorURL: 'http://agg:8080/api/v1/alerts',
  })
  const resolved = toAlertmanagerAlert({ ...record, state: 'resolved', resolvedAt: now + 5_000 }, now + 6_000, 60_000, 'http://agg:8080')
  assert.equal(resolved.endsAt, '2025-01-01T00:01:05.000Z')
  assert.equal(alertmanagerEndpoint('http://am:9093'), 'http://am:9093/api/v2/alerts')
  assert.equal(alertmanagerEndpoint('http://proxy/am/'), 'http://proxy/am/api/v2/alerts')
  assert.equal(alertmanagerEndpoint('http://am:9093/api/v2/alerts'), 'http://am:9093/api/v2/alerts')
  assert.equal(redactUrl('https://hooks.slack.com/services/T000/B000/SECRET?x=1'), 'https://hooks.slack.com/…')
  assert.equal(redactUrl('http://am:9093'), 'http://am:9093')
})
