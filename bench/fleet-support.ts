import { fetchJson, startAggregatorProcess as startAggregator, type RunningAggregator } from '../test/support/processes.ts'
import { Worker } from './workers/spawn.ts'

export const SWARM = new URL('./workers/swarm.ts', import.meta.url).pathname
/** Agents one swarm worker process simulates at most (each has its own libp2p identity). */
export const AGENTS_PER_WORKER = 1000

export interface SwarmAgentStats { peerId: string, beatsSent: number, connected: boolean }

/** Starts N simulated agents over enough worker processes; resolves when every one has sent a beat. */
export async function startSwarm (target: string, count: number, options: { beatPeriodMs: number, reconnectPeriodMs: number, prefix?: string }): Promise<Worker[]> {
  const workers: Worker[] = []
  for (let start = 0, w = 0; start < count; start += AGENTS_PER_WORKER, w++) {
    const n = Math.min(AGENTS_PER_WORKER, count - start)
    workers.push(new Worker(SWARM, { target, count: n, beatPeriodMs: options.beatPeriodMs, reconnectPeriodMs: options.reconnectPeriodMs, prefix: `${options.prefix ?? 'sim'}-w${w}` }))
  }
  await Promise.all(workers.map(async (worker) => await worker.waitFor('READY', 600_000)))
  return workers
}

export async function swarmStats (workers: Worker[]): Promise<{ rssMiB: number, agents: SwarmAgentStats[] }> {
  const all = await Promise.all(workers.map(async (worker) => {
    worker.send('STATS')
    return JSON.parse((await worker.waitFor('STATS')).slice('STATS '.length)) as { rssMiB: number, agents: SwarmAgentStats[] }
  }))
  return { rssMiB: all.reduce((s, x) => s + x.rssMiB, 0), agents: all.flatMap((x) => x.agents) }
}

export async function stopSwarm (workers: Worker[]): Promise<void> {
  for (const worker of workers) worker.send('EXIT')
  await Promise.all(workers.map(async (worker) => {
    const timer = setTimeout(() => { worker.kill() }, 10_000)
    await worker.exited
    clearTimeout(timer)
  }))
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
