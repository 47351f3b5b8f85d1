import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { reapOnExit } from './child-reaper.ts'
import { ROOT } from './processes.ts'

/** The worker script: many agents in one process, each its own libp2p identity (see bench/workers/swarm.ts). */
export const SWARM = join(ROOT, 'bench', 'workers', 'swarm.ts')

export interface SwarmStatus {
  type: 'status', worker: number, agents: number, connected: number, running: number, connectFailures: number, beatsSent: number
  rssBytes: number
  /** The worker process's CPU time so far (user + system). */
  cpuSeconds: number
  errors: Record<string, number>
  /** Lean agents: failed connection attempts so far by cause (refused, reset, timeout, other). */
  failures?: Record<string, number>
}

export interface SwarmOptions {
  beatPeriodMs: number
  reconnectPeriodMs: number
  reportMs?: number
  /** lean: LeanAgents (no libp2p node each, the default); agent: the real Agent class, one js-libp2p node each. */
  kind?: 'lean' | 'agent'
  /** lean: handshakes this worker runs at once. */
  concurrentHandshakes?: number
  /** lean: a yamux PING per connection this often, as the real agent's link watcher sends (0 = off; default LINK_PING_INTERVAL_MS). */
  linkPingMs?: number
  /** One demo-chain origin for every worker, so the whole fleet agrees on heads. */
  originMs?: number
  /**
   * Scheduling niceness of the worker process (0-19; default 0). On one machine
   * the simulated agents compete with the aggregator for the same cores, and the
   * kernel shares them per process: five busy workers leave the aggregator a
   * third of two cores. A real fleet's agents run on machines of their own, so
   * a benchmark that measures the aggregator may let its simulated agents yield.
   * Started under nice(1) rather than setpriority(2) after the spawn: on Linux that
   * sets one thread only, and the worker's V8 and libuv threads may already exist.
   */
  nice?: number
}

/** One agent-swarm worker process: its agents' peer ids once ready, and its last status report. */
export class SwarmWorker {
  readonly proc: ChildProcess
  peerIds: string[] = []
  /** From start to every agent having sent a beat (the ramp). */
  rampMs: number | undefined
  last: SwarmStatus | undefined
  stderr = ''
  readonly ready: Promise<void>

  constructor (index: number, count: number, target: string, options: SwarmOptions) {
    const nice = options.nice ?? 0
    const [command, args] = nice === 0 ? [process.execPath, [SWARM]] : ['nice', ['-n', String(nice), process.execPath, SWARM]]
    this.proc = spawn(command, args, {
      env: {
        ...process.env,
        SWARM_WORKER: String(index + 1),
        SWARM_AGENTS: String(count),
        SWARM_TARGETS: target,
        SWARM_BEAT_MS: String(options.beatPeriodMs),
        SWARM_RECONNECT_MS: String(options.reconnectPeriodMs),
        ...(options.reportMs !== undefined ? { SWARM_REPORT_MS: String(options.reportMs) } : {}),
        SWARM_KIND: options.kind ?? 'lean',
        ...(options.concurrentHandshakes !== undefined ? { SWARM_HANDSHAKES: String(options.concurrentHandshakes) } : {}),
        ...(options.linkPingMs !== undefined ? { SWARM_LINK_PING_MS: String(options.linkPingMs) } : {}),
        ...(options.originMs !== undefined ? { SWARM_ORIGIN_MS: String(options.originMs) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    reapOnExit(this.proc)
    let partial = ''
    this.ready = new Promise((resolve, reject) => {
      this.proc.stdout?.on('data', (d: Buffer) => {
        partial += d.toString()
        const lines = partial.split('\n')
        partial = lines.pop() ?? ''
        for (const line of lines) {
          const report = JSON.parse(line) as { type: string, peerIds?: string[], rampMs?: number }
          if (report.type === 'ready') {
            this.peerIds = report.peerIds ?? []
            this.rampMs = report.rampMs
            resolve()
          }
          if (report.type === 'status') this.last = report as SwarmStatus
        }
      })
      this.proc.on('exit', (code) => { reject(new Error(`swarm worker ${index} exited (${code}): ${this.stderr.slice(-2000)}`)) })
    })
    this.proc.stderr?.on('data', (d: Buffer) => { this.stderr += d.toString() })
  }

  /** `ready`, or an error with the worker's last status once `timeoutMs` has passed without it. */
  async readyWithin (timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`swarm worker: not every agent beating after ${timeoutMs} ms; last status ${JSON.stringify(this.last)}`)) }, timeoutMs)
    })
    try {
      await Promise.race([this.ready, late])
    } finally {
      clearTimeout(timer)
    }
  }

  get alive (): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null
  }

  async stop (): Promise<void> {
    if (!this.alive) return
    const exited = new Promise((resolve) => this.proc.once('exit', resolve))
    this.proc.kill('SIGTERM')
    const timer = setTimeout(() => { this.proc.kill('SIGKILL') }, 8_000)
    await exited
    clearTimeout(timer)
  }
}
