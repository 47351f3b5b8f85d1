// Many simulated agents in one process, for load and storm tests, each with
// its own identity and its own connection, exactly as separate agents would
// have. Two kinds (SWARM_KIND):
//
//   lean   (default) LeanAgents (lean-agent.ts): real TCP + Noise + Yamux and
//          the real heartbeat protocol without a libp2p node per agent, so
//          thousands fit in one process (bench/fleet-size.ts, bench/storm.ts).
//   agent  the real `Agent` class, one full js-libp2p node each: what the
//          reconnect-storm e2e test checks (the shipped reconnect logic).
//
// Run as a child process (test/support/swarm-worker.ts spawns it):
//
//   node bench/workers/swarm.ts   (settings in SWARM_* environment variables)
//
// It prints one JSON line per report on stdout:
//   {"type":"ready","worker":0,"peerIds":[...]}        (once every agent has sent a beat)
//   {"type":"status","worker":0,"agents":100,"connected":97,"running":100,"connectFailures":12,"beatsSent":4200,...}
// and stops every agent cleanly on SIGTERM (exit 0): each sends its last "stopping" beat.
import type { Agent as AgentType } from '../../agent/agent.ts'
import { LINK_PING_INTERVAL_MS } from '../../agent/constants.ts'
import { parseWeightedTarget } from '../../agent/targets.ts'
import { DEFAULT_CONCURRENT_HANDSHAKES, LeanSwarm } from './lean-swarm.ts'

function numberEnv (name: string, fallback: number, { allowZero = false } = {}): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) throw new Error(`${name} must be a positive number, got "${raw}"`)
  return n
}

const worker = numberEnv('SWARM_WORKER', 1) - 1
const count = numberEnv('SWARM_AGENTS', 50)
const kind = process.env.SWARM_KIND ?? 'lean'
if (kind !== 'lean' && kind !== 'agent') throw new Error(`SWARM_KIND must be lean or agent, got "${kind}"`)
const beatPeriodMs = numberEnv('SWARM_BEAT_MS', 1_000)
const reconnectPeriodMs = numberEnv('SWARM_RECONNECT_MS', 5_000)
const reportMs = numberEnv('SWARM_REPORT_MS', 250)
const targets = (process.env.SWARM_TARGETS ?? '').split(',').filter((t) => t !== '').map((t) => parseWeightedTarget(t))
if (targets.length === 0) throw new Error('SWARM_TARGETS is required (comma-separated [weight=]multiaddr)')
// One origin for every demo chain: the swarm agrees on heads, like nodes of one network.
const originMs = numberEnv('SWARM_ORIGIN_MS', Date.now())

