// A program with the heartbeat agent inside it (see docs/embedding.md).
// Run: node examples/embedding.ts /ip4/127.0.0.1/tcp/4001/p2p/<aggregator peer id>
import { statfs } from 'node:fs/promises'
import { createHeartbeatAgent, loadOrCreateKey } from 'fil-heartbeat/agent'

const target = process.argv[2]
if (target === undefined) {
  console.error('usage: node examples/embedding.ts AGGREGATOR_MULTIADDR')
  process.exit(2)
}

// Stands in for your node: a chain that grows a block a second.
const startedAt = Date.now()
const chain = {
  height: () => Math.floor((Date.now() - startedAt) / 1000),
  pending: () => chain.height() % 7,
}

// A stable key keeps the node's identity (its peer id) across restarts.
const keyFile = process.env.EXAMPLE_KEY_FILE
const privateKey = keyFile !== undefined ? (await loadOrCreateKey(keyFile)).key : undefined

const agent = await createHeartbeatAgent({
  targets: [target],
  nickname: 'embedded-example',
  beatPeriodMs: 1_000,
  privateKey,
  // Like go-filecoin's HeadGetter: called on the agent's schedule, with a timeout.
  headGetter: () => {
    const height = chain.height()
    return { head: `toy-block-${height}`, height, network: 'toy' }
  },
  minerAddressGetter: () => 'f01234',
  indicators: {
    // A cheap in-memory indicator.
    mempool: () => ({ status: chain.pending() < 5 ? 'ready' : 'affected', details: { pending: chain.pending() } }),
    // One that does I/O: auxiliary, so a full disk makes the node affected, not down.
    disk: {
      level: 'auxiliary',
      intervalMs: 5_000,
      indicator: async () => {
        const fs = await statfs('/')
        const free = fs.bavail / fs.blocks
        return { status: free > 0.05 ? 'ready' : 'not_ready', details: { freePercent: Math.round(free * 100) } }
      },
    },
  },
  // The checks of the config file work here too.
  checks: [{ name: 'shell', kind: 'command', target: 'true', interval: '10s' }],
})
await agent.start()
console.log(`beating to ${target} as ${agent.peerId}`)

// A graceful stop sends a last "stopping" beat: the fleet shows the node as stopped, not dead.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { void agent.stop().then(() => process.exit(0)) })
}
