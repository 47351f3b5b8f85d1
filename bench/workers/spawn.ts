import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { reapOnExit } from '../../test/support/child-reaper.ts'

/** A worker process speaking the READY / GO / DONE line protocol. */
export class Worker {
  readonly proc: ChildProcess
  private readonly lines: string[] = []
  private readonly waiters: Array<{ want: string, resolve: (line: string) => void }> = []
  readonly exited: Promise<number | null>

  constructor (script: string, args: unknown) {
    this.proc = spawn(process.execPath, [script, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'] })
    reapOnExit(this.proc)
    const rl = createInterface({ input: this.proc.stdout! })
    rl.on('line', (line) => {
      const waiter = this.waiters.find((w) => line.startsWith(w.want))
      if (waiter !== undefined) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        waiter.resolve(line)
      } else {
        this.lines.push(line)
      }
    })
    this.exited = new Promise((resolve) => { this.proc.on('exit', (code) => { resolve(code) }) })
  }

  async waitFor (prefix: string, timeoutMs = 120_000): Promise<string> {
    const seen = this.lines.findIndex((l) => l.startsWith(prefix))
    if (seen >= 0) return this.lines.splice(seen, 1)[0]!
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`worker did not say ${prefix} within ${timeoutMs} ms`)) }, timeoutMs)
      this.waiters.push({ want: prefix, resolve: (line) => { clearTimeout(timer); resolve(line) } })
      void this.exited.then((code) => { clearTimeout(timer); reject(new Error(`worker exited (${code}) before ${prefix}`)) })
    })
  }

  send (line: string): void {
    this.proc.stdin?.write(`${line}\n`)
  }

  kill (signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.proc.exitCode === null) this.proc.kill(signal)
  }
}
