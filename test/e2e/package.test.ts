// The package as a user gets it: `npm pack`, `npm install -g` of the tarball
// into a fresh prefix, then both programs from the installed copy on Node 22
// and 24 (from the npm registry), `npx -p <tarball>`, the library in a
// TypeScript project, and the one-line refusal on an older Node.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { MIN_NODE_TEXT } from '../../shared/node-version.ts'
import { nodeRuntime, packedPackage, type PackedPackage } from '../support/builds.ts'
import { runInstalledFleet, HEALTHY_WITHIN_MS } from '../support/installed-fleet.ts'
import { fetchJson, ROOT, Spawned, tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string, version: string, bin: Record<string, string> }

function run (command: string, args: string[], options: { env?: NodeJS.ProcessEnv, cwd?: string, timeout?: number } = {}): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(command, args, { cwd: options.cwd ?? tempDir(), env: { ...process.env, ...options.env }, encoding: 'utf8', timeout: options.timeout ?? 120_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** PATH with `dirs` first: an npm install runs on the first `node` it finds. */
const pathWith = (...dirs: string[]): string => [...dirs, process.env.PATH ?? ''].join(delimiter)

describe('the npm package', () => {
  let packed: PackedPackage
  let prefix: string
  let node22: string
  let node24: string
  let node20: string

  before(async () => {
    packed = await packedPackage()
    ;[node20, node22, node24] = await Promise.all([nodeRuntime(20), nodeRuntime(22), nodeRuntime(24)])
    prefix = tempDir('hb-prefix-')
    const install = run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', packed.tarball])
    assert.equal(install.status, 0, `npm install -g: ${install.stdout}${install.stderr}`)
  })
  after(() => { rmSync(prefix, { recursive: true, force: true }) })

  it('the tarball holds the build, the docs and the deploy examples, and no tests, benchmarks, sources or demo keys', () => {
    const listing = run('tar', ['-tzf', packed.tarball])
    assert.equal(listing.status, 0)
    const files = listing.stdout.split('\n').filter((f) => f !== '').map((f) => f.replace(/^package\//, ''))
    for (const wanted of ['package.json', 'README.md', 'LICENSE', 'docs/deployment.md', 'deploy/k8s/aggregator.yaml', 'deploy/systemd/heartbeat-agent.service',
      ...Object.values(PKG.bin), 'dist/agent/index.js', 'dist/agent/index.d.ts', 'dist/agent/index.js.map',
      'dist/aggregator/web/index.html', 'dist/aggregator/web/favicon.svg', 'dist/aggregator/web/dist/app.js', 'dist/aggregator/web/dist/app.css']) {
      assert.ok(files.includes(wanted), `the tarball has ${wanted}`)
    }
    for (const file of files) {
      assert.doesNotMatch(file, /^(test|bench|scripts|examples|shared|agent|aggregator|bin|node_modules)\//, `${file}: development files stay out`)
      assert.doesNotMatch(file, /^deploy\/demo\//, `${file}: no demo keys`)
      assert.ok(!file.endsWith('.ts') || file.endsWith('.d.ts'), `${file}: no TypeScript sources`)
    }
    assert.ok(!files.some((f) => f.endsWith('.key') || f.endsWith('admin-token')), 'no key files at all')
    const manifest = JSON.parse(run('tar', ['-xzOf', packed.tarball, 'package/package.json']).stdout) as Record<string, any>
    assert.equal(manifest.private, undefined, 'publishable')
    assert.equal(manifest.engines.node, `>=${MIN_NODE_TEXT}`)
    for (const tool of ['esbuild', 'uplot', 'typescript', 'node', 'postject']) assert.equal(manifest.dependencies[tool], undefined, `${tool} is a development tool`)
  })

  it('the installed programs answer --help and --version on Node 22 and 24, without the development tools', () => {
    for (const bin of Object.keys(PKG.bin)) {
      for (const node of [node22, node24]) {
        const help = run(join(prefix, 'bin', bin), ['--help'], { env: { PATH: pathWith(node) } })
        assert.equal(help.status, 0, `${bin} --help on ${node}: ${help.stderr}`)
        assert.match(help.stdout, new RegExp(`^Usage: ${bin} `))
        const version = run(join(prefix, 'bin', bin), ['--version'], { env: { PATH: pathWith(node) } })
        assert.equal(version.stdout.trim(), PKG.version)
      }
      // Read by a pager or `head` that stops early: the output just ends.
      const piped = run('/bin/sh', ['-c', `'${join(prefix, 'bin', bin)}' --help | head -n 1`], { env: { PATH: pathWith(node24) } })
      assert.match(piped.stdout, new RegExp(`^Usage: ${bin} \\[options\\]( \\[command\\])?\\n$`), 'exactly the first line')
      assert.equal(piped.stderr, '', 'no EPIPE stack trace')
    }
    // What runs is the build, without its development tools: the page is served from the shipped bundle.
    const installed = realpathSync(join(prefix, 'lib', 'node_modules', PKG.name))
    for (const tool of ['esbuild', 'uplot', 'typescript', 'node', 'postject']) {
      assert.equal(run('test', ['-e', join(installed, 'node_modules', tool)]).status, 1, `${tool} is not installed with the package`)
    }
  })

  for (const major of [22, 24]) {
    it(`an aggregator and an agent from the installed copy on Node ${major}: one healthy node within ${HEALTHY_WITHIN_MS / 1000} s, the page served`, async () => {
      const node = major === 22 ? node22 : node24
      const fleet = await runInstalledFleet({
        aggregator: join(prefix, 'bin', 'heartbeat-aggregator'),
        agent: join(prefix, 'bin', 'heartbeat-agent'),
        env: { PATH: pathWith(node), FIL_HEARTBEAT_ALERTS: '' },
      }, `installed-node${major}`)
      assert.equal(fleet.node.status, 'healthy')
      assert.equal(fleet.aggregatorVersion, PKG.version)
      assert.match(fleet.page.html, /<script[^>]+src="\/assets\/app\.js"/)
      assert.ok(fleet.page.scriptBytes > 10_000, 'the page bundle is served')
      assert.equal(fleet.page.scriptType, 'text/javascript; charset=utf-8')
    })
  }

  it('on Node 20: one line naming the version found, the one needed and how to get it; exit 2, no stack trace', () => {
    for (const bin of Object.keys(PKG.bin)) {
      const r = run(join(prefix, 'bin', bin), ['--help'], { env: { PATH: pathWith(node20) } })
      assert.equal(r.status, 2, `${bin}: ${r.stdout}${r.stderr}`)
      assert.equal(r.stdout, '')
      const lines = r.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 1, r.stderr)
      const line = lines[0] as string
      assert.ok(line.startsWith(`${bin}: needs Node.js >= ${MIN_NODE_TEXT} (found v20.`), line)
      for (const way of ['nvm install 22', 'https://nodejs.org/', `npx -p node@22 ${bin}`]) assert.ok(line.includes(way), `it says ${way}`)
    }
  })

  it('npx -p <tarball> heartbeat-agent works', () => {
    const r = run('npx', ['--yes', '-p', packed.tarball, 'heartbeat-agent', '--version'], { env: { PATH: pathWith(node22) } })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.trim(), PKG.version)
    const help = run('npx', ['--yes', '-p', packed.tarball, 'heartbeat-aggregator', '--help'], { env: { PATH: pathWith(node22) } })
    assert.equal(help.status, 0, help.stderr)
    assert.match(help.stdout, /^Usage: heartbeat-aggregator /)
  })

  it('a TypeScript project imports createHeartbeatAgent from fil-heartbeat/agent with its types, and it runs', async () => {
    const project = tempDir('hb-consumer-')
    mkdirSync(join(project, 'node_modules', '@types'), { recursive: true })
    // The installed copy, as `npm install fil-heartbeat` would place it, and the project's own @types/node.
    symlinkSync(join(prefix, 'lib', 'node_modules', PKG.name), join(project, 'node_modules', PKG.name))
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'))
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, outDir: 'out', types: ['node'], skipLibCheck: true },
      files: ['main.ts'],
    }))
    writeFileSync(join(project, 'main.ts'), `import { createHeartbeatAgent, type HeartbeatAgent, type HeartbeatAgentOptions } from 'fil-heartbeat/agent'

const options: HeartbeatAgentOptions = {
  targets: [process.argv[2] ?? ''],
  nickname: 'ts-consumer',
  beatPeriodMs: 1_000,
  headGetter: () => ({ head: 'bafy-consumer-head', height: 7 }),
}
// @ts-expect-error the package's own types: a head getter is required (were the import untyped, this line would be an error)
const incomplete: HeartbeatAgentOptions = { targets: [] }
void incomplete
const agent: HeartbeatAgent = await createHeartbeatAgent(options)
await agent.start()
console.log(\`beating as \${agent.peerId.toString()}\`)
process.on('SIGTERM', () => { void agent.stop().then(() => { process.exit(0) }) })
`)
    const tsc = run(join(node24, 'node'), [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project })
    assert.equal(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`)
    const resolution = run(join(node24, 'node'), [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, '--noEmit', '--traceResolution'], { cwd: project })
    assert.match(resolution.stdout, /Module name 'fil-heartbeat\/agent' was successfully resolved to '[^']*\/dist\/agent\/index\.d\.ts'/)

    // The compiled program beats to an aggregator from the same installation, on Node 22.
    const env = { PATH: pathWith(node22), FIL_HEARTBEAT_ALERTS: '' }
    const aggregator = new Spawned(join(prefix, 'bin', 'heartbeat-aggregator'), ['--listen', '/ip4/127.0.0.1/tcp/0', '--http', '127.0.0.1:0', '--data-dir', tempDir()], env, { direct: true })
    let consumer: Spawned | undefined
    try {
      const started = await aggregator.waitForLog((l) => l.msg === 'heartbeat aggregator started', 30_000)
      consumer = new Spawned(join(node22, 'node'), [join(project, 'out', 'main.js'), (started.multiaddrs as string[])[0] as string], env, { direct: true })
      const node = await waitFor(async () => (await fetchJson<{ nodes: Array<{ nickname: string, height: number, status: string }> }>(`${started.http as string}/api/v1/fleet`))
        .nodes.find((n) => n.nickname === 'ts-consumer' && n.status === 'healthy'), { timeoutMs: HEALTHY_WITHIN_MS, what: `the consumer to show as healthy (stderr: ${consumer.stderr.slice(-500)})` })
      assert.equal(node.height, 7)
    } finally {
      await consumer?.stop()
      await aggregator.stop()
    }
  })
})
