// What a build is made from, as one hash: a build whose stamp holds the hash
// of its inputs is current, so `npm pack` (which runs both prepack and
// prepare) builds once, and tests reuse a build until a source changes.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url))

/** Files and folders dist/ is built from (the build scripts are in the list: a change to them is a change to the build). */
export const DIST_INPUTS = [
  'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json',
  'scripts/build.ts', 'scripts/build-inputs.ts', 'shared', 'agent', 'aggregator',
] as const

/** Folders never read as inputs: build outputs inside the source folders. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist'])

function listFiles (root: string, path: string, skip: ReadonlySet<string>, out: string[]): void {
  const full = join(root, path)
  if (!statSync(full).isDirectory()) {
    out.push(path)
    return
  }
  for (const entry of readdirSync(full, { withFileTypes: true })) {
    const child = relative(root, join(full, entry.name))
    if (entry.isDirectory() && (SKIPPED_DIRS.has(entry.name) || skip.has(child))) continue
    listFiles(root, child, skip, out)
  }
}

/**
 * sha256 over the names and contents of every input file, in a stable order,
 * and of `extra` values (a tool's version); `skip` names root-relative folders to leave out.
 */
export function hashInputs (inputs: readonly string[], root: string = REPO_ROOT, extra: string[] = [], skip: ReadonlySet<string> = new Set()): string {
  const files: string[] = []
  for (const input of inputs) listFiles(root, input, skip, files)
  const hash = createHash('sha256')
  for (const file of files.sort()) {
    hash.update(`${file}\0`)
    hash.update(readFileSync(join(root, file)))
    hash.update('\0')
  }
  for (const value of extra) hash.update(`${value}\0`)
  return hash.digest('hex')
}
