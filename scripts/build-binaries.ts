// npm run build:binaries [-- --out DIR]: heartbeat-agent and heartbeat-aggregator
// as single executables for linux-x64 (Node's single executable applications),
// with SHA256SUMS and the licenses of what they contain beside them, in
// binaries/ unless --out says otherwise.
//
// Each program is bundled from its sources by esbuild into one CommonJS file
// (a single executable runs one CommonJS script, whose require() reaches only
// Node's built-in modules); Node turns that file and the program's assets (its
// package.json, the fleet page) into a blob, and postject injects the blob into
// a copy of the Node 24 binary the `node` development dependency installed.
// What cannot be bundled stays out: optional native addons, whose users fall
// back to JavaScript when require() fails (cbor-x's decoder cbor-extract; ws's
// bufferutil and utf-8-validate, optional peers that only the development tree
// installs), and esbuild (the page is prebuilt and carried as assets).
// node:sqlite is built into Node.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { BUNDLED_PAGE_FILES, STATIC_PAGE_FILES } from '../aggregator/web/assets.ts'
import { AGENT_V8_FLAGS } from '../agent/v8-flags.ts'
import { MANIFEST_ASSET } from '../shared/package-files.ts'
import { REPO_ROOT } from './build-inputs.ts'

export const DEFAULT_BINARIES_DIR = join(REPO_ROOT, 'binaries')

/** Node's marker in its binary that postject flips once a blob is injected (fixed by Node, see its SEA docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'
const SEA_RESOURCE = 'NODE_SEA_BLOB'

/** Modules that stay out of the bundle: optional native addons (each with a JavaScript fallback) and a build tool never called at run time. */
const NOT_BUNDLED = ['cbor-extract', 'bufferutil', 'utf-8-validate', 'esbuild']

interface Program {
  name: 'heartbeat-agent' | 'heartbeat-aggregator'
  entry: string
  /** Code-root-relative files carried as assets, besides the manifest. */
  assets: readonly string[]
  /** V8 flags the executable starts with (its execArgv); its code cache is made under the same ones, or V8 would reject it. */
  v8Flags: readonly string[]
}

export const PROGRAMS: readonly Program[] = [
  { name: 'heartbeat-agent', entry: 'agent/main.ts', assets: [], v8Flags: AGENT_V8_FLAGS },
  { name: 'heartbeat-aggregator', entry: 'aggregator/main.ts', assets: [...STATIC_PAGE_FILES, ...BUNDLED_PAGE_FILES], v8Flags: [] },
]

export interface BuiltBinary {
  name: string
  path: string
  bytes: number
  sha256: string
}

export interface BinariesResult {
  dir: string
  binaries: BuiltBinary[]
  ms: number
}

/** The Node binary the `node` development dependency installed: the runtime every single executable is made of. */
export function bundledNodeBinary (): string {
  const pkg = createRequire(import.meta.url).resolve('node/package.json')
  const binary = join(dirname(pkg), 'bin', 'node')
  if (!existsSync(binary)) throw new Error(`no Node binary at ${binary}: run npm install (the "node" development dependency brings it)`)
  return binary
}

