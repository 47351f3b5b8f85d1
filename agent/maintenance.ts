import type { AnnouncedMaintenance } from '../shared/heartbeat.ts'
import type { Logger } from '../shared/log.ts'
import { MAINTENANCE_SIGNAL } from './constants.ts'

/** What can be put in maintenance: the agent, which keeps the window on its monotonic clock. */
export interface MaintenanceTarget {
  /** What the beats announce now (undefined when not in maintenance, or once the window ended). */
  currentMaintenance (): AnnouncedMaintenance | undefined
  /** On for `forMs` from now; returns what the beats announce. */
  startMaintenance (forMs: number, reason: string): AnnouncedMaintenance
  /** Off (undefined), or as announced. */
  setMaintenance (maintenance: AnnouncedMaintenance | undefined): void
}

/**
 * Toggles maintenance: on for `forMs` from now when off (or expired), off
 * when on. Returns the new state.
 */
export function toggleMaintenance (agent: MaintenanceTarget, forMs: number, reason: string): AnnouncedMaintenance | undefined {
  if (agent.currentMaintenance() === undefined) return agent.startMaintenance(forMs, reason)
  agent.setMaintenance(undefined)
  return undefined
}

/** SIGUSR1 toggles maintenance on a running agent (the operator's switch, no restart needed). */
export function onMaintenanceSignal (agent: MaintenanceTarget, options: { forMs: number, reason: string, logger: Logger }): void {
  process.on(MAINTENANCE_SIGNAL, () => {
    const state = toggleMaintenance(agent, options.forMs, options.reason)
    if (state === undefined) options.logger.info({ signal: MAINTENANCE_SIGNAL }, 'maintenance off: alerts about this node flow again')
    else options.logger.info({ signal: MAINTENANCE_SIGNAL, until: new Date(state.until ?? 0).toISOString(), reason: state.reason }, 'maintenance on: alerts about this node are held back')
  })
}
