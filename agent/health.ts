import type { ComponentHealth } from '../shared/health.ts'
import { HealthRegistry } from '../shared/health-registry.ts'
import type { Lifecycle } from '../shared/lifecycle.ts'
import type { Agent } from './agent.ts'
import { LIVENESS_POLL_STALL_FLOOR_MS, LIVENESS_POLL_STALL_ROUNDS } from './constants.ts'
import type { HeartbeatServiceStatus } from './service.ts'

const iso = (ms: number | undefined): string | null => ms === undefined ? null : new Date(ms).toISOString()

/**
 * One heartbeat service as a component: ready while its stream is open. When
 * it is not, it is `affected` if another service still delivers (the agent
 * does its job), `not_ready` if none does.
 */
export function serviceHealth (status: HeartbeatServiceStatus, anyConnected: boolean): ComponentHealth {
  const details: Record<string, unknown> = {
    target: status.target,
    connected: status.connected,
    beatsSent: status.beatsSent,
    connectFailures: status.connectFailures,
    lastSentAt: iso(status.lastSentAt),
  }
  if (status.connected) return { status: 'ready', details }
  details.failingSince = iso(status.failingSince)
  details.error = status.failingSince === undefined ? 'not connected to the target yet' : 'cannot reach the target'
  return { status: anyConnected ? 'affected' : 'not_ready', details }
}

/** Readiness of a sidecar agent: connected to at least one target. */
export function targetsHealth (statuses: readonly HeartbeatServiceStatus[]): ComponentHealth {
  const connected = statuses.filter((s) => s.connected).map((s) => s.target)
  const details = { connected, targets: statuses.length }
  if (connected.length > 0) return { status: 'ready', details }
  return { status: 'not_ready', details: { ...details, error: 'not connected to any target' } }
}

export interface PollActivity {
  /** Monotonic time of the last finished poll; undefined before the first. */
  lastPollAt: number | undefined
  /** The same moment on the wall clock, for display. */
  lastPollWall?: number | undefined
  periodMs: number
  sourceTimeoutMs: number
}

/** How long the poll loop may go without finishing a poll before liveness fails. */
export function pollStallMs (activity: PollActivity): number {
  return Math.max(LIVENESS_POLL_STALL_FLOOR_MS, LIVENESS_POLL_STALL_ROUNDS * (activity.periodMs + activity.sourceTimeoutMs))
}

/**
 * Liveness of the agent's own loops: the chain poll loop finishes a poll
 * every period (a poll is bounded by the source timeout even when the node
 * hangs), so a loop that has not polled for several rounds is stuck. Before
 * the first poll the agent is starting, which is alive. Never about targets
 * or the node: a restart would not fix those.
 */
export function pollLoopHealth (activity: PollActivity, startedAt: number, now: number): ComponentHealth {
  // startedAt and now are monotonic, as lastPollAt: a step of the wall clock is not a stuck loop.
  const stallMs = pollStallMs(activity)
  const since = activity.lastPollAt ?? startedAt
  const idleMs = Math.round(Math.max(0, now - since))
  const details = { lastPollAt: iso(activity.lastPollWall), idleMs, stallMs }
  if (idleMs > stallMs) return { status: 'panicked', details: { ...details, error: `the chain poll loop has not polled for ${Math.round(idleMs / 1000)}s` } }
  return { status: 'ready', details }
}

/** The agent's health registry: components for /health, checks for the probes. */
export function createAgentHealth (agent: Agent, lifecycle: Lifecycle): HealthRegistry {
  const registry = new HealthRegistry()
  registry.register('ping', () => ({ status: 'ready' }), ['liveness'])
  registry.register('chain_poll_loop', () => {
    const activity = agent.pollActivity()
    return pollLoopHealth(activity, activity.startedAt, activity.now)
  }, ['liveness'])
  registry.register('lifecycle', () => lifecycle.health(), ['health', 'readiness'])
  registry.register('targets', () => targetsHealth(agent.status()), ['readiness'])
  registry.register('chain_source', () => agent.chain().component, ['health'])
  agent.services.forEach((service, i) => {
    const name = `heartbeat_${service.status().name}`.toLowerCase().replace(/[^a-z0-9_.-]/g, '_')
    registry.register(name, () => {
      const all = agent.status()
      const own = all[i] ?? service.status()
      return serviceHealth(own, all.some((s) => s.connected))
    }, ['health'])
  })
  return registry
}
