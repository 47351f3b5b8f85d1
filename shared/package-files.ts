// Where the program's own files are (package.json, the fleet page), in each of the
// three ways it runs:
// - from the sources in a clone: .ts files run by Node's type stripping; the
//   code root (the folder holding shared/, agent/, aggregator/) is the repository;
// - from the build (dist/, what `npm install -g` and the image run): compiled .js
//   in the same layout under dist/, so the code root is dist/ and package.json is
//   one level up;
// - as a single executable (Node's SEA): the files are assets inside the
//   executable, under the same code-root-relative names.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getAsset, isSea } from 'node:sea'

/** True in a clone running the .ts sources; false for dist/ and the single executables. */
export const RUNNING_FROM_SOURCES = import.meta.url.endsWith('.ts')

/** True inside a single executable built by `npm run build:binaries`. */
export const IN_SINGLE_EXECUTABLE = isSea()

/** The folder holding shared/, agent/ and aggregator/ (the repository, or dist/). */
export const CODE_ROOT = fileURLToPath(new URL('../', import.meta.url))

/** The folder holding package.json (and .git in a clone). */
export const PACKAGE_ROOT = RUNNING_FROM_SOURCES ? CODE_ROOT : join(CODE_ROOT, '..')

/** Name under which a single executable carries package.json (name and version only). */
export const MANIFEST_ASSET = 'package.json'

/** A file of the program by its code-root-relative path (aggregator/web/index.html): an asset in a single executable, else a file. */
export function readCodeFile (path: string): Buffer {
  if (IN_SINGLE_EXECUTABLE) return Buffer.from(getAsset(path))
  return readFileSync(join(CODE_ROOT, path))
}

export interface PackageManifest {
  name: string
  version: string
}

/** This program's package.json (in a single executable, the copy it carries). */
export function readPackageManifest (): PackageManifest {
  const text = IN_SINGLE_EXECUTABLE ? getAsset(MANIFEST_ASSET, 'utf8') : readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')
  return JSON.parse(text) as PackageManifest
}
