import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { DataDirLock } from '../../aggregator/data-dir-lock.ts'
import { loadOrCreateKey } from '../../shared/identity.ts'
import { systemClock } from '../../shared/clock.ts'
import { fetchJson, startAgentProcess, startAggregatorProcess, tempDir, type Spawned } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const asRoot = process.getuid?.() === 0

/** Fills a filesystem until it refuses another byte; returns the filler's path. */
function fill (dir: string): string {
  const file = join(dir, 'filler')
  const chunk = Buffer.alloc(64 * 1024, 1)
  try {
    for (;;) appendFileSync(file, chunk)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  }
  // Small writes too: the last pages.
  try { for (;;) appendFileSync(file, Buffer.alloc(512, 1)) } catch { /* full */ }
  return file
}

function rows (file: string, sql: string, ...params: string[]): any[] {
  const db = new DatabaseSync(file, { readOnly: true })
  try { return db.prepare(sql).all(...params) } finally { db.close() }
}

async function storeHealth (url: string): Promise<{ overall: string, status: string, details: any }> {
  const h = await fetchJson(`${url}/health`)
  return { overall: h.status, status: h.components.store.status, details: h.components.store.details }
}

async function metric (url: string, pattern: RegExp): Promise<string | undefined> {
  return pattern.exec(await (await fetch(`${url}/metrics`)).text())?.[1]
}

/**
 * Issue 21's store faults through the executables: a data dir on a full
 * tmpfs (at start, and while running) and a write lock held by Debian's
 * sqlite3. The aggregator keeps serving from memory, /health, /readyz and
 * /metrics say what is wrong, and it recovers by itself with nothing lost.
 */
test('a full data dir: started on it, the aggregator serves from memory with the store not_ready, and writes everything once there is room', { skip: asRoot ? false : 'mounting a tmpfs needs root' }, async (t) => {
  const mountPoint = tempDir('hb-full-')
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]).status, 0, 'mount a 4 MB tmpfs')
  const processes: Spawned[] = []
  t.after(async () => {
    await Promise.all(processes.map(async (p) => { await p.stop() }))
    spawnSync('umount', ['-l', mountPoint])
  })
  const dataDir = join(mountPoint, 'data')
  mkdirSync(dataDir, { mode: 0o700 })
  // What an aggregator that ran here before leaves: its key and its lock file (the store file is made later).
  await loadOrCreateKey(join(dataDir, 'peer.key'))
  const earlier = await DataDirLock.acquire(dataDir, systemClock)
  earlier.release()
  let filler = fill(mountPoint)

  // Full from the start: no store file can be made. No restart loop: it starts, serves, says so.
  const aggregator = await startAggregatorProcess({ dataDir, args: ['--store-flush-interval', '500ms'] })
  processes.push(aggregator.process)
  await aggregator.process.waitForLog((l) => l.msg === 'the store cannot be opened; serving from memory and retrying')
  const atStart = await storeHealth(aggregator.url)
  assert.equal(atStart.status, 'not_ready')
  assert.equal(atStart.overall, 'not_ready')
  assert.match(String(atStart.details.lastError), /full|disk|space|unable to open/i)
  assert.equal((await fetch(`${aggregator.url}/health`)).status, 503)
  assert.equal((await fetch(`${aggregator.url}/readyz`)).status, 200, 'readiness stays up: it takes heartbeats and serves the view')
  assert.equal((await fetch(`${aggregator.url}/livez`)).status, 200)

  const agent = startAgentProcess(aggregator.multiaddr, ['--nickname', 'patient', '--beat-period', '500ms'])
  processes.push(agent)
  const node = await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/fleet`)).nodes.find((n: any) => n.status === 'healthy'), { timeoutMs: 20_000, what: 'the agent healthy in the live view' })
  assert.equal(await metric(aggregator.url, /^heartbeat_aggregator_component_status\{component="store",status="not_ready"\} (\d+)$/m), '1')
  assert.ok(Number(await metric(aggregator.url, /^heartbeat_store_pending_rows (\d+)$/m)) >= 1, 'rows wait in memory')

  // Room again: the store opens by itself and writes what waited.
  rmSync(filler)
  await waitFor(async () => (await storeHealth(aggregator.url)).status === 'ready', { timeoutMs: 30_000, what: 'the store ready once there is room' })
  const file = join(dataDir, 'fleet.sqlite')
  await waitFor(() => rows(file, 'SELECT COUNT(*) AS n FROM nodes WHERE peer_id = ?', node.peerId)[0].n === 1, { what: 'the node written' })
  assert.deepEqual(rows(file, 'SELECT from_status, to_status FROM status_changes WHERE peer_id = ?', node.peerId).map((r) => [r.from_status, r.to_status]), [[null, 'healthy']],
    'the change made while the store was away is there')

  // Full again while it runs: affected with the error, then not lost once there is room.
  filler = fill(mountPoint)
  await agent.stop()
  await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/nodes/${node.peerId}`)).status === 'stopped', { what: 'the stop in the live view' })
  const full = await waitFor(async () => { const h = await storeHealth(aggregator.url); return h.status !== 'ready' ? h : undefined }, { timeoutMs: 15_000, what: 'the store affected by the full disk' })
  assert.equal(full.status, 'affected')
  assert.match(String(full.details.lastError), /full|disk/i)
  assert.ok(Number(await metric(aggregator.url, /^heartbeat_store_write_failures_total (\d+)$/m)) >= 1)
  rmSync(filler)
  await waitFor(async () => (await storeHealth(aggregator.url)).status === 'ready', { timeoutMs: 30_000, what: 'the store ready again' })
  await waitFor(() => rows(file, "SELECT COUNT(*) AS n FROM status_changes WHERE peer_id = ? AND to_status = 'stopped'", node.peerId)[0].n === 1, { what: 'the stop written' })
  assert.deepEqual(rows(file, 'PRAGMA integrity_check').map((r) => r.integrity_check), ['ok'])
})

