import { startAggregatorProcess, startSwarm, stopSwarm } from './fleet-support.ts'
import { rssMiB } from './harness.ts'
const n = Number(process.argv[2] ?? 1000)
const nodeOptions = process.argv[3] ?? ''
const agg = await startAggregatorProcess({ env: { NODE_OPTIONS: nodeOptions, ...(process.env.AGG_MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.AGG_MALLOC_ARENA_MAX } : {}) } })
const pid = agg.process.proc.pid!
const metrics = async () => { const t = await (await fetch(`${agg.url}/metrics`)).text(); return t.split('\n').filter(l => /^nodejs_(heap_size_used|heap_size_total|external_memory)_bytes|^process_resident|^nodejs_heap_space_size_used_bytes/.test(l)).map(l => l.replace(/nodejs_|_bytes/g, '').replace(/ (\d+)$/, (_, v) => ' ' + (Number(v) / 2 ** 20).toFixed(0))).join(' | ') }
console.log('opts', JSON.stringify(nodeOptions), 'idle rss', rssMiB(pid).toFixed(0))
const workers = await startSwarm(agg.multiaddr, n, { beatPeriodMs: 3000, reconnectPeriodMs: 10000 })
for (let i = 0; i < 3; i++) { await new Promise(r => setTimeout(r, 15000)); console.log(n, 'rss', rssMiB(pid).toFixed(0), await metrics()) }
await stopSwarm(workers); await agg.process.stop()
