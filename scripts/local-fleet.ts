// npm start: a working local fleet. One aggregator and three demo agents, each
// its own process with its own libp2p identity; prints where to look and how to
// make a node fail. An agent that dies is reported and the fleet goes on (its
// node turns down on the page); the aggregator dying stops everything; Ctrl-C
// stops them all cleanly (agents first, so the page shows them as stopped).
// `npm start -- --chaos` makes a node fail now and then, every way there is.
// PORT and P2P_PORT move the ports, LOCAL_FLEET_DIR the data (default .data/local-fleet).
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatDuration, parsePositiveDuration } from '../shared/duration.ts'
import { errorMessage } from '../shared/errors.ts'
import { seededRandom } from '../shared/random.ts'
import { CHAOS_HOLD_SHARE, chaosPlan, FAULT_SHOWS, type ChaosStep } from './chaos.ts'

const root = fileURLToPath(new URL('../', import.meta.url))
const dataDir = process.env.LOCAL_FLEET_DIR ?? join(root, '.data', 'local-fleet')
const httpPort = process.env.PORT ?? '8080'
const p2pPort = process.env.P2P_PORT ?? '4100'
const nicknames = ['lotus-alpha', 'lotus-bravo', 'lotus-charlie']
/** A fault every this often with --chaos (each shown for CHAOS_HOLD_SHARE of it). */
const DEFAULT_CHAOS_EVERY = '20s'
/** The demo agents' checks run this often, so a flipped check shows within a beat or two. */
const DEMO_CHECK_INTERVAL = '1s'
/** An agent or the aggregator that ignores SIGTERM this long is killed. */
const STOP_DEADLINE_MS = 5_000

let options: { chaos: boolean, seed: number, everyMs: number }
try {
  const { values } = parseArgs({ options: { chaos: { type: 'boolean' }, 'chaos-seed': { type: 'string' }, 'chaos-every': { type: 'string' } } })
  const seed = values['chaos-seed'] === undefined ? Math.floor(Math.random() * 1e6) : Number(values['chaos-seed'])
  if (!Number.isInteger(seed)) throw new Error(`invalid --chaos-seed "${values['chaos-seed'] ?? ''}": expected an integer`)
  options = { chaos: values.chaos === true, seed, everyMs: parsePositiveDuration(values['chaos-every'] ?? DEFAULT_CHAOS_EVERY, '--chaos-every') }
} catch (err) {
  console.error(`npm start: ${errorMessage(err)} (usage: npm start -- [--chaos] [--chaos-every 20s] [--chaos-seed N])`)
  process.exit(2)
}

mkdirSync(dataDir, { recursive: true, mode: 0o700 })

/** One process of the fleet, restartable (chaos restarts the agents it killed). */
interface Member {
  name: string
  bin: string
  args: string[]
  child: ChildProcess
  /** Set when chaos ended the process on purpose: its exit is not news. */
  endedByChaos: boolean
  paused: boolean
}

const members = new Map<string, Member>()
let stopping = false
const logOf = (name: string): string => join(dataDir, `${name}.log`)
const failFile = (name: string, level: 'unhealthy' | 'degraded'): string => join(dataDir, `${name}.${level}`)

function spawnMember (member: Omit<Member, 'child' | 'endedByChaos' | 'paused'>): Member {
  const log = createWriteStream(logOf(member.name), { flags: 'a' })
  const child = spawn(process.execPath, [join(root, 'bin', member.bin), ...member.args], { stdio: ['ignore', 'inherit', 'pipe'] })
  child.stderr?.pipe(log)
  const running: Member = { ...member, child, endedByChaos: false, paused: false }
  child.on('exit', (code, signal) => { onExit(running, child, signal ?? code) })
  members.set(member.name, running)
  return running
}

