import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { HOLDER_FILE, LOCK_FILE } from '../../aggregator/data-dir-lock.ts'
import { freePort } from '../support/ports.ts'
import { AGGREGATOR_BIN, startAggregatorProcess, tempDir } from '../support/processes.ts'

/** Fail fast (docs/deployment.md): a start-up mistake is exit 2 within this, one line on stderr, no stack trace. */
const FAIL_FAST_MS = 5_000

interface Run { code: number | null, stderr: string, stdout: string, ms: number }

async function runAggregator (args: string[]): Promise<Run> {
  const started = Date.now()
  const child = spawn(process.execPath, [AGGREGATOR_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  const killer = setTimeout(() => { child.kill('SIGKILL') }, 3 * FAIL_FAST_MS)
  const code = await new Promise<number | null>((resolve) => { child.on('exit', (c) => { resolve(c) }) })
  clearTimeout(killer)
  return { code, stderr, stdout, ms: Date.now() - started }
}

/** Exit 2, quickly, with exactly one line that matches `line` and no stack frame anywhere. */
function assertOneLineExit2 (run: Run, line: RegExp): void {
  assert.equal(run.code, 2, `exit status (stderr: ${run.stderr})`)
  assert.ok(run.ms < FAIL_FAST_MS, `exited after ${run.ms} ms`)
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '')
  assert.equal(lines.length, 1, `one line on stderr, got:\n${run.stderr}`)
  assert.match(lines[0]!, line)
  assert.doesNotMatch(run.stderr + run.stdout, /\n\s+at |Error: /, 'no stack trace')
}

async function holdPort (): Promise<{ server: Server, port: number }> {
  const server = createServer()
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  return { server, port: (server.address() as { port: number }).port }
}

const base = (dataDir: string, listenPort = 0, http = '127.0.0.1:0'): string[] =>
  ['--listen', `/ip4/127.0.0.1/tcp/${listenPort}`, '--http', http, '--data-dir', dataDir]

describe('start-up failures: exit 2, one line, no stack trace', () => {
  it('a taken --http port', async (t) => {
    const { server, port } = await holdPort()
    t.after(() => { server.close() })
    const run = await runAggregator(base(tempDir('hb-fail-'), 0, `127.0.0.1:${port}`))
    assertOneLineExit2(run, new RegExp(`^heartbeat-aggregator: --http 127\\.0\\.0\\.1:${port} is already in use \\(another heartbeat-aggregator\\? see \`ss -ltnp 'sport = :${port}'\`\\)$`))
  })

  it('a taken --listen port', async (t) => {
    const { server, port } = await holdPort()
    t.after(() => { server.close() })
    const run = await runAggregator(base(tempDir('hb-fail-'), port))
    assertOneLineExit2(run, new RegExp(`^heartbeat-aggregator: --listen /ip4/127\\.0\\.0\\.1/tcp/${port} is already in use \\(another heartbeat-aggregator\\? see \`ss -ltnp 'sport = :${port}'\`\\)$`))
  })

  it('an address that is not on this machine (TEST-NET-1)', async () => {
    const run = await runAggregator(base(tempDir('hb-fail-'), 0, '192.0.2.1:8080'))
    assertOneLineExit2(run, /^heartbeat-aggregator: --http 192\.0\.2\.1:8080: this machine has no such address \(EADDRNOTAVAIL; /)
    const listen = await runAggregator(['--listen', '/ip4/192.0.2.1/tcp/4100', '--http', '127.0.0.1:0', '--data-dir', tempDir('hb-fail-')])
    assertOneLineExit2(listen, /^heartbeat-aggregator: --listen \/ip4\/192\.0\.2\.1\/tcp\/4100: this machine has no such address/)
  })

  it('a second aggregator on one data dir names the holder\'s pid; after a kill -9 the lock is free again', async (t) => {
    const dataDir = tempDir('hb-lock-')
    const first = await startAggregatorProcess({ dataDir })
    t.after(async () => { await first.process.stop() })
    const pid = first.process.proc.pid as number
    // Its own ports would be taken too: the data dir is checked first, so the line names the holder.
    const second = await runAggregator(base(dataDir))
    assertOneLineExit2(second, new RegExp(`^heartbeat-aggregator: --data-dir ${dataDir} is in use by another heartbeat-aggregator \\(pid ${pid} on host [^ ]+, since [0-9T:.Z-]+\\): stop it, or give this one its own --data-dir$`))
    first.process.kill('SIGKILL')
    await first.process.exited
    // The lock died with its process (an OS lock); the leftover holder file does not stop the next one.
    const again = await startAggregatorProcess({ dataDir })
    t.after(async () => { await again.process.stop() })
    assert.equal(again.peerId, first.peerId, 'the same data dir, the same peer id')
  })

  it('a clean stop releases the lock and removes the holder file', async () => {
    const dataDir = tempDir('hb-lock-')
    const first = await startAggregatorProcess({ dataDir })
    await first.process.stop()
    const { existsSync } = await import('node:fs')
    assert.equal(existsSync(join(dataDir, HOLDER_FILE)), false)
    assert.equal(existsSync(join(dataDir, LOCK_FILE)), true, 'the lock file stays: the lock lives on its inode')
    const second = await startAggregatorProcess({ dataDir })
    await second.process.stop()
  })

  it('a data dir that cannot be one, a bad key file, a store that is not a database', async () => {
    const file = join(tempDir('hb-fail-'), 'a-file')
    writeFileSync(file, 'x')
    assertOneLineExit2(await runAggregator(base(file)), /^heartbeat-aggregator: --data-dir .+: it is not a directory$/)
    assertOneLineExit2(await runAggregator(base(join(file, 'sub'))), /^heartbeat-aggregator: --data-dir .+: cannot create it: ENOTDIR/)
    const badKey = tempDir('hb-fail-')
    writeFileSync(join(badKey, 'peer.key'), 'not a key', { mode: 0o600 })
    const key = await runAggregator(base(badKey))
    assert.equal(key.code, 2)
    assert.match(key.stderr, /key file .+peer\.key does not hold a libp2p private key/)
    assert.doesNotMatch(key.stderr, /\n\s+at /)
    const badStore = tempDir('hb-fail-')
    writeFileSync(join(badStore, 'fleet.sqlite'), 'not a database'.repeat(400))
    const store = await runAggregator(base(badStore))
    assert.notEqual(store.code, 0)
    assert.match(store.stderr, /heartbeat-aggregator: cannot open the store .+fleet\.sqlite: file is not a database\n$/)
    assert.doesNotMatch(store.stderr, /\n\s+at /)
  })
})

describe('a port freed a moment ago', () => {
  it('is taken without complaint (the check releases what it binds)', async () => {
    const port = await freePort()
    const agg = await startAggregatorProcess({ port })
    assert.match(agg.multiaddr, new RegExp(`/tcp/${port}/`))
    await agg.process.stop()
  })
})
