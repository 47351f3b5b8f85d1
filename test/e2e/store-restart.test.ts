import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { AGGREGATOR_BIN, fetchJson, startAgentProcess, startAggregatorProcess, tempDir, type Spawned } from '../support/processes.ts'
import { freePort } from '../support/ports.ts'
import { waitFor } from '../support/wait.ts'

function withDb<T> (file: string, read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file)
  try { return read(db) } finally { db.close() }
}

const FLUSH_MS = 1000 // the default write-behind interval; passed explicitly so the test states what it relies on

test('the aggregator remembers: kill -9 during ingest, an agent dies meanwhile, restart on the same port and data dir', async (t) => {
  const dataDir = tempDir('hb-agg-store-')
  const file = join(dataDir, 'fleet.sqlite')
  const port = await freePort()
  const args = ['--store-flush-interval', `${FLUSH_MS}ms`, '--height-sample-interval', '300ms']
  const first = await startAggregatorProcess({ dataDir, port, args })
  const agents = new Map<string, Spawned>()
  for (const nickname of ['alpha', 'bravo', 'charlie']) {
    agents.set(nickname, startAgentProcess(first.multiaddr, ['--nickname', nickname, '--beat-period', '100ms', '--reconnect-period', '300ms', '--demo-block-time', '300ms']))
  }
  let second: Awaited<ReturnType<typeof startAggregatorProcess>> | undefined
  t.after(async () => {
    await Promise.all([...agents.values()].map(async (a) => { await a.stop() }))
    first.process.kill('SIGKILL')
    await second?.process.stop()
  })

  const nodes = await waitFor(async () => {
    const fleet = await fetchJson(`${first.url}/api/v1/fleet`)
    return fleet.nodes.length === 3 && fleet.nodes.every((n: any) => n.status === 'healthy') ? fleet.nodes as any[] : undefined
  }, { what: 'three healthy nodes' })
  const peerOf = (nick: string): string => nodes.find((n) => n.nickname === nick).peerId
  const alpha = peerOf('alpha')
  // Let flushes land with all three nodes and a few samples, as a running aggregator would have
  // (a node first seen within the last interval before a kill is, by design, not on disk yet).
  await waitFor(() => withDb(file, (db) =>
    (db.prepare('SELECT COUNT(*) AS n FROM nodes').get() as { n: number }).n === 3 &&
    (db.prepare('SELECT COUNT(*) AS n FROM height_samples WHERE peer_id = ?').get(alpha) as { n: number }).n >= 3), { what: 'all three nodes and samples for alpha on disk' })

  // kill -9 while agents beat ten times a second, then one agent dies while the aggregator is away.
  const killedAt = Date.now()
  first.process.kill('SIGKILL')
  assert.equal((await first.process.exited).signal, 'SIGKILL')
  agents.get('alpha')!.kill('SIGKILL')
  await agents.get('alpha')!.exited

  const stored = withDb(file, (db) => ({
    integrity: (db.prepare('PRAGMA integrity_check').all() as Array<{ integrity_check: string }>).map((r) => r.integrity_check),
    nodes: (db.prepare('SELECT COUNT(*) AS n FROM nodes').get() as { n: number }).n,
    alphaLastSeen: (db.prepare('SELECT last_seen FROM nodes WHERE peer_id = ?').get(alpha) as { last_seen: number }).last_seen,
  }))
  assert.deepEqual(stored.integrity, ['ok'], 'the file survived kill -9 intact')
  assert.equal(stored.nodes, 3)
  // At most the last interval is lost (plus a beat period and generous scheduling slack on a busy machine).
  const lostMs = killedAt - stored.alphaLastSeen
  assert.ok(lostMs < FLUSH_MS + 1500, `alpha's stored last heartbeat is ${lostMs} ms before the kill`)

  second = await startAggregatorProcess({ dataDir, port, args })
  assert.equal(second.peerId, first.peerId, 'same identity from the same data dir')
  const restartedUrl = second.url

  // Right after the restart every node is listed; none is shown healthy before it reports again.
  const early = await fetchJson(`${restartedUrl}/api/v1/fleet`)
  assert.equal(early.nodes.length, 3, 'no node vanished')
  const earlyAlpha = early.nodes.find((n: any) => n.peerId === alpha)
  assert.equal(earlyAlpha.status, 'stale')
  assert.match(earlyAlpha.reason, /^not heard from since the aggregator restarted; last heartbeat \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/)

  // The living agents reconnect and turn healthy; alpha stays listed, not healthy, with its reason.
  const fleet = await waitFor(async () => {
    const f = await fetchJson(`${restartedUrl}/api/v1/fleet`)
    const back = f.nodes.filter((n: any) => n.status === 'healthy').map((n: any) => n.nickname).sort()
    return back.join() === 'bravo,charlie' ? f : undefined
  }, { timeoutMs: 15_000, what: 'bravo and charlie healthy again' })
  assert.equal(fleet.nodes.length, 3)
  const alphaNow = fleet.nodes.find((n: any) => n.peerId === alpha)
  assert.equal(alphaNow.status, 'stale')
  assert.equal(alphaNow.nickname, 'alpha')
  assert.equal(alphaNow.connected, false)
  assert.match(alphaNow.reason, /not heard from since the aggregator restarted/)
  assert.equal(alphaNow.lastSeen, new Date(stored.alphaLastSeen).toISOString(), 'its last heartbeat as stored')

  // Its history and uptime are there.
  // (History trails the live view by up to one flush interval: the restart's change lands with the first flush.)
  const history = await waitFor(async () => {
    const h = await fetchJson(`${restartedUrl}/api/v1/nodes/${alpha}/history?since=${killedAt - 10 * 60_000}`)
    return h.statuses.length >= 2 ? h : undefined
  }, { timeoutMs: FLUSH_MS + 5000, what: 'the restart in alpha\'s history' })
  assert.ok(history.heights.length >= 3, `${history.heights.length} height samples`)
  assert.deepEqual(history.statuses.map((s: any) => [s.from, s.to]), [[null, 'healthy'], ['healthy', 'stale']])
  assert.match(history.statuses[1].reason, /aggregator restarted/)
  const view = await fetchJson(`${restartedUrl}/api/v1/nodes/${alpha}`)
  for (const window of ['hour', 'day', 'week']) {
    const ratio = view.uptime[window]
    assert.ok(typeof ratio === 'number' && ratio > 0 && ratio < 1, `alpha's ${window} uptime is ${ratio}`)
  }
  const log = await fetchJson(`${restartedUrl}/api/v1/history`)
  assert.ok(log.changes.some((c: any) => c.peerId === alpha && c.to === 'stale' && c.nickname === 'alpha'))

  // A clean stop leaves a clean file too.
  await second.process.stop()
  assert.deepEqual(withDb(file, (db) => (db.prepare('PRAGMA integrity_check').all() as Array<{ integrity_check: string }>).map((r) => r.integrity_check)), ['ok'])
})

test('store flags: bad durations are exit 2 with a clear line; a damaged store file is a clear start-up error', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null, stderr: string } => {
    const r = spawnSync(process.execPath, [AGGREGATOR_BIN, '--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 })
    return { status: r.status, stderr: r.stderr }
  }
  const dataDir = tempDir('hb-agg-flags-')
  for (const [args, env, message] of [
    [['--data-dir', dataDir, '--history-retention', '7d'], {}, /invalid --history-retention "7d"/],
    [['--data-dir', dataDir], { HEARTBEAT_AGGREGATOR_STORE_FLUSH_INTERVAL: '0s' }, /invalid --store-flush-interval "0s": must be greater than zero/],
    [['--data-dir', dataDir, '--height-sample-interval', 'often'], {}, /invalid --height-sample-interval "often"/],
  ] as Array<[string[], NodeJS.ProcessEnv, RegExp]>) {
    const r = run(args, env)
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  }

  const damaged = tempDir('hb-agg-damaged-')
  writeFileSync(join(damaged, 'fleet.sqlite'), 'not a database '.repeat(100))
  const r = run(['--data-dir', damaged])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /cannot open the store .*fleet\.sqlite/)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
})
