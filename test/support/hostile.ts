import type { Heartbeat } from '../../shared/heartbeat.ts'

/** A valid heartbeat with every field set (details included), for tests to mutate. */
export function sampleBeat (overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    v: 2,
    head: 'bafy2bzaceheadcid',
    height: 1234,
    nickname: 'lotus-1',
    minerAddress: 'f01234',
    network: 'bafy2bzacegenesis',
    seq: 7,
    sentAt: 1_700_000_000_000,
    period: 3000,
    health: { status: 'affected', components: { chain_source: { status: 'affected', details: { lagBlocks: 3, note: 'slow', nested: [1, 2.5, null, true] } } } },
    agent: { version: '0.1.0', startedAt: 1_700_000_000_000 },
    state: 'running',
    ...overrides,
  }
}
