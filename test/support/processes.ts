import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { reapOnExit } from './child-reaper.ts'
import { waitFor } from './wait.ts'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const AGENT_BIN = join(ROOT, 'bin', 'heartbeat-agent.js')
export const AGGREGATOR_BIN = join(ROOT, 'bin', 'heartbeat-aggregator.js')

export function tempDir (prefix = 'hb-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export interface LogLine { level: string, msg: string, [key: string]: unknown }

/** A spawned program whose JSON log lines are parsed as they arrive. */
export class Spawned {
  readonly proc: ChildProcess
  readonly lines: LogLine[] = []
  stdout = ''
  stderr = ''
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private waiters: Array<{ match: (l: LogLine) => boolean, resolve: (l: LogLine) => void }> = []

  /** Runs `bin` with this test's Node.js, or (`direct`) as an executable of its own: an installed program, a single executable. */
  constructor (bin: string, args: string[], env: NodeJS.ProcessEnv = {}, options: { direct?: boolean } = {}) {
    const [command, argv] = options.direct === true ? [bin, args] : [process.execPath, [bin, ...args]]
    this.proc = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    reapOnExit(this.proc)
    let partial = ''
    this.proc.stdout?.on('data', (d: Buffer) => { this.stdout += d.toString() })
    this.proc.stderr?.on('data', (d: Buffer) => {
      const text = d.toString()
      this.stderr += text
      partial += text
      const parts = partial.split('\n')
      partial = parts.pop() ?? ''
      for (const part of parts) {
        let line: LogLine
        try { line = JSON.parse(part) as LogLine } catch { continue }
        this.lines.push(line)
        this.waiters = this.waiters.filter((w) => {
          if (w.match(line)) { w.resolve(line); return false }
          return true
        })
      }
    })
    this.exited = new Promise((resolve) => { this.proc.on('exit', (code, signal) => { resolve({ code, signal }) }) })
  }

  /** Resolves with the first log line (already seen or still to come) that matches. */
  async waitForLog (match: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const seen = this.lines.find(match)
    if (seen !== undefined) return seen
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`timed out waiting for a log line; stderr so far:\n${this.stderr.slice(-2000)}`)) }, timeoutMs)
      this.waiters.push({ match, resolve: (l) => { clearTimeout(timer); resolve(l) } })
      void this.exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`process exited (${code}) before the log line; stderr:\n${this.stderr.slice(-2000)}`)) })
    })
  }

  kill (signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal)
  }

  async stop (): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    this.proc.kill('SIGTERM')
    const timer = setTimeout(() => { this.proc.kill('SIGKILL') }, 5_000)
    await this.exited
    clearTimeout(timer)
  }
}

export interface RunningAggregator {
  process: Spawned
  peerId: string
  multiaddr: string
  url: string
  dataDir: string
}

/** How long an aggregator may take to say it started (a restart restores its known nodes first). */
export const AGGREGATOR_START_TIMEOUT_MS = 15_000

export async function startAggregatorProcess (options: { dataDir?: string, port?: number, args?: string[], env?: NodeJS.ProcessEnv, startTimeoutMs?: number } = {}): Promise<RunningAggregator> {
  const dataDir = options.dataDir ?? tempDir('hb-agg-')
  const listen = `/ip4/127.0.0.1/tcp/${options.port ?? 0}`
  const spawned = new Spawned(AGGREGATOR_BIN, ['--listen', listen, '--http', '127.0.0.1:0', '--data-dir', dataDir, ...(options.args ?? [])], options.env)
  let started: LogLine
  try {
    started = await spawned.waitForLog((l) => l.msg === 'heartbeat aggregator started', options.startTimeoutMs ?? AGGREGATOR_START_TIMEOUT_MS)
  } catch (err) {
    // Nobody else holds this process yet: left running, it would keep the test (and its pipes) alive.
    spawned.kill('SIGKILL')
    await spawned.exited
    throw err
  }
  const multiaddrs = started.multiaddrs as string[]
  return { process: spawned, peerId: started.peerId as string, multiaddr: multiaddrs[0] as string, url: started.http as string, dataDir }
}

export function startAgentProcess (target: string | undefined, args: string[] = [], env: NodeJS.ProcessEnv = {}): Spawned {
  const keyDir = tempDir('hb-agent-')
  const targetArgs = target === undefined ? [] : ['--target', target]
  return new Spawned(AGENT_BIN, [...targetArgs, '--key-file', join(keyDir, 'agent.key'), ...args], env)
}

export async function fetchJson<T = any> (url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) })
  return await res.json() as T
}

/**
 * Resolves once the aggregator's store has landed two writes after this call: the second of them began after
 * the call (writes run one at a time), so everything recorded before the call is in the store and its history
 * API. Read from /metrics (heartbeat_store_flushes_total), never by sleeping a flush interval.
 */
export async function storeFlushed (aggregatorUrl: string, timeoutMs = 15_000): Promise<void> {
  const flushes = async (): Promise<number> => {
    const text = await (await fetch(`${aggregatorUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text()
    const match = /^heartbeat_store_flushes_total (\d+)/m.exec(text)
    if (match === null) throw new Error('no heartbeat_store_flushes_total in /metrics')
    return Number(match[1])
  }
  const before = await flushes()
  await waitFor(async () => await flushes() >= before + 2, { timeoutMs, intervalMs: 100, what: 'two store writes' })
}
