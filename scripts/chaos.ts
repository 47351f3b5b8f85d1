// npm start -- --chaos: what happens to the demo agents, and when. Pure: the
// schedule comes from a random source (seeded for tests), local-fleet.ts runs it.

/** One way to make a node fail, and the status the page then shows. */
export const FAULTS = ['pause', 'kill', 'stop', 'unhealthy', 'degraded'] as const
export type Fault = typeof FAULTS[number]

/** The status each fault shows on the page while it holds. */
export const FAULT_SHOWS: Record<Fault, string> = {
  pause: 'stale',
  kill: 'down',
  stop: 'stopped',
  unhealthy: 'unhealthy',
  degraded: 'degraded',
}

export interface ChaosStep {
  /** Ms from the start of the chaos. */
  at: number
  fault: Fault
  agent: string
  /** Inject the fault, or undo it. */
  phase: 'inject' | 'undo'
}

export interface ChaosOptions {
  agents: readonly string[]
  /** A fault every this often (the first at `everyMs`). */
  everyMs: number
  /** Each fault is undone this long after it is injected (less than everyMs: one fault at a time). */
  holdMs: number
  random: () => number
}

/** The hold a fault gets by default: long enough to see its status, short of the next fault. */
export const CHAOS_HOLD_SHARE = 0.75

/**
 * The schedule, as an endless sequence: one fault at a time, each undone
 * before the next, every fault once per round of FAULTS.length (in a random
 * order), each on a randomly chosen agent. So within one round every status
 * but healthy is shown once, and healthy between them.
 */
export function * chaosPlan (options: ChaosOptions): Generator<ChaosStep> {
  if (options.agents.length === 0) return
  if (!(options.holdMs > 0 && options.holdMs < options.everyMs)) throw new RangeError('chaos needs 0 < holdMs < everyMs')
  let at = options.everyMs
  while (true) {
    for (const fault of shuffled(FAULTS, options.random)) {
      const agent = options.agents[Math.floor(options.random() * options.agents.length)] as string
      yield { at, fault, agent, phase: 'inject' }
      yield { at: at + options.holdMs, fault, agent, phase: 'undo' }
      at += options.everyMs
    }
  }
}

function shuffled<T> (items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const swap = out[i] as T
    out[i] = out[j] as T
    out[j] = swap
  }
  return out
}
