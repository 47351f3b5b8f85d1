// npm start: a working local fleet. One aggregator and three demo agents, each
// its own process with its own libp2p identity; prints where to look; Ctrl-C
// stops them all cleanly (agents first, so the page shows them as stopped).
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../', import.meta.url))
const dataDir = join(root, '.data', 'local-fleet')
const httpPort = process.env.PORT ?? '8080'
const p2pPort = process.env.P2P_PORT ?? '4100'
const nicknames = ['lotus-alpha', 'lotus-bravo', 'lotus-charlie']
mkdirSync(dataDir, { recursive: true, mode: 0o700 })

const children: ChildProcess[] = []

function start (name: string, bin: string, args: string[]): ChildProcess {
  const log = createWriteStream(join(dataDir, `${name}.log`), { flags: 'a' })
  const child = spawn(process.execPath, [join(root, 'bin', bin), ...args], { stdio: ['ignore', 'inherit', 'pipe'] })
  child.stderr?.pipe(log)
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); see ${join(dataDir, `${name}.log`)}`)
      void stopAll(1)
    }
  })
  children.push(child)
  return child
}

async function aggregatorStarted (child: ChildProcess): Promise<{ multiaddr: string, url: string }> {
  return await new Promise((resolve, reject) => {
    let buffer = ''
    child.stderr?.on('data', (d: Buffer) => {
      buffer += d.toString()
      for (const line of buffer.split('\n')) {
        try {
          const entry = JSON.parse(line) as { msg?: string, multiaddrs?: string[], http?: string }
          if (entry.msg === 'heartbeat aggregator started' && entry.multiaddrs?.[0] !== undefined && entry.http !== undefined) {
            resolve({ multiaddr: entry.multiaddrs[0], url: entry.http })
          }
        } catch { /* not JSON yet */ }
      }
    })
    child.on('exit', () => { reject(new Error(`the aggregator did not start; see ${join(dataDir, 'aggregator.log')}`)) })
  })
}

let stopping = false
async function stopAll (code: number): Promise<void> {
  if (stopping) return
  stopping = true
  const [aggregator, ...agents] = children
  const exited = (c: ChildProcess): Promise<void> => new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve()
    else c.on('exit', () => { resolve() })
  })
  for (const agent of agents) agent.kill('SIGTERM')
  await Promise.all(agents.map(exited))
  aggregator?.kill('SIGTERM')
  if (aggregator !== undefined) await exited(aggregator)
  console.log('local fleet stopped')
  process.exit(code)
}
process.on('SIGINT', () => { void stopAll(0) })
process.on('SIGTERM', () => { void stopAll(0) })

const aggregator = start('aggregator', 'heartbeat-aggregator.js', [
  '--listen', `/ip4/127.0.0.1/tcp/${p2pPort}`, '--http', `127.0.0.1:${httpPort}`, '--data-dir', join(dataDir, 'aggregator'),
  // A local demo on loopback: show component details to everyone (the default shows them to admins only).
  '--details', 'always',
])
const { multiaddr, url } = await aggregatorStarted(aggregator)
for (const nickname of nicknames) {
  start(nickname, 'heartbeat-agent.js', [
    '--target', multiaddr, '--nickname', nickname, '--beat-period', '1s', '--reconnect-period', '2s',
    '--key-file', join(dataDir, `${nickname}.key`), '--miner-address', `f0${1000 + nicknames.indexOf(nickname)}`,
    // Said, not defaulted: a demo is asked for here (and a FULLNODE_API_INFO in the shell must not turn it into Lotus).
    '--source', 'demo',
  ])
}
console.log(`
Local fleet: one aggregator and ${nicknames.length} demo agents.
  Fleet page:   ${url}/
  Fleet JSON:   ${url}/api/v1/fleet
  Live feed:    ${url}/api/v1/events
  Aggregator:   ${multiaddr}
  Logs:         ${dataDir}/*.log
Press Ctrl-C to stop.`)
