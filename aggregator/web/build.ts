// Builds the fleet page (aggregator/web/src -> aggregator/web/dist) with
// esbuild. Run by `npm install` and `npm run build` (scripts/build.ts, which
// ships the bundle in dist/) and, in a clone, by the aggregator on start when
// the bundle is missing or older than its sources, so a clone always serves a
// current page. An installed package or a single executable serves the bundle
// it ships and never needs esbuild.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BUNDLE_FILES } from './assets.ts'

export { BUNDLE_FILES }

/** aggregator/web: index.html, style.css, favicon.svg, src/ (browser TypeScript), dist/ (built). */
export const WEB_ROOT = dirname(fileURLToPath(import.meta.url))
export const DIST_DIR = join(WEB_ROOT, 'dist')
const REPO_ROOT = resolve(WEB_ROOT, '..', '..')
const BUILD_SCRIPT = fileURLToPath(import.meta.url)

/** Browsers the bundle targets: anything an operator runs today (ES2022: class fields, top-level await not used). */
const BROWSER_TARGET = ['es2022', 'chrome100', 'firefox100', 'safari15']

export interface BuildMeta {
  /** When the build started (ms): a source changed after this makes the bundle stale. */
  builtAt: number
  /** Every file the bundle was made from, relative to the repository root. */
  inputs: string[]
}

export interface BuildResult {
  ms: number
  bytes: { script: number, style: number }
}

export type Freshness = { fresh: true } | { fresh: false, reason: string }

/** Builds running in this process; esbuild's helper process is stopped when the last one ends. */
let buildsInFlight = 0

/** Bundles the page into `outDir` (default dist/), each file written atomically (temp file + rename). */
export async function buildPage (outDir: string = DIST_DIR): Promise<BuildResult> {
  const esbuild = await import('esbuild')
  buildsInFlight++
  try {
    return await bundle(esbuild, outDir)
  } finally {
    // esbuild keeps a helper process for later builds; an aggregator builds once, so let it go.
    if (--buildsInFlight === 0) await esbuild.stop()
  }
}

async function bundle (esbuild: typeof import('esbuild'), outDir: string): Promise<BuildResult> {
  const started = Date.now()
  const common = {
    absWorkingDir: REPO_ROOT,
    bundle: true,
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
    target: BROWSER_TARGET,
  } as const
  const [script, style] = await Promise.all([
    esbuild.build({ ...common, entryPoints: [join(WEB_ROOT, 'src', 'main.ts')], outfile: join(outDir, BUNDLE_FILES.script), format: 'iife', platform: 'browser' }),
    esbuild.build({ ...common, entryPoints: [join(WEB_ROOT, 'style.css')], outfile: join(outDir, BUNDLE_FILES.style) }),
  ])
  const scriptText = script.outputFiles[0]?.contents
  const styleText = style.outputFiles[0]?.contents
  if (scriptText === undefined || styleText === undefined) throw new Error('esbuild produced no output')
  const inputs = [...new Set([
    ...Object.keys(script.metafile.inputs),
    ...Object.keys(style.metafile.inputs),
    relative(REPO_ROOT, BUILD_SCRIPT),
  ])].sort()
  const meta: BuildMeta = { builtAt: started, inputs }
  await mkdir(outDir, { recursive: true })
  await writeAtomically(join(outDir, BUNDLE_FILES.script), scriptText)
  await writeAtomically(join(outDir, BUNDLE_FILES.style), styleText)
  // The meta file last: it vouches for the two files above.
  await writeAtomically(join(outDir, BUNDLE_FILES.meta), JSON.stringify(meta, null, 2) + '\n')
  return { ms: Date.now() - started, bytes: { script: scriptText.byteLength, style: styleText.byteLength } }
}

/** Whether dist/ holds a bundle made from the sources as they are now. */
export async function pageFreshness (outDir: string = DIST_DIR): Promise<Freshness> {
  let meta: BuildMeta
  try {
    meta = JSON.parse(await readFile(join(outDir, BUNDLE_FILES.meta), 'utf8')) as BuildMeta
    await stat(join(outDir, BUNDLE_FILES.script))
    await stat(join(outDir, BUNDLE_FILES.style))
  } catch {
    return { fresh: false, reason: 'no bundle yet' }
  }
  if (typeof meta.builtAt !== 'number' || !Array.isArray(meta.inputs)) return { fresh: false, reason: 'unreadable build metadata' }
  for (const input of [...meta.inputs, relative(REPO_ROOT, BUILD_SCRIPT)]) {
    try {
      const { mtimeMs } = await stat(join(REPO_ROOT, input))
      if (mtimeMs >= meta.builtAt) return { fresh: false, reason: `${input} changed since the last build` }
    } catch {
      return { fresh: false, reason: `${input} is gone` }
    }
  }
  return { fresh: true }
}

export type EnsureResult = { rebuilt: false } | { rebuilt: true, reason: string, result: BuildResult }

/** Builds the page unless dist/ is already current. */
export async function ensurePageBuilt (outDir: string = DIST_DIR): Promise<EnsureResult> {
  const freshness = await pageFreshness(outDir)
  if (freshness.fresh) return { rebuilt: false }
  return { rebuilt: true, reason: freshness.reason, result: await buildPage(outDir) }
}

async function writeAtomically (path: string, contents: Uint8Array | string): Promise<void> {
  // Several aggregators may start at once (tests do): each writes its own temp file, the rename is atomic.
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(temp, contents)
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}
