import type { Clock } from '../../../shared/clock.ts'
import { ErrorCodes, HeartbeatError } from '../../../shared/errors.ts'
import { TEST_DEADLINE_MS } from '../constants.ts'
import type { DeliveryState } from './delivery-queue.ts'
import type { AlertReceiver, ReceiverStats } from './receiver.ts'
import type { RoutingState } from './routed.ts'

/** One receiver as GET /api/v1/alerts shows it. Times are ISO 8601. */
export interface ReceiverStatus extends ReceiverStats {
  name: string
  kind: string
  /** Where it sends, without its secrets. */
  target: string
  /** ok: the last delivery got through (or none was needed); failing: the last one failed or is being retried. */
  state: 'ok' | 'failing'
  lastError: string | null
  lastErrorAt: string | null
  lastDeliveredAt: string | null
  route: RoutingState['route']
  quietHours: RoutingState['quietHours']
  quietNow: boolean
  /** Held until quiet hours end. */
  held: number
}

const iso = (ms: number | null | undefined): string | null => ms === null || ms === undefined ? null : new Date(ms).toISOString()

export function receiverStatus (r: AlertReceiver): ReceiverStatus {
  const d: DeliveryState | undefined = r.delivery?.()
  const routing = (r as { routing?: () => RoutingState }).routing?.()
  return {
    name: r.name ?? r.kind,
    kind: r.kind,
    target: r.target,
    ...r.stats(),
    state: d?.failing === true ? 'failing' : 'ok',
    lastError: d?.lastError ?? null,
    lastErrorAt: iso(d?.lastErrorAt),
    lastDeliveredAt: iso(d?.lastDeliveredAt),
    route: routing?.route ?? null,
    quietHours: routing?.quietHours ?? null,
    quietNow: routing?.quietNow ?? false,
    held: routing?.held ?? 0,
  }
}

/** What one receiver answered to a test message. */
export interface ReceiverTestResult {
  name: string
  kind: string
  target: string
  delivered: boolean
  attempts: number
  /** The service's status code (HTTP, or the SMTP reply code), when it answered. */
  status: number | null
  /** What the service said ("ok, message_id 12", "success, Event processed", "250 2.0.0 queued"). */
  answer: string | null
  /** Why it was not delivered. */
  error: string | null
  ms: number
}

/**
 * Sends one test message to each receiver (or those named), all at once,
 * within a deadline, and collects what each answered. The log receiver is
 * left out unless named: it cannot fail.
 */
export async function receiversTest (receivers: readonly AlertReceiver[], options: { names?: readonly string[] | undefined, note?: string | undefined, at: number, clock: Clock, signal: AbortSignal }): Promise<ReceiverTestResult[]> {
  const names = options.names
  if (names !== undefined) {
    const known = new Set(receivers.map((r) => r.name ?? r.kind))
    const unknown = names.filter((n) => !known.has(n))
    if (unknown.length > 0) throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `no alert receiver named ${unknown.map((n) => `"${n}"`).join(', ')} (receivers: ${[...known].join(', ')})`)
  }
  const chosen = receivers.filter((r) => names === undefined ? r.kind !== 'log' : names.includes(r.name ?? r.kind))
  const deadline = new AbortController()
  const timer = options.clock.timeout(TEST_DEADLINE_MS, () => { deadline.abort() })
  const signal = AbortSignal.any([options.signal, deadline.signal])
  try {
    return await Promise.all(chosen.map(async (r): Promise<ReceiverTestResult> => {
      const started = options.clock.monotonic()
      const base = { name: r.name ?? r.kind, kind: r.kind, target: r.target }
      if (r.test === undefined) return { ...base, delivered: true, attempts: 0, status: null, answer: 'logged', error: null, ms: 0 }
      try {
        const outcome = await r.test({ at: options.at, signal, note: options.note })
        const last = outcome.last
        return {
          ...base,
          delivered: outcome.delivered,
          attempts: outcome.attempts,
          status: last.status ?? null,
          answer: last.answer ?? null,
          error: last.ok ? null : (signal.aborted && deadline.signal.aborted ? `no delivery within ${TEST_DEADLINE_MS} ms (${last.error})` : last.error),
          ms: Math.round(options.clock.monotonic() - started),
        }
      } catch (err) {
        return { ...base, delivered: false, attempts: 0, status: null, answer: null, error: (err as Error).message, ms: Math.round(options.clock.monotonic() - started) }
      }
    }))
  } finally {
    timer.cancel()
  }
}
