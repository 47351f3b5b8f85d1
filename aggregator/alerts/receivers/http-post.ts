import { type Clock, systemClock } from '../../../shared/clock.ts'
import { errorMessage } from '../../../shared/errors.ts'
import { PRODUCT_VERSION } from '../../../shared/version.ts'
import { parseRetryAfter } from './retry.ts'
import type { DeliveryResult } from './delivery-queue.ts'

/**
 * POSTs JSON and classifies the answer: 2xx delivered; 408, 425, 429 and
 * 5xx, network errors and timeouts worth a retry; any other status refused
 * for good. The answer's body is read and discarded so the connection is
 * reused.
 */
export async function postJson (url: string, body: unknown, options: { signal: AbortSignal, timeoutMs: number, headers?: Record<string, string>, clock?: Clock | undefined }): Promise<DeliveryResult> {
  const clock = options.clock ?? systemClock
  // The attempt's deadline runs on the injected clock, like the retries around it.
  const deadline = new AbortController()
  const timer = clock.timeout(options.timeoutMs, () => { deadline.abort(new DOMException(`no answer within ${options.timeoutMs} ms`, 'TimeoutError')) })
  const signal = AbortSignal.any([options.signal, deadline.signal])
  try {
    return await post(url, body, options, signal, clock)
  } finally {
    timer.cancel()
  }
}

async function post (url: string, body: unknown, options: { timeoutMs: number, headers?: Record<string, string> }, signal: AbortSignal, clock: Clock): Promise<DeliveryResult> {
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': `fil-heartbeat-aggregator/${PRODUCT_VERSION}`, ...options.headers },
      body: JSON.stringify(body),
      signal,
      redirect: 'error',
    })
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : describeFetchError(err)
    return { ok: false, retry: true, error: reason }
  }
  const text = await res.text().catch(() => '')
  if (res.ok) return { ok: true }
  const error = `HTTP ${res.status}${text !== '' ? `: ${text.slice(0, 200)}` : ''}`
  if (res.status >= 500 || res.status === 408 || res.status === 425 || res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), clock.wall())
    return retryAfterMs === undefined ? { ok: false, retry: true, error } : { ok: false, retry: true, error, retryAfterMs }
  }
  return { ok: false, retry: false, error }
}

/** fetch hides the cause (ECONNREFUSED...) one level down. */
function describeFetchError (err: unknown): string {
  const cause = (err as { cause?: unknown }).cause
  const code = (cause as { code?: string } | undefined)?.code
  return code !== undefined ? `${errorMessage(err)} (${code})` : cause !== undefined ? `${errorMessage(err)} (${errorMessage(cause)})` : errorMessage(err)
}
