// Runs many agents in one process, each with its own libp2p identity, beating
// to one aggregator: the load generator for the fleet-size, detection and
// storm benchmarks and for reconnect tests. Prints READY once every agent has
// sent a beat, then answers STATS with JSON on stdout; exits on EXIT or stdin end.
import { createInterface } from 'node:readline'
import { Agent } from '../../agent/agent.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import { createLogger } from '../../shared/log.ts'
import { parseTarget } from '../../shared/target.ts'

interface SwarmArgs { target: string, count: number, beatPeriodMs: number, reconnectPeriodMs: number, prefix: string, startSpreadMs?: number }
const args = JSON.parse(process.argv[2] ?? '{}') as SwarmArgs
const logger = createLogger({ name: 'swarm', level: 'silent' })
const target = parseTarget(args.target)
const source = new DemoChainSource({ blockTimeMs: 1000 })
const agents: Agent[] = []
const spread = args.startSpreadMs ?? args.beatPeriodMs

for (let i = 0; i < args.count; i++) {
  const agent = await Agent.create({
    services: [{ name: 'primary', targets: [{ target, weight: 100 }], beatPeriodMs: args.beatPeriodMs, reconnectPeriodMs: args.reconnectPeriodMs }],
    source,
    nickname: `${args.prefix}-${i}`,
    logger,
  })
  agents.push(agent)
}
// Start in batches, each spread over one period, and wait until a batch has beaten before the next:
// on a small machine a thousand Noise handshakes at once time out and retry, and the retries feed the storm.
const RAMP_BATCH = 100
const sentOnce = (batch: Agent[]): boolean => batch.every((a) => a.status()[0]!.beatsSent > 0)
for (let start = 0; start < agents.length; start += RAMP_BATCH) {
  const batch = agents.slice(start, start + RAMP_BATCH)
  await Promise.all(batch.map(async (agent, i) => {
    await new Promise((resolve) => setTimeout(resolve, (i / batch.length) * spread))
    await agent.start()
  }))
  while (!sentOnce(batch)) await new Promise((resolve) => setTimeout(resolve, 50))
}
process.stdout.write('READY\n')

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const command = line.trim()
  if (command === 'STATS') {
    const stats = agents.map((a) => ({ peerId: a.peerId, ...a.status()[0]! }))
    process.stdout.write(`STATS ${JSON.stringify({ rssMiB: process.memoryUsage().rss / 2 ** 20, agents: stats })}\n`)
  } else if (command === 'EXIT') {
    void shutdown()
  }
})
rl.on('close', () => { void shutdown() })

let stopping = false
async function shutdown (): Promise<void> {
  if (stopping) return
  stopping = true
  setTimeout(() => { process.exit(0) }, 5000).unref()
  await Promise.all(agents.map(async (a) => { await a.stop().catch(() => {}) }))
  process.exit(0)
}
