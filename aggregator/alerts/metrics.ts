import { Counter, Gauge, type Registry } from 'prom-client'
import { METRIC_PREFIX } from '../metrics/constants.ts'
import type { DeadmanStats } from './deadman.ts'
import type { AlertEngine } from './engine.ts'
import type { ReceiverStatus } from './receivers/status.ts'

/** The states an active alert is in (resolved alerts are not counted: they are over). */
const ACTIVE_STATES = ['pending', 'firing'] as const

/**
 * `heartbeat_alerts{rule, severity, state}`: the alerts of each rule that are
 * pending and firing now, read from the engine when Prometheus scrapes. Every
 * rule of the set has both series, zeros included, so a dashboard or a rule
 * sees "none" rather than "no data". Silenced alerts count too: they fire,
 * only their notices are held back.
 */
export function registerAlertMetrics (registry: Registry, engine: Pick<AlertEngine, 'ruleSet' | 'active'>, leading?: () => boolean): void {
  const gauge: Gauge = new Gauge({
    name: `${METRIC_PREFIX}alerts`,
    help: 'Alerts of each rule of the aggregator that are pending or firing now.',
    labelNames: ['rule', 'severity', 'state'],
    registers: [registry],
    collect: () => {
      gauge.reset()
      const counts = new Map<string, number>()
      for (const alert of engine.active()) {
        const key = `${alert.name}\u0000${alert.state}`
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
      for (const rule of engine.ruleSet) {
        for (const state of ACTIVE_STATES) gauge.set({ rule: rule.name, severity: rule.severity, state }, counts.get(`${rule.name}\u0000${state}`) ?? 0)
      }
    },
  })
  if (leading === undefined) return
  // One aggregator of a shared store evaluates and notifies: sum over aggregators is 1 (0 while nobody can reach the store).
  const leader: Gauge = new Gauge({
    name: `${METRIC_PREFIX}alerting_leader`,
    help: '1 while this aggregator evaluates the alert rules and sends the notifications (it holds the alerting lease).',
    registers: [registry],
    collect: () => { leader.set(leading() ? 1 : 0) },
  })
}

/** Delivery outcomes counted per receiver, as heartbeat_alert_notifications_total's `outcome`. */
const OUTCOMES = [['sent', 'sent'], ['failed', 'failed'], ['dropped', 'dropped'], ['retried', 'retries']] as const

/**
 * What the receivers delivered, read from their counters when Prometheus
 * scrapes (never counted on the delivery path):
 * `heartbeat_alert_notifications_total{receiver, kind, outcome}` (sent;
 * failed: given up or refused; dropped: the queue was full or the
 * aggregator stopped; retried: attempts that failed and were tried again),
 * `heartbeat_alert_receiver_queued{receiver, kind}` and
 * `heartbeat_alert_receiver_failing{receiver, kind}` (1 while its last
 * delivery failed). An alert on `failing == 1` tells someone that alerts are
 * not getting through.
 */
export function registerReceiverMetrics (registry: Registry, receivers: () => readonly ReceiverStatus[]): void {
  const notifications: Counter = new Counter({
    name: `${METRIC_PREFIX}alert_notifications_total`,
    help: 'Notifications each alert receiver delivered (sent), gave up on or was refused (failed), dropped, or retried.',
    labelNames: ['receiver', 'kind', 'outcome'],
    registers: [registry],
    collect: () => {
      notifications.reset()
      for (const r of receivers()) {
        for (const [outcome, field] of OUTCOMES) notifications.inc({ receiver: r.name, kind: r.kind, outcome }, r[field])
      }
    },
  })
  const queued: Gauge = new Gauge({
    name: `${METRIC_PREFIX}alert_receiver_queued`,
    help: 'Notifications waiting to be delivered, per alert receiver.',
    labelNames: ['receiver', 'kind'],
    registers: [registry],
    collect: () => {
      queued.reset()
      for (const r of receivers()) queued.set({ receiver: r.name, kind: r.kind }, r.queued)
    },
  })
  const failing: Gauge = new Gauge({
    name: `${METRIC_PREFIX}alert_receiver_failing`,
    help: '1 while the last delivery of an alert receiver failed (or is being retried), else 0.',
    labelNames: ['receiver', 'kind'],
    registers: [registry],
    collect: () => {
      failing.reset()
      for (const r of receivers()) failing.set({ receiver: r.name, kind: r.kind }, r.state === 'failing' ? 1 : 0)
    },
  })
}

/**
 * The dead man's switch (deadman.ts): `heartbeat_deadman_pings_total{signal,
 * outcome}` (signal success or fail; outcome ok or error) and
 * `heartbeat_deadman_last_ok_timestamp_seconds` (0 until one got through).
 */
export function registerDeadmanMetrics (registry: Registry, deadman: () => DeadmanStats): void {
  const pings: Counter = new Counter({
    name: `${METRIC_PREFIX}deadman_pings_total`,
    help: 'Pings sent to the --deadman-url, by signal (success, fail) and outcome (ok, error).',
    labelNames: ['signal', 'outcome'],
    registers: [registry],
    collect: () => {
      pings.reset()
      const s = deadman()
      for (const signal of ['success', 'fail'] as const) {
        pings.inc({ signal, outcome: 'ok' }, s.pings[signal].ok)
        pings.inc({ signal, outcome: 'error' }, s.pings[signal].error)
      }
    },
  })
  const lastOk: Gauge = new Gauge({
    name: `${METRIC_PREFIX}deadman_last_ok_timestamp_seconds`,
    help: 'When a ping last reached the --deadman-url (Unix seconds; 0: never).',
    registers: [registry],
    collect: () => { lastOk.set((deadman().lastOkAt ?? 0) / 1000) },
  })
}
