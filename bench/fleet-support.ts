import { LINK_PING_INTERVAL_MS } from '../agent/constants.ts'
import { parsePositiveDuration } from '../shared/duration.ts'
import { ErrorCodes, UsageError } from '../shared/errors.ts'
import { fetchJson, startAggregatorProcess as startAggregator, type RunningAggregator } from '../test/support/processes.ts'
import { SwarmWorker, type SwarmOptions } from '../test/support/swarm-worker.ts'

/**
 * Lean agents one swarm worker process simulates at most. Measured on the
 * 2-core machine (docs/BENCHMARKS.md §2): a lean agent costs the worker about
 * 25 KiB and a few µs of CPU per beat, so a worker's event loop, not its
 * memory, is the bound; 2,000 keeps one worker's beats within its tick.
 */
export const AGENTS_PER_WORKER = 2000
/** Full js-libp2p agents (SWARM_KIND=agent) per worker: each is a whole node. */
export const FULL_AGENTS_PER_WORKER = 1000

export type SwarmStartOptions = SwarmOptions & {
  /** Agents per worker process (default AGENTS_PER_WORKER, or FULL_AGENTS_PER_WORKER for full agents). */
  perWorker?: number
  /** Not every agent beating by then: the workers are stopped and startSwarm throws with their last status. */
  readyTimeoutMs?: number
  /** Told every PROGRESS_EVERY_MS during the ramp: agents connected so far over all workers. */
  onProgress?: (connected: number, workers: SwarmWorker[]) => void
}

/** A ramp slower than this per agent (plus RAMP_BUDGET_BASE_MS) has failed. */
export const RAMP_BUDGET_PER_AGENT_MS = 30
/** What a ramp of any size may take before its per-agent budget: worker start-up and key generation. */
export const RAMP_BUDGET_BASE_MS = 60_000

/** How long a ramp of `n` agents may take before it counts as failed (startSwarm's readyTimeoutMs). */
export function rampBudgetMs (n: number): number {
  return RAMP_BUDGET_BASE_MS + n * RAMP_BUDGET_PER_AGENT_MS
}

/** A benchmark's positive whole-number flag, or `fallback` when it is not given; anything else is a UsageError. */
export function wholeNumberFlag (raw: string | undefined, fallback: number, flag: string): number {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `${flag}: "${raw}" is not a positive whole number`)
  return n
}

/** How often a ramp reports its progress. */
const PROGRESS_EVERY_MS = 10_000

/** Starts N simulated agents over enough worker processes; resolves when every one has sent a beat. */
export async function startSwarm (target: string, count: number, options: SwarmStartOptions): Promise<SwarmWorker[]> {
  const perWorker = options.perWorker ?? (options.kind === 'agent' ? FULL_AGENTS_PER_WORKER : AGENTS_PER_WORKER)
  const workers: SwarmWorker[] = []
  const originMs = options.originMs ?? Date.now()
  for (let start = 0; start < count; start += perWorker) {
    workers.push(new SwarmWorker(workers.length, Math.min(perWorker, count - start), target, { reportMs: 1000, ...options, originMs }))
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    if (options.readyTimeoutMs === undefined) return
    timer = setTimeout(() => {
      reject(new Error(`not every agent was beating after ${options.readyTimeoutMs} ms; workers: ${workers.map((w) => JSON.stringify(w.last)).join(' ')}`))
    }, options.readyTimeoutMs)
  })
  const progress = options.onProgress === undefined
    ? undefined
    : setInterval(() => { options.onProgress!(swarmStats(workers).connected, workers) }, PROGRESS_EVERY_MS)
  try {
    await Promise.race([Promise.all(workers.map(async (worker) => { await worker.ready })), timeout])
    clearTimeout(timer)
    clearInterval(progress)
  } catch (err) {
    clearTimeout(timer)
    clearInterval(progress)
    await stopSwarm(workers)
    throw err
  }
  return workers
}

/** Every simulated agent's peer id, and the workers' resident memory and CPU time together. */
export function swarmStats (workers: SwarmWorker[]): { rssMiB: number, cpuSeconds: number, connected: number, peerIds: string[] } {
  return {
    rssMiB: workers.reduce((sum, w) => sum + (w.last?.rssBytes ?? 0), 0) / 2 ** 20,
    cpuSeconds: workers.reduce((sum, w) => sum + (w.last?.cpuSeconds ?? 0), 0),
    connected: workers.reduce((sum, w) => sum + (w.last?.connected ?? 0), 0),
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
 * 127.0.0.1, so the per-IP bounds (docs/security.md) are lifted; a real fleet
 * comes from as many addresses as it has nodes.
 */
export async function startAggregatorProcess (options: Parameters<typeof startAggregator>[0] = {}): Promise<RunningAggregator> {
  return await startAggregator({ ...options, args: ['--max-connections-per-ip', '1000000', '--host-connection-rate', '1000000', ...(options.args ?? [])] })
}

/**
 * `--link-ping`: how often each lean agent sends a yamux PING and waits for
 * its answer, as the real agent's link watcher does (agent/link-watch.ts,
 * every LINK_PING_INTERVAL_MS); `0` (or `off`): no pings.
 */
export function linkPingMs (raw: string | undefined): number {
  if (raw === undefined) return LINK_PING_INTERVAL_MS
  if (raw === '0' || raw === 'off') return 0
  return parsePositiveDuration(raw, '--link-ping')
}