function onExit (member: Member, child: ChildProcess, why: NodeJS.Signals | number | null): void {
  if (stopping || members.get(member.name)?.child !== child) return
  if (member.name === 'aggregator') {
    console.error(`the aggregator exited (${String(why)}); stopping the agents (see ${logOf('aggregator')})`)
    void stopAll(1)
    return
  }
  if (member.endedByChaos) return
  const after = why === 0 ? 'it announced a stop, so its node shows stopped' : 'its node turns down on the page'
  console.error(`${member.name} exited (${String(why)}); the fleet goes on — ${after} (see ${logOf(member.name)})`)
}

async function exited (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
}

/** SIGTERM, then SIGKILL after the deadline. */
async function terminate (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => { child.kill('SIGKILL') }, STOP_DEADLINE_MS)
  await exited(child)
  clearTimeout(timer)
}

async function stopAll (code: number): Promise<void> {
  if (stopping) return
  stopping = true
  const agents = [...members.values()].filter((m) => m.name !== 'aggregator')
  // A stopped (SIGSTOP) process handles no signal until it runs again.
  for (const agent of agents) if (agent.paused) agent.child.kill('SIGCONT')
  await Promise.all(agents.map(async (a) => { await terminate(a.child) }))
  const aggregator = members.get('aggregator')
  if (aggregator !== undefined) await terminate(aggregator.child)
  clearFailFiles()
  console.log('local fleet stopped')
  process.exit(code)
}
// Ctrl-C, a kill, or the terminal closing: the whole fleet goes, never orphans.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => { void stopAll(0) })

function clearFailFiles (): void {
  for (const name of nicknames) for (const level of ['unhealthy', 'degraded'] as const) rmSync(failFile(name, level), { force: true })
}

/** Resolves with the aggregator's address once it logs that it started; rejects with its own last words if it exits first. */
async function aggregatorStarted (child: ChildProcess): Promise<{ multiaddr: string, url: string }> {
  return await new Promise((resolve, reject) => {
    let buffer = ''
    let said = ''
    child.stderr?.on('data', (d: Buffer) => {
      buffer += d.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as { msg?: string, multiaddrs?: string[], http?: string }
          if (entry.msg === 'heartbeat aggregator started' && entry.multiaddrs?.[0] !== undefined && entry.http !== undefined) {
            resolve({ multiaddr: entry.multiaddrs[0], url: entry.http })
          }
        } catch {
          if (line.trim() !== '') said = line.trim()
        }
      }
    })
    child.on('exit', () => { reject(new Error(`the aggregator did not start${said !== '' ? `: ${said}` : ''} (see ${logOf('aggregator')})`)) })
  })
}

/** Each demo agent's config: two checks a file can fail, so a node can be made unhealthy or degraded by hand or by chaos. */
function agentConfig (name: string): string {
  const file = join(dataDir, `${name}.json`)
  const check = (checkName: string, level: 'core' | 'auxiliary', fails: string): Record<string, string> =>
    ({ name: checkName, kind: 'command', target: `test ! -e ${shellQuote(fails)}`, interval: DEMO_CHECK_INTERVAL, level })
  writeFileSync(file, JSON.stringify({
    checks: [check('disk', 'core', failFile(name, 'unhealthy')), check('market', 'auxiliary', failFile(name, 'degraded'))],
  }, null, 2))
  return file
}

