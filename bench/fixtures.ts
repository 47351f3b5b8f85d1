import type { Heartbeat } from '../shared/heartbeat.ts'

/** A realistic Filecoin heartbeat: a two-block tipset key, a miner, two components. */
export function benchHeartbeat (seq: number, startedAt: number, overrides: Partial<Heartbeat> = {}): Heartbeat {
  return {
    v: 2,
    head: '{bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2, bafy2bzaceb7ygxrcd6bqsmtehhd2kihvyqf3eqlqupd3v5yxbgqhdmcfgi3ki}',
    height: 4_200_000 + seq,
    nickname: 'lotus-bench-01',
    minerAddress: 'f01234',
    network: 'bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2',
    seq,
    sentAt: startedAt + seq,
    period: 1000,
    health: {
      status: 'ready',
      components: {
        chain_source: { status: 'ready', details: { source: 'lotus', height: 4_200_000 + seq, latencyMs: 3 } },
        sync: { status: 'ready' },
      },
    },
    agent: { version: '0.1.0', startedAt },
    state: 'running',
    ...overrides,
  }
}