function emit (report: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...report, worker, kind })}\n`)
}

process.on('uncaughtException', (err) => {
  process.stderr.write(`swarm worker ${worker}: ${err.stack ?? err.message}\n`)
  process.exit(1)
})

/** What each kind must provide: start, a status summary, a graceful stop. */
interface Swarm {
  peerIds: () => string[]
  allBeating: () => boolean
  status: () => { agents: number, connected: number, running: number, connectFailures: number, beatsSent: number, errors: Record<string, number>, failures?: Record<string, number> }
  stop: () => Promise<void>
}

async function leanSwarm (): Promise<Swarm> {
  if (targets.length !== 1) throw new Error('SWARM_KIND=lean takes one target')
  const swarm = new LeanSwarm({
    count,
    target: targets[0]!,
    beatPeriodMs,
    reconnectPeriodMs,
    nicknamePrefix: `swarm-${worker}`,
    concurrentHandshakes: numberEnv('SWARM_HANDSHAKES', DEFAULT_CONCURRENT_HANDSHAKES),
    // The real agent pings its link with yamux PINGs (agent/link-watch.ts): so do lean agents, unless told 0.
    linkPingMs: numberEnv('SWARM_LINK_PING_MS', LINK_PING_INTERVAL_MS, { allowZero: true }),
    originMs,
  })
  await swarm.start()
  return {
    peerIds: () => swarm.agents.map((a) => a.peerId),
    allBeating: () => swarm.allBeating,
    status: () => {
      const s = swarm.status()
      return { ...s, running: s.agents }
    },
    stop: async () => { await swarm.stop() },
  }
}

async function agentSwarm (): Promise<Swarm> {
  // Loaded only for this kind: a full node's modules would weigh on every lean worker.
  const { Agent } = await import('../../agent/agent.ts')
  const { DemoChainSource } = await import('../../agent/sources/demo.ts')
  const { createLogger } = await import('../../shared/log.ts')
  const logger = createLogger({ name: 'agent-swarm', level: (process.env.SWARM_LOG_LEVEL as 'silent' | undefined) ?? 'silent' })
  const agents: AgentType[] = []
  for (let i = 0; i < count; i++) {
    agents.push(await Agent.create({
      services: [{ name: 'primary', targets, beatPeriodMs, reconnectPeriodMs }],
      source: new DemoChainSource({ blockTimeMs: 5_000, originMs }),
      nickname: `swarm-${worker}-${i}`,
      logger,
    }))
  }
  // Start in batches spread over one beat period, each batch beating before the next starts: on a small
  // machine a thousand Noise handshakes at once time out and retry, and the retries feed the storm.
  const RAMP_BATCH = 100
  for (let start = 0; start < agents.length; start += RAMP_BATCH) {
    const batch = agents.slice(start, start + RAMP_BATCH)
    await Promise.all(batch.map(async (agent, i) => {
      await new Promise((resolve) => setTimeout(resolve, (i / batch.length) * beatPeriodMs))
      await agent.start()
    }))
    while (!batch.every((a) => a.status().some((s) => s.beatsSent > 0))) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    peerIds: () => agents.map((a) => a.peerId),
    allBeating: () => agents.every((a) => a.status().some((s) => s.beatsSent > 0)),
    status: () => {
      let connected = 0
      let running = 0
      let connectFailures = 0
      let beatsSent = 0
      const errors: Record<string, number> = {}
      for (const agent of agents) {
        for (const s of agent.status()) {
          if (!s.connected && s.lastError !== undefined) {
            // The cause without the address: a short tally of why agents are not connected.
            const cause = s.lastError.replaceAll(s.target, 'TARGET').slice(0, 80)
            errors[cause] = (errors[cause] ?? 0) + 1
          }
          if (s.connected) connected++
          if (s.running) running++
          connectFailures += s.connectFailures
          beatsSent += s.beatsSent
        }
      }
      return { agents: agents.length, connected, running, connectFailures, beatsSent, errors }
    },
    stop: async () => { await Promise.all(agents.map(async (a) => { await a.stop() })) },
  }
}

const startedAt = Date.now()
const swarm = kind === 'lean' ? await leanSwarm() : await agentSwarm()

/** The process that started this worker; when it is gone (even killed with -9) the worker goes too. */
const parentPid = process.ppid

function report (): void {
  if (process.ppid !== parentPid) process.exit(1)
  const cpu = process.cpuUsage()
  emit({ type: 'status', ...swarm.status(), rssBytes: process.memoryUsage().rss, cpuSeconds: (cpu.user + cpu.system) / 1e6 })
}
const reporter = setInterval(report, reportMs)
report()

let stopping = false
process.on('SIGTERM', () => {
  if (stopping) return
  stopping = true
  clearInterval(reporter)
  const deadline = setTimeout(() => { process.exit(0) }, 5_000)
  deadline.unref()
  void swarm.stop().then(() => { process.exit(0) })
})

// Ready once every agent has beaten once (the lean swarm ramps in the background).
while (!swarm.allBeating()) {
  if (stopping) break
  await new Promise((resolve) => setTimeout(resolve, 50))
}
if (!stopping) emit({ type: 'ready', peerIds: swarm.peerIds(), rampMs: Date.now() - startedAt })

