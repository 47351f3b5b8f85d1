// Builds the installation tests and the agent benchmark share: the package as
// `npm pack` makes it, the single executables, and Node.js runtimes from the
// npm registry. Each is made once per content of its inputs, under a lock (test
// files run in parallel), in test-artifacts/builds/, and reused by every test
// file and every later run until an input changes.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { DIST_INPUTS, hashInputs } from '../../scripts/build-inputs.ts'
import { ROOT } from './processes.ts'

export const BUILDS_DIR = join(ROOT, 'test-artifacts', 'builds')
/** How often a caller waiting for another's build looks again. */
const LOCK_POLL_MS = 200
/** Builds take well under this on a busy 2-core machine: a lock older than it belongs to nobody (its owner's pid may be reused). */
const LOCK_STALE_MS = 10 * 60_000

/** A superseded build younger than this is kept (see `once`). */
const KEEP_RECENT_BUILDS_MS = 30 * 60_000

/** Working-tree paths a packed copy never needs (outputs, local state, the repository itself). */
const NOT_COPIED = new Set(['.git', 'node_modules', 'dist', 'binaries', 'test-artifacts', '.data', 'heartbeat-data', 'bench/results'])

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Runs `build` once per `key` in `dir`; concurrent callers wait for the first and share its result. */
async function once (name: string, key: string, build: (dir: string) => void): Promise<string> {
  mkdirSync(BUILDS_DIR, { recursive: true })
  const dir = join(BUILDS_DIR, `${name}-${key.slice(0, 16)}`)
  const done = join(dir, '.complete')
  const lock = join(BUILDS_DIR, `${name}.lock`)
  for (;;) {
    if (existsSync(done)) return dir
    try {
      mkdirSync(lock)
      writeFileSync(join(lock, 'owner'), `${process.pid} ${Date.now()}`)
      break
    } catch {
      const [pid, since] = (readFileSyncOr(join(lock, 'owner')) ?? '').split(' ').map(Number)
      if ((pid !== undefined && pid > 0 && !pidAlive(pid)) || (since !== undefined && Date.now() - since > LOCK_STALE_MS)) rmSync(lock, { recursive: true, force: true })
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS))
    }
  }
  try {
    if (existsSync(done)) return dir
    // Older builds of the same kind are out of date. One made in the last little while may still be in use
    // by a test file that started before a source changed: those stay until a later build.
    for (const entry of readdirSync(BUILDS_DIR)) {
      const old = join(BUILDS_DIR, entry)
      if (entry.startsWith(`${name}-`) && Date.now() - statSync(old).mtimeMs > KEEP_RECENT_BUILDS_MS) rmSync(old, { recursive: true, force: true })
    }
    mkdirSync(dir, { recursive: true })
    build(dir)
    writeFileSync(done, `${new Date().toISOString()}\n`)
    return dir
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

function readFileSyncOr (path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

function run (command: string, args: string[], options: { cwd: string, env?: NodeJS.ProcessEnv }): string {
  const result = spawnSync(command, args, { cwd: options.cwd, encoding: 'utf8', env: { ...process.env, ...options.env }, timeout: 300_000 })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}) in ${options.cwd}:\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

/** The working tree's entries that a copy holds (what `npm pack` could see). */
function workingTreeEntries (): string[] {
  return readdirSync(ROOT).filter((entry) => !NOT_COPIED.has(entry) && !entry.endsWith('.tgz'))
}

export interface PackedPackage {
  /** A copy of the working tree where `npm pack` ran: its dist/ is the packed build. */
  stage: string
  /** The tarball `npm pack` wrote. */
  tarball: string
}

/**
 * The package as `npm pack` makes it, from a copy of the working tree (so a
 * build never changes files another test is running): its prepack script
 * builds dist/, its files list decides what goes in.
 */
export async function packedPackage (): Promise<PackedPackage> {
  const entries = workingTreeEntries()
  const dir = await once('package', hashInputs(entries, ROOT, [], NOT_COPIED), (dir) => {
    const stage = join(dir, 'stage')
    for (const entry of entries) {
      cpSync(join(ROOT, entry), join(stage, entry), { recursive: true, filter: (src) => !NOT_COPIED.has(relative(ROOT, src)) })
    }
    symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'))
    run('npm', ['pack', '--pack-destination', dir, '--no-audit', '--no-fund'], { cwd: stage })
  })
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))
  if (tarball === undefined) throw new Error(`npm pack left no tarball in ${dir}`)
  return { stage: join(dir, 'stage'), tarball: join(dir, tarball) }
}

/** The single executables (`npm run build:binaries`), with SHA256SUMS beside them. */
export async function builtBinaries (): Promise<string> {
  const node = join(ROOT, 'node_modules', 'node', 'bin', 'node')
  const key = hashInputs([...DIST_INPUTS, 'scripts/build-binaries.ts'], ROOT, [run(node, ['--version'], { cwd: ROOT })])
  return await once('binaries', key, (dir) => {
    run(node, [join(ROOT, 'scripts', 'build-binaries.ts'), '--out', join(dir, 'out')], { cwd: ROOT })
  }).then((dir) => join(dir, 'out'))
}

/**
 * A Node.js of the given major version from the npm registry (package `node`),
 * as a folder to put first on PATH. Node 24 is the one the project's own
 * `node` development dependency installed.
 */
export async function nodeRuntime (major: number): Promise<string> {
  const own = join(ROOT, 'node_modules', 'node')
  if (JSON.parse(readFileSync(join(own, 'package.json'), 'utf8')).version.startsWith(`${major}.`)) return join(own, 'bin')
  const dir = await once(`node${major}`, `v${major}`, (dir) => {
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ private: true, allowScripts: { node: true } })}\n`)
    run('npm', ['install', '--no-audit', '--no-fund', '--no-save', `node@${major}`], { cwd: dir })
  })
  const bin = join(dir, 'node_modules', 'node', 'bin')
  const version = run(join(bin, 'node'), ['--version'], { cwd: dir }).trim()
  if (!version.startsWith(`v${major}.`)) throw new Error(`node@${major} from the registry says it is ${version}`)
  return bin
}
