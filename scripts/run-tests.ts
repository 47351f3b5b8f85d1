// npm test: type-check, make sure the system tools the tests use are here, then run every test.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { ensureSystemPackages } from './system-deps.ts'

function run (cmd: string, args: string[]): void {
  const result = spawnSync(cmd, args, { stdio: 'inherit' })
  if (result.error !== undefined) console.error(`cannot run ${cmd}: ${result.error.message}`)
  if (result.status !== 0) process.exit(result.status ?? 1)
}

// The TypeScript compiler of this project, whatever PATH holds (npm scripts add node_modules/.bin, plain `node` does not).
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
run(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'])
ensureSystemPackages()
const patterns = process.argv.slice(2)
run(process.execPath, [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=180000',
  ...(patterns.length > 0 ? patterns : ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'bench/**/*.test.ts']),
])