test('a write lock held by sqlite3 (BEGIN EXCLUSIVE): the store is affected with the error, and recovers by itself once it is let go', async (t) => {
  const aggregator = await startAggregatorProcess({ args: ['--store-flush-interval', '500ms'] })
  const agent = startAgentProcess(aggregator.multiaddr, ['--nickname', 'locked-out', '--beat-period', '500ms'])
  const file = join(aggregator.dataDir, 'fleet.sqlite')
  const cli = spawn('/usr/bin/sqlite3', [file], { stdio: ['pipe', 'pipe', 'pipe'] })
  t.after(async () => {
    cli.kill()
    await agent.stop()
    await aggregator.process.stop()
  })
  const node = await waitFor(async () => (await fetchJson(`${aggregator.url}/api/v1/fleet`)).nodes.find((n: any) => n.status === 'healthy'), { timeoutMs: 20_000, what: 'the agent healthy' })
  await waitFor(() => rows(file, 'SELECT COUNT(*) AS n FROM nodes')[0].n === 1, { what: 'the node written' })

  let cliOutput = ''
  cli.stdout.on('data', (d: Buffer) => { cliOutput += d.toString() })
  cli.stdin.write("BEGIN EXCLUSIVE;\nSELECT 'locked';\n")
  await waitFor(() => cliOutput.includes('locked'), { what: 'sqlite3 holding the lock' })
  await agent.stop()
  const blocked = await waitFor(async () => { const h = await storeHealth(aggregator.url); return h.status !== 'ready' ? h : undefined }, { timeoutMs: 15_000, what: 'the store affected by the lock' })
  assert.equal(blocked.status, 'affected')
  assert.equal(blocked.overall, 'affected', '/health says so, and still answers 200: the live view works')
  assert.match(String(blocked.details.lastError), /locked|busy/i)
  assert.ok(blocked.details.pending.rows >= 1)
  assert.equal((await fetch(`${aggregator.url}/health`)).status, 200)
  assert.equal((await fetch(`${aggregator.url}/readyz`)).status, 200)
  assert.equal(await metric(aggregator.url, /^heartbeat_aggregator_component_status\{component="store",status="affected"\} (\d+)$/m), '1')

  cli.stdin.write('ROLLBACK;\n.quit\n')
  await waitFor(async () => (await storeHealth(aggregator.url)).status === 'ready', { timeoutMs: 30_000, what: 'the store ready once the lock is let go' })
  await waitFor(() => rows(file, "SELECT COUNT(*) AS n FROM status_changes WHERE peer_id = ? AND to_status = 'stopped'", node.peerId)[0].n === 1, { what: 'the stop written once the lock was let go' })
  assert.equal(await metric(aggregator.url, /^heartbeat_aggregator_component_status\{component="store",status="ready"\} (\d+)$/m), '1')
})
