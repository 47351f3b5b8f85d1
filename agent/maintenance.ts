import type { AnnouncedMaintenance } from '../shared/heartbeat.ts'
import type { Logger } from '../shared/log.ts'
import { MAINTENANCE_SIGNAL } from './constants.ts'

/** A maintenance window from `now` (agent clock), as the heartbeats announce it. */
export function maintenanceFrom (now: number, forMs: number, reason: string): AnnouncedMaintenance {
  return reason === '' ? { until: now + forMs } : { until: now + forMs, reason }
}

export interface MaintenanceTarget {
  currentMaintenance (now: number): AnnouncedMaintenance | undefined
  setMaintenance (maintenance: AnnouncedMaintenance | undefined): void
}

/**
 * Toggles maintenance: on for `forMs` from now when off (or expired), off
 * when on. Returns the new state.
 */
export function toggleMaintenance (agent: MaintenanceTarget, now: number, forMs: number, reason: string): AnnouncedMaintenance | undefined {
  const next = agent.currentMaintenance(now) === undefined ? maintenanceFrom(now, forMs, reason) : undefined
  agent.setMaintenance(next)
  return next
}

/** SIGUSR1 toggles maintenance on a running agent (the operator's switch, no restart needed). */
export function onMaintenanceSignal (agent: MaintenanceTarget, options: { forMs: number, reason: string, logger: Logger, now?: () => number }): void {
  const now = options.now ?? Date.now
  process.on(MAINTENANCE_SIGNAL, () => {
    const state = toggleMaintenance(agent, now(), options.forMs, options.reason)
    if (state === undefined) options.logger.info({ signal: MAINTENANCE_SIGNAL }, 'maintenance off: alerts about this node flow again')
    else options.logger.info({ signal: MAINTENANCE_SIGNAL, until: new Date(state.until ?? 0).toISOString(), reason: state.reason }, 'maintenance on: alerts about this node are held back')
  })
}
