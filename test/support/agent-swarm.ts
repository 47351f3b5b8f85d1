// Many agents in one process, for load and storm tests: each Agent has its
// own libp2p host and its own identity, exactly as separate agents would,
// but they share one Node.js process so a test can run hundreds on a small
// machine. Run as a child process:
//
//   node test/support/agent-swarm.ts   (settings in SWARM_* environment variables)
//
// It prints one JSON line per report on stdout:
//   {"type":"ready","worker":0,"peerIds":[...]}        (once every agent has sent a beat)
//   {"type":"status","worker":0,"agents":100,"connected":97,"running":100,"connectFailures":12,"beatsSent":4200}
// and stops every agent cleanly on SIGTERM (exit 0). Any unexpected error exits 1.
import { Agent } from '../../agent/agent.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import { parseWeightedTarget } from '../../agent/targets.ts'
import { createLogger } from '../../shared/log.ts'

function numberEnv (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`)
  return n
}

const worker = numberEnv('SWARM_WORKER', 1) - 1
const count = numberEnv('SWARM_AGENTS', 50)
const beatPeriodMs = numberEnv('SWARM_BEAT_MS', 1_000)
const reconnectPeriodMs = numberEnv('SWARM_RECONNECT_MS', 5_000)
const reportMs = numberEnv('SWARM_REPORT_MS', 250)
const targets = (process.env.SWARM_TARGETS ?? '').split(',').filter((t) => t !== '').map((t) => parseWeightedTarget(t))
if (targets.length === 0) throw new Error('SWARM_TARGETS is required (comma-separated [weight=]multiaddr)')

function emit (report: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...report, worker })}\n`)
}

process.on('uncaughtException', (err) => {
  process.stderr.write(`agent-swarm worker ${worker}: ${err.stack ?? err.message}\n`)
  process.exit(1)
})

// One origin for every demo chain: the swarm agrees on heads, like nodes of one network (SWARM_ORIGIN_MS: one for several workers).
const originMs = numberEnv('SWARM_ORIGIN_MS', Date.now())
const logger = createLogger({ name: 'agent-swarm', level: (process.env.SWARM_LOG_LEVEL as 'silent' | undefined) ?? 'silent' })
const agents: Agent[] = []
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
emit({ type: 'ready', peerIds: agents.map((a) => a.peerId) })

function report (): void {
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
  emit({ type: 'status', agents: agents.length, connected, running, connectFailures, beatsSent, rssBytes: process.memoryUsage().rss, errors })
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
  void Promise.all(agents.map(async (a) => { await a.stop() })).then(() => { process.exit(0) })
})
