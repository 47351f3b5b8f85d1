import { startAggregatorProcess, startSwarm, stopSwarm } from './fleet-support.ts'
import { rssMiB } from './harness.ts'
const n = Number(process.argv[2] ?? 1000)
const agg = await startAggregatorProcess({ env: { NODE_OPTIONS: '--heapsnapshot-signal=SIGUSR2' } })
const pid = agg.process.proc.pid!
const workers = await startSwarm(agg.multiaddr, n, { beatPeriodMs: 3000, reconnectPeriodMs: 10000 })
await new Promise(r => setTimeout(r, 10000))
console.log('snap1 rss', rssMiB(pid).toFixed(0)); process.kill(pid, 'SIGUSR2')
await new Promise(r => setTimeout(r, 60000))
console.log('snap2 rss', rssMiB(pid).toFixed(0)); process.kill(pid, 'SIGUSR2')
await new Promise(r => setTimeout(r, 20000))
await stopSwarm(workers); await agg.process.stop()
