import { freePort } from './ports.ts'
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './processes.ts'
import { waitFor } from './wait.ts'

/** Debian's prometheus-alertmanager (scripts/system-deps.ts installs it for `npm test`). */
export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager'

/** An alert as Alertmanager's GET /api/v2/alerts returns it (the fields the tests read). */
export interface AmAlert {
  labels: Record<string, string>
  annotations: Record<string, string>
  startsAt: string
  endsAt: string
  generatorURL: string
  status: { state: string }
}

export interface RunningAlertmanager {
  url: string
  alerts: () => Promise<AmAlert[]>
  stop: () => Promise<void>
}


/**
 * A real Alertmanager on 127.0.0.1 with a temp config and storage: one
 * receiver that sends nowhere (we read alerts back over its API), clustering
 * off so it opens no other port.
 */
export async function startAlertmanager (): Promise<RunningAlertmanager> {
  const dir = tempDir('hb-am-')
  const config = join(dir, 'alertmanager.yml')
  writeFileSync(config, 'route:\n  receiver: nowhere\n  group_wait: 1s\nreceivers:\n  - name: nowhere\n')
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const proc: ChildProcess = spawn(ALERTMANAGER_BIN, [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<void>((resolve) => { proc.on('exit', () => { resolve() }) })
    const url = `http://127.0.0.1:${port}`
    try {
      await waitFor(async () => {
        if (proc.exitCode !== null) throw new Error(`alertmanager exited: ${stderr}`)
        return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok
      }, { timeoutMs: 15_000, intervalMs: 100, what: 'alertmanager to be ready' })
    } catch (err) {
      lastError = err
      proc.kill('SIGKILL')
      await exited
      continue
    }
    return {
      url,
      alerts: async () => await (await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) })).json() as AmAlert[],
      stop: async () => {
        if (proc.exitCode === null) proc.kill('SIGTERM')
        await exited
      },
    }
  }
  throw lastError
}
