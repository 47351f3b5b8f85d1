import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ErrorCodes } from '../../shared/errors.ts'
import { MIGRATIONS, migrate, schemaVersion, type Migration } from '../../aggregator/store/migrations.ts'
import { openDatabase } from '../../aggregator/store/sqlite.ts'
import { tempDir } from '../support/processes.ts'

const tables = (db: Awaited<ReturnType<typeof openDatabase>>): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name)

test('a new file gets every migration, in WAL mode, and reopening changes nothing', async () => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const db = await openDatabase(file)
  assert.deepEqual(migrate(db), { from: 0, to: MIGRATIONS.length })
  assert.equal(schemaVersion(db), MIGRATIONS.length)
  assert.deepEqual(tables(db), ['alert_state', 'alerts_resolved', 'height_samples', 'maintenance', 'nodes', 'runs', 'status_changes'])
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal')
  db.prepare("INSERT INTO runs (started_at, last_alive_at) VALUES (1, 2)").run()
  db.close()

  const again = await openDatabase(file)
  assert.deepEqual(migrate(again), { from: MIGRATIONS.length, to: MIGRATIONS.length })
  assert.equal((again.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n, 1, 'data kept')
  again.close()
})

test('an old file is brought forward one step at a time, keeping its data', async () => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const db = await openDatabase(file)
  migrate(db, MIGRATIONS)
  db.prepare("INSERT INTO runs (started_at, last_alive_at) VALUES (10, 20)").run()
  const next: Migration = {
    description: 'test: a column added later',
    up: (d) => { d.exec('ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT \'\'') },
  }
  assert.deepEqual(migrate(db, [...MIGRATIONS, next]), { from: MIGRATIONS.length, to: MIGRATIONS.length + 1 })
  assert.deepEqual({ ...db.prepare('SELECT started_at, note FROM runs').get() }, { started_at: 10, note: '' })
  db.close()
})

test('a failing step leaves the file at the last complete step', async () => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const db = await openDatabase(file)
  const broken: Migration = {
    description: 'test: half done, then fails',
    up: (d) => { d.exec('CREATE TABLE half (x INTEGER)'); throw new Error('boom') },
  }
  assert.throws(() => migrate(db, [...MIGRATIONS, broken]), /boom/)
  assert.equal(schemaVersion(db), MIGRATIONS.length)
  assert.ok(!tables(db).includes('half'), 'the failed step left nothing behind')
  db.close()
})

test('a file from a newer program is refused with a clear error', async () => {
  const file = join(tempDir('hb-store-'), 'fleet.sqlite')
  const db = await openDatabase(file)
  db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 5}`)
  assert.throws(() => migrate(db), (err: any) => err.code === ErrorCodes.STORE_TOO_NEW && /newer than this program/.test(err.message))
  db.close()
})

test('a file that is not a database is a clear store error', async () => {
  const dir = tempDir('hb-store-')
  const file = join(dir, 'fleet.sqlite')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(file, 'this is not sqlite, just some text that is long enough to have a header '.repeat(20))
  await assert.rejects(openDatabase(file), (err: any) => err.code === ErrorCodes.STORE_FAILED && err.message.includes(file))
})
