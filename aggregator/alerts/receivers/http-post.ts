import { type Clock, systemClock } from '../../../shared/clock.ts'
import { errorMessage } from '../../../shared/errors.ts'
import { PRODUCT_VERSION } from '../../../shared/version.ts'
import { parseRetryAfter } from './retry.ts'
import type { DeliveryResult } from './delivery-queue.ts'
import { redactUrl } from './url.ts'

/** What a service answered: status, headers, and the body (read whole, bounded). */
export interface HttpAnswer {
  status: number
  headers: Headers
  text: string
}

export interface HttpSendOptions {
  signal: AbortSignal
  timeoutMs: number
  /** The attempt's deadline; the system clock when absent. */
  clock?: Clock | undefined
}

export interface HttpRequest {
  url: string
  method?: 'POST' | 'PUT' | 'GET'
  /** JSON-encoded unless a string (then sent as text/plain unless headers say otherwise). */
  body?: unknown
  headers?: Record<string, string> | undefined
}

/** An answer's body is kept up to this (a service's error text; anything longer is someone else's page). */
const MAX_ANSWER_CHARS = 2_000

/**
 * One HTTP request with a deadline on the injected clock. Network errors and
 * timeouts come back as `{ error }` (never thrown), with the cause fetch
 * hides one level down (ECONNREFUSED...). Redirects are refused: a receiver
 * URL that redirects is misconfigured, and following it could hand a
 * credential to another host.
 */
export async function sendHttp (request: HttpRequest, options: HttpSendOptions): Promise<HttpAnswer | { error: string }> {
  const clock = options.clock ?? systemClock
  const deadline = new AbortController()
  const timer = clock.timeout(options.timeoutMs, () => { deadline.abort(new DOMException(`no answer within ${options.timeoutMs} ms`, 'TimeoutError')) })
  const signal = AbortSignal.any([options.signal, deadline.signal])
  const isText = typeof request.body === 'string'
  try {
    const res = await fetch(request.url, {
      method: request.method ?? 'POST',
      headers: {
        ...(request.body !== undefined ? { 'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json' } : {}),
        'user-agent': `fil-heartbeat-aggregator/${PRODUCT_VERSION}`,
        ...request.headers,
      },
      body: request.body === undefined ? undefined : isText ? request.body as string : JSON.stringify(request.body),
      signal,
      redirect: 'error',
    })
    const text = await res.text().catch(() => '')
    return { status: res.status, headers: res.headers, text: text.length > MAX_ANSWER_CHARS ? text.slice(0, MAX_ANSWER_CHARS) : text }
  } catch (err) {
    const reason = deadline.signal.aborted ? `no answer within ${options.timeoutMs} ms` : describeFetchError(err)
    // fetch names a URL it cannot parse in its error; a receiver's URL may hold its credential.
    return { error: reason.split(request.url).join(redactUrl(request.url)) }
  } finally {
    timer.cancel()
  }
}

/**
 * The usual reading of an HTTP answer: 2xx delivered; 408, 425, 429 and 5xx
 * worth a retry (after the service's Retry-After, or `retryAfterMs` when
 * the service says it in its body); any other status refused for good.
 */
export function classifyAnswer (answer: HttpAnswer, now: number, retryAfterMs?: number): DeliveryResult {
  const status = answer.status
  const text = answer.text.trim()
  if (status >= 200 && status < 300) return { ok: true, status, answer: text }
  const error = `HTTP ${status}${text !== '' ? `: ${text.slice(0, 200)}` : ''}`
  if (status >= 500 || status === 408 || status === 425 || status === 429) {
    const wait = retryAfterMs ?? parseRetryAfter(answer.headers.get('retry-after'), now)
    return wait === undefined ? { ok: false, retry: true, error, status } : { ok: false, retry: true, error, status, retryAfterMs: wait }
  }
  return { ok: false, retry: false, error, status }
}

/**
 * A request, and its answer read by the service's own reader (the usual one
 * when absent); a request that got no answer is worth another try.
 */
export async function sendAndRead (request: HttpRequest, options: HttpSendOptions, read: (answer: HttpAnswer, now: number) => DeliveryResult = classifyAnswer): Promise<DeliveryResult> {
  const answer = await sendHttp(request, options)
  if ('error' in answer) return { ok: false, retry: true, error: answer.error }
  return read(answer, (options.clock ?? systemClock).wall())
}

/** POSTs JSON and classifies the answer (the webhook and Alertmanager receivers). */
export async function postJson (url: string, body: unknown, options: HttpSendOptions & { headers?: Record<string, string> | undefined }): Promise<DeliveryResult> {
  return await sendAndRead({ url, body, headers: options.headers }, options)
}

/** A JSON body, or undefined when it is not JSON (services answer HTML error pages too). */
export function jsonBody (answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown
  } catch {
    return undefined
  }
}

/** fetch hides the cause (ECONNREFUSED...) one level down. */
function describeFetchError (err: unknown): string {
  const cause = (err as { cause?: unknown }).cause
  const code = (cause as { code?: string } | undefined)?.code
  return code !== undefined ? `${errorMessage(err)} (${code})` : cause !== undefined ? `${errorMessage(err)} (${errorMessage(cause)})` : errorMessage(err)
}
