// Run by `npm install` / `npm ci` in a checkout (the "prepare" script, which npm
// does not run when the package itself is installed from a tarball or the
// registry): applies patches/*.patch to node_modules with patch-package (see
// patches/README.md for what each patch does and why). Plain JavaScript so it
// runs on whatever Node npm starts it with; already applied patches are kept.
//
// patch-package is a devDependency. Without it (an install that omits them) the
// install is not failed, but it says so, because the programs then run on the
// unpatched dependencies (correct, only costlier). A patch that no longer
// applies (an upgraded dependency) fails the install.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
let cli
try {
  cli = require.resolve('patch-package/index.js')
} catch {
  process.stderr.write('fil-heartbeat: patch-package is not installed, so patches/ was not applied (see patches/README.md)\n')
  process.exit(0)
}
const result = spawnSync(process.execPath, [cli, '--error-on-fail'], { stdio: 'inherit' })
process.exit(result.status ?? 1)
