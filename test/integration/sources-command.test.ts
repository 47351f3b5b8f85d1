import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ChainMonitor } from '../../agent/chain-monitor.ts'
import { CommandSource } from '../../agent/sources/command.ts'
import { ErrorCodes } from '../../shared/errors.ts'
import { tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

/** Running, not a zombie: a killed process whose parent is gone may wait a while to be reaped. */
function alive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

describe('command source running real commands', () => {
  const signal = (): AbortSignal => AbortSignal.timeout(5_000)

  it('reads what the command prints, through a pipeline', async () => {
    const source = new CommandSource({ command: `printf '%s' '{"head":"{ bafyhead }","height":41}' | sed 's/41/42/'` })
    assert.deepEqual(await source.read({ signal: signal() }), { head: '{ bafyhead }', height: 42 })
  })

  it('fails with the exit status and the end of stderr', async () => {
    const source = new CommandSource({ command: 'echo "lotus: connection refused" >&2; exit 3' })
    await assert.rejects(source.read({ signal: signal() }), (err: Error & { code: string }) => {
      assert.equal(err.code, ErrorCodes.COMMAND_FAILED)
      assert.equal(err.message, 'the source command exited with status 3: lotus: connection refused')
      return true
    })
  })

  it('fails on nonsense output', async () => {
    await assert.rejects(new CommandSource({ command: 'echo \'{"head":"h","height":"tall"}\'' }).read({ signal: signal() }), /height/)
    await assert.rejects(new CommandSource({ command: 'yes | head -c 2000000' }).read({ signal: signal() }), /printed more than 1048576 bytes/)
  })

  it('kills a command that hangs, and whatever it started, at the timeout', async () => {
    const dir = tempDir('hb-cmd-')
    const pidFile = join(dir, 'pids')
    const source = new CommandSource({ command: `sleep 30 & echo $! > ${pidFile}; echo $$ >> ${pidFile}; wait` })
    const monitor = new ChainMonitor(source, { timeoutMs: 1_500 })
    const started = Date.now()
    await monitor.poll()
    assert.ok(Date.now() - started < 5_000)
    const details = monitor.snapshot().component.details as Record<string, unknown>
    assert.equal(monitor.snapshot().component.status, 'not_ready')
    assert.equal(details.code, ErrorCodes.TIMEOUT)
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number)
    assert.equal(pids.length, 2)
    await waitFor(() => pids.every((pid) => !alive(pid)), { timeoutMs: 3_000, what: 'the shell and its sleep to be gone' })
  })
})