/** Runs a build step quietly (postject's ELF library warns about notes it does not know); its output is shown when it fails. */
function run (command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${[command, ...args].join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`)
}

function sha256 (path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** The packages a bundle took code from, with their license texts, for the LICENSES file shipped beside the binaries. */
function thirdPartyNotices (inputs: string[]): string {
  const packages = new Map<string, string>()
  for (const input of inputs) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (match !== null) packages.set(resolve(REPO_ROOT, match[1] as string), match[1] as string)
  }
  const sections: string[] = []
  for (const dir of [...packages.keys()].sort()) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string, version: string, license?: string }
    const licenseFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f))
    const text = licenseFile === undefined ? `(no license file; package.json says ${pkg.license ?? 'nothing'})` : readFileSync(join(dir, licenseFile), 'utf8').trim()
    sections.push(`${pkg.name}@${pkg.version} (${pkg.license ?? 'unknown'})\n\n${text}`)
  }
  return sections.join(`\n\n${'-'.repeat(72)}\n\n`)
}

/** Bundles one program into a single CommonJS file; returns the bundle's path and the files it was made of. */
async function bundle (program: Program, workDir: string): Promise<{ file: string, inputs: string[] }> {
  const esbuild = await import('esbuild')
  const file = join(workDir, `${program.name}.cjs`)
  const result = await esbuild.build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [join(REPO_ROOT, program.entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true,
    // Error classes are named (err.name), and some code reads constructor names.
    keepNames: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    external: NOT_BUNDLED,
    // A CommonJS bundle has no import.meta: the file's URL is the executable's; it is never the main module.
    define: { 'import.meta.url': '__heartbeat_module_url', 'import.meta.main': 'false' },
    banner: { js: 'var __heartbeat_module_url = require("node:url").pathToFileURL(__filename).href;' },
  })
  await esbuild.stop()
  return { file, inputs: Object.keys(result.metafile.inputs) }
}

/** Builds both single executables into `outDir`, with SHA256SUMS and THIRD-PARTY-LICENSES.txt. */
export async function buildBinaries (options: { outDir?: string, log?: (line: string) => void } = {}): Promise<BinariesResult> {
  const outDir = resolve(options.outDir ?? DEFAULT_BINARIES_DIR)
  const log = options.log ?? ((line: string) => { console.log(line) })
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`single executables are built for linux-x64 only (this is ${process.platform}-${process.arch})`)
  const started = Date.now()
  const node = bundledNodeBinary()
  const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  const workDir = join(outDir, '.work')
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(workDir, { recursive: true })

  // The page is carried prebuilt: bundle it where the clone serves it from (rebuilt only when stale).
  const { ensurePageBuilt } = await import('../aggregator/web/build.ts')
  await ensurePageBuilt()
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string, version: string }
  const manifest = join(workDir, MANIFEST_ASSET)
  writeFileSync(manifest, `${JSON.stringify({ name: pkg.name, version: pkg.version })}\n`)

  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js')
  const binaries: BuiltBinary[] = []
  const allInputs = new Set<string>()
  for (const program of PROGRAMS) {
    const { file, inputs } = await bundle(program, workDir)
    for (const input of inputs) allInputs.add(input)
    const blob = join(workDir, `${program.name}.blob`)
    const seaConfig = join(workDir, `${program.name}.sea.json`)
    const assets: Record<string, string> = { [MANIFEST_ASSET]: manifest }
    for (const asset of program.assets) assets[asset] = join(REPO_ROOT, asset)
    writeFileSync(seaConfig, JSON.stringify({
      main: file, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, execArgv: program.v8Flags, assets,
    }, null, 2))
    run(node, [...program.v8Flags, '--experimental-sea-config', seaConfig], workDir)
    const injected = join(workDir, program.name)
    copyFileSync(node, injected)
    run(node, [postject, injected, SEA_RESOURCE, blob, '--sentinel-fuse', SEA_FUSE], workDir)
    // Copied, not moved: postject writes the executable in one 130 MB write, which leaves it in the page
    // cache as large folios that every later run maps whole (about 20 MiB more resident memory, measured,
    // until the kernel evicts them). A copy is cached as a downloaded file is.
    const binary = join(outDir, program.name)
    copyFileSync(injected, binary)
    chmodSync(binary, 0o755)
    // A single executable that cannot say its version is broken: check before anyone downloads it.
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8', env: { PATH: '' } }).trim()
    if (version !== pkg.version) throw new Error(`${program.name} --version printed "${version}", expected ${pkg.version}`)
    binaries.push({ name: program.name, path: binary, bytes: statSync(binary).size, sha256: sha256(binary) })
    log(`${program.name}: ${(statSync(binary).size / 1048576).toFixed(1)} MiB (bundle ${(statSync(file).size / 1024).toFixed(0)} KiB, ${inputs.length} modules)`)
  }
  writeFileSync(join(outDir, 'SHA256SUMS'), binaries.map((b) => `${b.sha256}  ${b.name}\n`).join(''))
  writeFileSync(join(outDir, 'THIRD-PARTY-LICENSES.txt'),
    `The single executables ${PROGRAMS.map((p) => p.name).join(' and ')} ${pkg.version} contain Node.js ${nodeVersion} ` +
    `(https://github.com/nodejs/node/blob/${nodeVersion}/LICENSE) and code from these packages:\n\n${thirdPartyNotices([...allInputs])}\n`)
  rmSync(workDir, { recursive: true, force: true })
  const ms = Date.now() - started
  log(`binaries for linux-x64 on Node.js ${nodeVersion} in ${relative(process.cwd(), outDir) || '.'}/ (${(ms / 1000).toFixed(1)} s)`)
  return { dir: outDir, binaries, ms }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } })
  await buildBinaries(values.out !== undefined ? { outDir: values.out } : {})
}
