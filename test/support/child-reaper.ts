import type { ChildProcess } from 'node:child_process'

/**
 * Every child process a test or benchmark started and that still runs. When
 * this process ends (normally, or on SIGINT, SIGTERM or SIGHUP: Ctrl-C, a
 * `kill`, `timeout`, a closed terminal) each of them gets SIGKILL, so an
 * interrupted benchmark leaves no aggregator or swarm worker behind. (A
 * SIGKILL of this process cannot be caught: swarm workers also watch their
 * parent and exit when it is gone, bench/workers/swarm.ts.)
 */
const running = new Set<ChildProcess>()
let installed = false

/** Signals that end this process after the children are killed (128 + signal number, as a shell reports). */
const ENDING_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const

export function reapOnExit (child: ChildProcess): void {
  install()
  if (child.exitCode !== null || child.signalCode !== null) return
  running.add(child)
  child.once('exit', () => { running.delete(child) })
}

/** Children still running (for tests of this module). */
export function runningChildren (): number {
  return running.size
}

function killAll (): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL')
    } catch {}
  }
  running.clear()
}

function install (): void {
  if (installed) return
  installed = true
  process.once('exit', killAll)
  for (const [signal, status] of Object.entries(ENDING_SIGNALS)) {
    // Only when nobody else handles it: a program with its own handler (a graceful stop) keeps it.
    if (process.listenerCount(signal) > 0) continue
    process.once(signal, () => {
      killAll()
      process.exit(status)
    })
  }
}
