import type { ComponentHealth } from './health.ts'

export type LifecyclePhase = 'starting' | 'running' | 'draining' | 'stopped'

/**
 * Where the process is in its life, as a component: not ready while it
 * starts, ready while it runs, shutting down while it drains (readiness turns
 * DOWN first, so traffic stops before the listeners close), shut down after.
 * Phases only move forward.
 */
export class Lifecycle {
  private current: LifecyclePhase = 'starting'
  private changedAt: number

  constructor (now: number) {
    this.changedAt = now
  }

  get phase (): LifecyclePhase {
    return this.current
  }

  running (now: number): void { this.move('running', now) }
  draining (now: number): void { this.move('draining', now) }
  stopped (now: number): void { this.move('stopped', now) }

  health (): ComponentHealth {
    const since = new Date(this.changedAt).toISOString()
    switch (this.current) {
      case 'starting': return { status: 'not_ready', details: { phase: 'starting', since, error: 'starting' } }
      case 'running': return { status: 'ready', details: { phase: 'running', since } }
      case 'draining': return { status: 'shutting_down', details: { phase: 'draining', since, error: 'shutting down: draining before the listeners close' } }
      case 'stopped': return { status: 'shut_down', details: { phase: 'stopped', since, error: 'stopped' } }
    }
  }

  private move (phase: LifecyclePhase, now: number): void {
    if (ORDER[phase] <= ORDER[this.current]) return
    this.current = phase
    this.changedAt = now
  }
}

const ORDER: Record<LifecyclePhase, number> = { starting: 0, running: 1, draining: 2, stopped: 3 }
