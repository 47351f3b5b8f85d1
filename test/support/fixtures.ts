import type { Heartbeat } from '../../shared/heartbeat.ts'

/** A valid heartbeat; override what a test is about. */
export function sampleHeartbeat (overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    v: 2,
    head: '{bafy2bzacea}',
    height: 1234,
    nickname: 'node-1',
    minerAddress: 'f01234',
    network: 'bafy-genesis',
    seq: 7,
    sentAt: 1_700_000_000_000,
    period: 3000,
    health: { status: 'ready', components: { chain_source: { status: 'ready', details: { height: 1234 } } } },
    agent: { version: '0.1.0', startedAt: 1_699_999_000_000 },
    state: 'running',
    ...overrides,
  }
}
