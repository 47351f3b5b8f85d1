// The single executables (`npm run build:binaries`) as an operator installs
// them: one file each, run with no Node.js on PATH, checksums beside them.
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { builtBinaries } from '../support/builds.ts'
import { FakeLotus, LOTUS_TOKEN } from '../support/fake-lotus.ts'
import { runInstalledFleet, HEALTHY_WITHIN_MS } from '../support/installed-fleet.ts'
import { ROOT, tempDir } from '../support/processes.ts'

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

describe('the single executables', () => {
  let dir: string
  /** An empty folder as the whole PATH: no node, no npm, nothing to fall back on. */
  const noNode: NodeJS.ProcessEnv = { PATH: tempDir('hb-empty-path-'), FIL_HEARTBEAT_ALERTS: '', NODE_OPTIONS: '' }

  before(async () => { dir = await builtBinaries() })

  it('are single files with their SHA256SUMS and the licenses of what they hold', () => {
    for (const name of ['heartbeat-agent', 'heartbeat-aggregator']) {
      const mode = statSync(join(dir, name)).mode
      assert.ok((mode & 0o111) !== 0, `${name} is executable`)
    }
    const sums = spawnSync('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' })
    assert.equal(sums.status, 0, sums.stdout + sums.stderr)
    assert.deepEqual(sums.stdout.trim().split('\n').sort(), ['heartbeat-agent: OK', 'heartbeat-aggregator: OK'])
    const licenses = readFileSync(join(dir, 'THIRD-PARTY-LICENSES.txt'), 'utf8')
    for (const bundled of ['libp2p@', 'fastify@', 'cbor-x@', 'Node.js v24.']) assert.ok(licenses.includes(bundled), `the licenses name ${bundled}`)
  })

  it('run with no node on PATH: --help and --version', () => {
    assert.notEqual(spawnSync('/bin/sh', ['-c', 'command -v node'], { env: noNode }).status, 0, 'there really is no node on PATH')
    for (const name of ['heartbeat-agent', 'heartbeat-aggregator']) {
      const help = spawnSync(join(dir, name), ['--help'], { env: noNode, encoding: 'utf8', timeout: 30_000 })
      assert.equal(help.status, 0, help.stderr)
      assert.match(help.stdout, new RegExp(`^Usage: ${name} `))
      assert.equal(help.stderr, '', 'no warnings (experimental SEA, sqlite)')
      const version = spawnSync(join(dir, name), ['--version'], { env: noNode, encoding: 'utf8', timeout: 30_000 })
      assert.equal(version.stdout.trim(), VERSION)
    }
  })

  it(`a fleet of the two with no node on PATH: one healthy node within ${HEALTHY_WITHIN_MS / 1000} s, the page from the executable's own assets`, async () => {
    const fleet = await runInstalledFleet({ aggregator: join(dir, 'heartbeat-aggregator'), agent: join(dir, 'heartbeat-agent'), env: noNode }, 'single-executable')
    assert.equal(fleet.node.status, 'healthy')
    assert.equal(fleet.aggregatorVersion, VERSION)
    assert.match(fleet.page.html, /<script[^>]+src="\/assets\/app\.js"/)
    assert.equal(fleet.page.scriptBytes, statSync(join(ROOT, 'aggregator', 'web', 'dist', 'app.js')).size, 'the page bundle built with them')
    assert.equal(fleet.page.scriptType, 'text/javascript; charset=utf-8')
  })

  it('the agent reads Lotus over websocket (ws, zod and the lotus source inside the executable)', async () => {
    const lotus = new FakeLotus()
    await lotus.start()
    try {
      const fleet = await runInstalledFleet({ aggregator: join(dir, 'heartbeat-aggregator'), agent: join(dir, 'heartbeat-agent'), env: noNode }, 'single-executable-lotus', {
        args: ['--source', 'lotus'],
        env: { FULLNODE_API_INFO: `${LOTUS_TOKEN}:/ip4/127.0.0.1/tcp/${lotus.server.port}/ws` },
        expect: (node) => node.height === lotus.height,
      })
      assert.equal(fleet.node.network, lotus.genesis)
      assert.ok(lotus.upgrades > 0, 'it spoke websocket')
    } finally {
      await lotus.close()
    }
  })

  it('bad input is still exit 2 with one line', () => {
    const r = spawnSync(join(dir, 'heartbeat-agent'), ['--key-file', join(tempDir(), 'k')], { env: noNode, encoding: 'utf8', timeout: 30_000 })
    assert.equal(r.status, 2)
    assert.match(r.stderr, /^heartbeat-agent: no heartbeat target/)
    assert.equal(r.stderr.trimEnd().split('\n').length, 1)
  })
})
