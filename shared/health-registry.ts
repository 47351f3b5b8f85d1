import { aggregateHealth, type AppHealth, type ComponentHealth } from './health.ts'

/**
 * A health indicator reports one component's health when asked (pull based,
 * as Layotto's Indicator.Report and zkSync's components do): it reads the
 * state its component already keeps, so asking is cheap and never blocks.
 */
export type HealthIndicator = () => ComponentHealth

/**
 * Which answers a check takes part in:
 * - `health`: the app health of `GET /health` (zkSync: every component);
 * - `readiness`: whether the process can take work now (readyz, actuator readiness);
 * - `liveness`: whether the process can serve at all (livez, actuator liveness).
 *   Liveness checks must never depend on dependencies or the fleet.
 */
export type Probe = 'health' | 'readiness' | 'liveness'

export interface RegisteredCheck {
  name: string
  probes: ReadonlySet<Probe>
  indicator: HealthIndicator
}

/** The result of one check, for the Kubernetes text format and the logs. */
export interface CheckResult {
  name: string
  health: ComponentHealth
}

const CHECK_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/

/**
 * The small registry behind every probe endpoint. Adding a component is one
 * line: `registry.register('store', () => store.health(), ['health', 'readiness'])`.
 * Checks answer in registration order (Kubernetes lists them that way).
 */
export class HealthRegistry {
  private readonly checks = new Map<string, RegisteredCheck>()

  /** Registers a check; returns a function that removes it again. */
  register (name: string, indicator: HealthIndicator, probes: readonly Probe[] = ['health']): () => void {
    if (!CHECK_NAME.test(name)) throw new TypeError(`invalid health check name "${name}": lower case letters, digits, _ . - (at most 63)`)
    if (this.checks.has(name)) throw new TypeError(`health check "${name}" is already registered`)
    this.checks.set(name, { name, indicator, probes: new Set(probes) })
    return () => { this.checks.delete(name) }
  }

  names (probe: Probe): string[] {
    return [...this.checks.values()].filter((c) => c.probes.has(probe)).map((c) => c.name)
  }

  /** Runs the checks of one probe. An indicator that throws reports `panicked` with the error. */
  run (probe: Probe): CheckResult[] {
    const results: CheckResult[] = []
    for (const check of this.checks.values()) {
      if (check.probes.has(probe)) results.push({ name: check.name, health: evaluate(check.indicator) })
    }
    return results
  }

  /** Runs one check by name, whatever its probes; undefined when there is none. */
  runOne (name: string): CheckResult | undefined {
    const check = this.checks.get(name)
    return check === undefined ? undefined : { name, health: evaluate(check.indicator) }
  }

  /** The zkSync answer for one probe: worst component wins. */
  health (probe: Probe = 'health'): AppHealth {
    return toAppHealth(this.run(probe))
  }
}

export function toAppHealth (results: readonly CheckResult[]): AppHealth {
  const components: Record<string, ComponentHealth> = {}
  for (const r of results) components[r.name] = r.health
  return aggregateHealth(components)
}

function evaluate (indicator: HealthIndicator): ComponentHealth {
  try {
    return indicator()
  } catch (err) {
    return { status: 'panicked', details: { error: err instanceof Error ? err.message : String(err) } }
  }
}
