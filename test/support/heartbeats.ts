import type { Heartbeat } from '../../shared/heartbeat.ts'
import type { HealthStatus } from '../../shared/health.ts'
import { HEARTBEAT_VERSION } from '../../shared/protocol.ts'

/** A valid v2 heartbeat with overridable fields (unit tests of the fleet). */
export function heartbeat (overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    v: HEARTBEAT_VERSION,
    head: '{bafy-head-100}',
    height: 100,
    nickname: 'node-1',
    minerAddress: '',
    network: 'testnet',
    seq: 0,
    sentAt: 0,
    period: 1000,
    health: { status: 'ready', components: { chain_source: { status: 'ready' } } },
    agent: { version: 'test', startedAt: 0 },
    state: 'running',
    ...overrides,
  }
}

/** Health with one component in `status` (the app status follows it). */
export function healthWith (component: string, status: HealthStatus): Heartbeat['health'] {
  return { status, components: { [component]: { status } } }
}
