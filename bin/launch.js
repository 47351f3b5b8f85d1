// A clone's launcher: starts a TypeScript entry point on a Node.js that can run it.
// libp2p 3 needs Node >= 22 and our sources are .ts (run by Node's type
// stripping), so on an older Node (20 ships on many machines) we re-run the
// same command with the Node binary that `npm install` put in node_modules
// (the `node` development dependency). The installed package runs dist/
// instead (agent/main.ts, aggregator/main.ts: no type stripping, no re-run).
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function canRunTypeScript () {
  const [major] = process.versions.node.split('.').map(Number)
  return major >= 22 && Boolean(process.features.typescript)
}

export async function launch (entry) {
  const entryPath = join(root, entry)
  if (canRunTypeScript()) {
    const mod = await import(pathToFileURL(entryPath).href)
    await mod.run()
    return
  }
  const bundled = join(root, 'node_modules', 'node', 'bin', 'node')
  if (!existsSync(bundled)) {
    process.stderr.write(`this program needs Node.js >= 22 (found ${process.version}); run "npm install" in ${root} to get one\n`)
    process.exit(2)
  }
  const child = spawn(bundled, [entryPath, ...process.argv.slice(2)], { stdio: 'inherit' })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2']) {
    process.on(signal, () => { child.kill(signal) })
  }
  child.on('exit', (code, signal) => {
    if (signal !== null) process.kill(process.pid, signal)
    else process.exit(code ?? 1)
  })
}
