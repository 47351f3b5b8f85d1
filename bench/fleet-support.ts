import { fetchJson, startAggregatorProcess as startAggregator, type RunningAggregator } from '../test/support/processes.ts'
import { SwarmWorker } from '../test/support/swarm-worker.ts'

/** Agents one swarm worker process simulates at most. */
export const AGENTS_PER_WORKER = 1000

/** Starts N simulated agents over enough worker processes; resolves when every one has sent a beat. */
export async function startSwarm (target: string, count: number, options: { beatPeriodMs: number, reconnectPeriodMs: number, originMs?: number }): Promise<SwarmWorker[]> {
  const workers: SwarmWorker[] = []
  for (let start = 0; start < count; start += AGENTS_PER_WORKER) {
    workers.push(new SwarmWorker(workers.length, Math.min(AGENTS_PER_WORKER, count - start), target, { ...options, reportMs: 1000 }))
  }
  await Promise.all(workers.map(async (worker) => { await worker.ready }))
  return workers
}

/** Every simulated agent's peer id, and the workers' resident memory together. */
export function swarmStats (workers: SwarmWorker[]): { rssMiB: number, peerIds: string[] } {
  return {
    rssMiB: workers.reduce((sum, w) => sum + (w.last?.rssBytes ?? 0), 0) / 2 ** 20,
    peerIds: workers.flatMap((w) => w.peerIds),
  }
}

export async function stopSwarm (workers: SwarmWorker[]): Promise<void> {
  await Promise.all(workers.map(async (worker) => { await worker.stop() }))
}

export async function fleet (aggregator: RunningAggregator): Promise<any> {
  return await fetchJson(`${aggregator.url}/api/v1/fleet`)
}

/**
 * The aggregator for swarm benchmarks: every simulated agent dials from
 * 127.0.0.1, so the per-IP connection bound (docs/security.md) is lifted.
 */
export async function startAggregatorProcess (options: Parameters<typeof startAggregator>[0] = {}): Promise<RunningAggregator> {
  return await startAggregator({ ...options, args: ['--max-connections-per-ip', '1000000', ...(options.args ?? [])] })
}