function shellQuote (text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`
}

function pidOf (name: string): number | undefined {
  return members.get(name)?.child.pid
}

clearFailFiles()
const aggregator = spawnMember({
  name: 'aggregator',
  bin: 'heartbeat-aggregator.js',
  args: [
    '--listen', `/ip4/127.0.0.1/tcp/${p2pPort}`, '--http', `127.0.0.1:${httpPort}`, '--data-dir', join(dataDir, 'aggregator'),
    // A local demo on loopback: show component details to everyone (the default shows them to admins only).
    '--details', 'always',
  ],
})
let started: { multiaddr: string, url: string }
try {
  started = await aggregatorStarted(aggregator.child)
} catch (err) {
  console.error(`npm start: ${errorMessage(err)}`)
  stopping = true
  process.exit(1)
}
const { multiaddr, url } = started
for (const nickname of nicknames) {
  spawnMember({
    name: nickname,
    bin: 'heartbeat-agent.js',
    args: [
      '--target', multiaddr, '--nickname', nickname, '--beat-period', '1s', '--reconnect-period', '2s',
      // Said, not defaulted: a demo is asked for here (and a FULLNODE_API_INFO in the shell must not turn it into Lotus).
      '--source', 'demo', '--config', agentConfig(nickname),
      '--key-file', join(dataDir, `${nickname}.key`), '--miner-address', `f0${1000 + nicknames.indexOf(nickname)}`,
    ],
  })
}

const width = Math.max(...nicknames.map((n) => n.length))
console.log(`
Local fleet: one aggregator and ${nicknames.length} demo agents.
  Fleet page:   ${url}/
  Fleet JSON:   ${url}/api/v1/fleet
  Live feed:    ${url}/api/v1/events
  Aggregator:   ${multiaddr} (pid ${String(pidOf('aggregator'))})
  Logs:         ${dataDir}/*.log
Make a node fail (each agent is its own process):
${nicknames.map((n) => `  ${n.padEnd(width)}  kill -STOP ${String(pidOf(n))} to make it stale (kill -CONT ${String(pidOf(n))} brings it back), kill -9 ${String(pidOf(n))} to make it down`).join('\n')}
  touch ${failFile('NAME', 'unhealthy')} (or .degraded) fails a check of that agent; rm it to recover.
${options.chaos ? `Chaos: a fault every ${formatDuration(options.everyMs)} (seed ${options.seed}), each undone before the next.` : '  npm start -- --chaos does all of this now and then.'}
Press Ctrl-C to stop.`)

if (options.chaos) void runChaos()

async function runChaos (): Promise<void> {
  const plan = chaosPlan({ agents: nicknames, everyMs: options.everyMs, holdMs: Math.round(options.everyMs * CHAOS_HOLD_SHARE), random: seededRandom(options.seed) })
  const start = Date.now()
  for (const step of plan) {
    const wait = start + step.at - Date.now()
    if (wait > 0) await new Promise((resolve) => { setTimeout(resolve, wait) })
    if (stopping) return
    await act(step)
  }
}

/** Each fault, done and undone, and the one line that says so. */
async function act (step: ChaosStep): Promise<void> {
  const member = members.get(step.agent)
  if (member === undefined) return
  const { name, child } = member
  const running = child.exitCode === null && child.signalCode === null
  if (step.phase === 'inject' && !running) {
    console.log(`chaos: ${name} is not running; no ${step.fault} this time`)
    return
  }
  const it = `${name} (pid ${String(child.pid)})`
  const shows = `it turns ${FAULT_SHOWS[step.fault]}`
  let line: string
  switch (step.fault) {
    case 'pause':
      member.paused = step.phase === 'inject'
      child.kill(member.paused ? 'SIGSTOP' : 'SIGCONT')
      line = member.paused ? `kill -STOP ${it}: ${shows}` : `kill -CONT ${it}: back to healthy`
      break
    case 'kill':
    case 'stop':
      if (step.phase === 'inject') {
        member.endedByChaos = true
        child.kill(step.fault === 'kill' ? 'SIGKILL' : 'SIGTERM')
        line = step.fault === 'kill' ? `kill -9 ${it}: ${shows}` : `kill -TERM ${it}: it announces a stop, ${shows}`
        break
      }
      if (!member.endedByChaos) return
      await exited(child)
      line = `restarted ${name} (pid ${String(spawnMember({ name, bin: member.bin, args: member.args }).child.pid)}): back to healthy`
      break
    case 'unhealthy':
    case 'degraded': {
      const check = step.fault === 'unhealthy' ? 'core check "disk"' : 'auxiliary check "market"'
      if (step.phase === 'inject') {
        writeFileSync(failFile(name, step.fault), `failed by npm start --chaos at ${new Date().toISOString()}\n`)
        line = `${name}'s ${check} fails: ${shows}`
      } else {
        rmSync(failFile(name, step.fault), { force: true })
        line = `${name}'s ${check} passes again: back to healthy`
      }
      break
    }
  }
  console.log(`chaos: ${line}`)
}
