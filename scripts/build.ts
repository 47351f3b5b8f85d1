// npm run build (also `prepare`, so a clone's `npm install` leaves a build for
// npx, and `prepack`, so a tarball always holds one): dist/ from the same
// sources the clone runs. tsc emits JavaScript, declarations and source maps
// in the sources' layout (dist/shared, dist/agent, dist/aggregator); the
// fleet page's bundle and static files go beside them, so the installed
// aggregator serves the page without esbuild. A dist/ whose stamp matches the
// inputs is left as it is (--force rebuilds anyway).
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { BUNDLED_PAGE_FILES, STATIC_PAGE_FILES } from '../aggregator/web/assets.ts'
import { DIST_INPUTS, hashInputs, REPO_ROOT } from './build-inputs.ts'

export const DIST_DIR = join(REPO_ROOT, 'dist')
const STAMP = join(DIST_DIR, '.build-stamp')

function readStamp (): string | undefined {
  try {
    return readFileSync(STAMP, 'utf8').trim()
  } catch {
    return undefined
  }
}

function sizeOf (dir: string): { files: number, bytes: number } {
  let files = 0
  let bytes = 0
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    files++
    bytes += statSync(join(entry.parentPath, entry.name)).size
  }
  return { files, bytes }
}

/** Builds dist/ unless it is current; returns whether it built. */
export async function buildDist (options: { force?: boolean, log?: (line: string) => void } = {}): Promise<boolean> {
  const log = options.log ?? ((line: string) => { console.log(line) })
  const hash = hashInputs(DIST_INPUTS)
  if (options.force !== true && readStamp() === hash) {
    log('dist/ is current (npm run build -- --force rebuilds it)')
    return false
  }
  const started = Date.now()
  rmSync(DIST_DIR, { recursive: true, force: true })
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const compiled = spawnSync(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
  if (compiled.status !== 0) throw new Error(`tsc failed (exit ${compiled.status ?? compiled.signal})`)

  // The page: bundled where the clone serves it from (rebuilt only when stale), then shipped with its static files.
  const { ensurePageBuilt } = await import('../aggregator/web/build.ts')
  await ensurePageBuilt()
  for (const file of [...STATIC_PAGE_FILES, ...BUNDLED_PAGE_FILES]) {
    mkdirSync(dirname(join(DIST_DIR, file)), { recursive: true })
    copyFileSync(join(REPO_ROOT, file), join(DIST_DIR, file))
  }

  // npm makes bin files executable on install; the image links them onto PATH as they are.
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }
  for (const bin of Object.values(pkg.bin)) chmodSync(join(REPO_ROOT, bin), 0o755)

  writeFileSync(STAMP, `${hash}\n`)
  const { files, bytes } = sizeOf(DIST_DIR)
  log(`dist/ built in ${Date.now() - started} ms: ${files} files, ${(bytes / 1048576).toFixed(1)} MiB`)
  return true
}

if (import.meta.main) await buildDist({ force: process.argv.includes('--force') })
