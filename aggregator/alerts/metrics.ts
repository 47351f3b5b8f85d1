import { Gauge, type Registry } from 'prom-client'
import { METRIC_PREFIX } from '../metrics/constants.ts'
import type { AlertEngine } from './engine.ts'

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
