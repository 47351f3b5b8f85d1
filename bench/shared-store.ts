// Benchmark 7: many aggregators, one fleet. Three aggregators on one PostgreSQL (Debian's, started
// here in a temporary directory, as the tests do) with N simulated agents spread over them: the time
// for a beat to reach every aggregator's live view, the database's write rate, each aggregator's CPU.
//
// The agents are full Agent objects with their own identities (bench/workers/swarm.ts, SWARM_KIND=agent),
// as the figures in docs/BENCHMARKS.md were measured; BENCH_SHARED_KIND=lean runs the lean load generator
// instead, for larger fleets.
import { spawnSync } from 'node:child_process'
import { startPostgres, type PostgresServer } from '../test/support/postgres.ts'
import type { RunningAggregator } from '../test/support/processes.ts'
import { cpuSeconds, percentile, rssMiB, type BenchContext, type BenchResult, type Benchmark } from './harness.ts'
import { fleet, startAggregatorProcess, startSwarm, stopSwarm, swarmStats } from './fleet-support.ts'

const AGGREGATORS = 3
/** The agent's default beat period: a fleet as it runs in practice. */
const BEAT_PERIOD_MS = Number(process.env.BENCH_SHARED_BEAT_MS ?? 3_000)
/** Beats followed per aggregator's own agents (a sample: following all would load the views measured). */
const PROBES_PER_AGGREGATOR = 10
/** Which simulated agents: full ones by default (see above). */
const KIND = process.env.BENCH_SHARED_KIND === 'lean' ? 'lean' as const : 'agent' as const

interface Seen { holder: number, sentAt: number, at: Map<number, number> }

/**
 * Follows one aggregator's live feed (the page's view) and records when each
 * beat (peer, seq) of the probed nodes first shows in it. A feed the
 * aggregator drops (this process fell behind reading it) is opened again;
 * the snapshot a new connection starts with is not a change, so it is skipped.
 */
async function follow (index: number, url: string, probes: ReadonlySet<string>, seen: Map<string, Seen>, holderOf: Map<string, number>, signal: AbortSignal, dropped: { count: number }): Promise<void> {
  const take = (view: any): void => {
    if (!probes.has(view.peerId)) return
    const key = `${view.peerId}#${view.agent?.startedAt}#${view.seq}`
    const at = Date.now()
    let entry = seen.get(key)
    if (entry === undefined) {
      // The agent's send time: the holder's arrival time less the skew it measured (same machine, same clock as here).
      entry = { holder: holderOf.get(view.peerId) ?? -1, sentAt: Date.parse(view.lastSeen) - (view.skewMs ?? 0), at: new Map() }
      seen.set(key, entry)
    }
    if (!entry.at.has(index)) entry.at.set(index, at)
  }
  while (!signal.aborted) {
    try {
      const res = await fetch(`${url}/api/v1/events?batch=1`, { signal, headers: { accept: 'text/event-stream' } })
      const reader = res.body!.getReader()
      const decoder = new TextDecoder()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.+)$/m.exec(message)?.[1]
          if (event !== 'nodes' && event !== 'node') continue
          const data = message.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
          if (event === 'nodes') for (const view of JSON.parse(data) as unknown[]) take(view)
          else take(JSON.parse(data))
        }
      }
    } catch (err) {
      if (signal.aborted) return
      if ((err as { name?: string }).name !== 'TypeError') throw err
    }
    dropped.count++
  }
}

/** Cumulative write counters of the database: transactions, and rows inserted, updated and deleted per table. */
async function dbCounters (server: PostgresServer, database: string): Promise<{ commits: number, tables: Record<string, number> }> {
  // The statistics collector reports with a delay: ask it to publish what it has.
  const [commits] = await server.query<{ n: string }>(database, 'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()')
  const tables = await server.query<{ relname: string, n: string }>(database, 'SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS n FROM pg_stat_user_tables')
  return { commits: Number(commits?.n ?? 0), tables: Object.fromEntries(tables.map((t) => [t.relname, Number(t.n)])) }
}

/** CPU seconds of every process the postgres user runs (the server and its backends). */
function postgresCpuSeconds (): number {
  const r = spawnSync('ps', ['-u', 'postgres', '-o', 'pid='], { encoding: 'utf8' })
  return r.stdout.split('\n').map((l) => Number(l.trim())).filter((p) => p > 0).reduce((sum, pid) => sum + (cpuSeconds(pid) || 0), 0)
}

export const sharedStore: Benchmark = {
  name: 'shared-store',
  description: `${AGGREGATORS} aggregators on one PostgreSQL, N agents spread over them: time to every view, database writes, each aggregator's CPU`,
  async run (ctx: BenchContext): Promise<BenchResult> {
    const agents = ctx.quick ? 30 : Number(process.env.BENCH_SHARED_AGENTS ?? 3_000)
    const windowMs = ctx.quick ? 4_000 : 60_000
    const server = await startPostgres()
    const url = await server.createDatabase('bench')
    const aggregators: RunningAggregator[] = []
    const workers: Awaited<ReturnType<typeof startSwarm>> = []
    const rows: BenchResult['rows'] = []
    const notes: string[] = []
    const data: Record<string, unknown> = {}
    try {
      for (let i = 0; i < AGGREGATORS; i++) aggregators.push(await startAggregatorProcess({ args: ['--store', url] }))
      ctx.log(`shared-store: ${agents} agents over ${AGGREGATORS} aggregators ...`)
      const connectStart = Date.now()
      const holderOf = new Map<string, number>()
      // One demo chain for every worker: the whole fleet agrees on its heads, as one network does.
      const originMs = Date.now()
      for (const [i, a] of aggregators.entries()) {
        const share = Math.floor(agents / AGGREGATORS) + (i < agents % AGGREGATORS ? 1 : 0)
        const started = await startSwarm(a.multiaddr, share, { beatPeriodMs: BEAT_PERIOD_MS, reconnectPeriodMs: 5_000, originMs, kind: KIND })
        workers.push(...started)
        for (const peerId of swarmStats(started).peerIds) holderOf.set(peerId, i)
      }
      const settleStart = Date.now()
      // Every aggregator lists every agent, healthy (all but 1%: on a busy machine a few agents of a thousand per process miss a beat).
      for (const a of aggregators) {
        for (;;) {
          const doc = await fleet(a).catch(() => undefined)
          if (doc === undefined) continue
          if (doc.summary.total === agents && doc.summary.byStatus.healthy >= Math.floor(0.99 * agents)) break
          if (Date.now() - settleStart > 300_000) throw new Error(`${a.url} shows ${doc.summary.total} nodes (${JSON.stringify(doc.summary.byStatus)}) of ${agents}`)
          await new Promise((resolve) => setTimeout(resolve, 500))
        }
      }
      const connectedMs = Date.now() - connectStart
      const probes = new Set<string>()
      for (let i = 0; i < AGGREGATORS; i++) {
        [...holderOf].filter(([, h]) => h === i).slice(0, PROBES_PER_AGGREGATOR).forEach(([p]) => probes.add(p))
      }

      // The window: follow every aggregator's feed, count the database's writes and every process's CPU.
      const seen = new Map<string, Seen>()
      const abort = new AbortController()
      const dropped = { count: 0 }
      const following = aggregators.map(async (a, i) => { await follow(i, a.url, probes, seen, holderOf, abort.signal, dropped) })
      for (const f of following) f.catch((err: unknown) => { ctx.log(`shared-store: a feed failed: ${(err as Error).message}`) })
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      const database = new URL(url).pathname.slice(1)
      const db0 = await dbCounters(server, database)
      const cpu0 = aggregators.map((a) => cpuSeconds(a.process.proc.pid!))
      const pg0 = postgresCpuSeconds()
      const t0 = Date.now()
      await new Promise((resolve) => setTimeout(resolve, windowMs))
      const seconds = (Date.now() - t0) / 1000
      const cpu = aggregators.map((a, i) => ((cpuSeconds(a.process.proc.pid!) - (cpu0[i] ?? 0)) / seconds) * 100)
      const pgCpu = ((postgresCpuSeconds() - pg0) / seconds) * 100
      const db1 = await dbCounters(server, database)
      abort.abort()
      await Promise.allSettled(following)

      // Beats sent inside the window, seen by all three views.
      const toOwn: number[] = []
      const toOthers: number[] = []
      const toEvery: number[] = []
      let missed = 0
      // Beats sent late in the window may not have reached every view by its end: they are left out.
      const tail = Math.min(3_000, windowMs / 2)
      for (const entry of seen.values()) {
        if (entry.sentAt < t0 || entry.sentAt > t0 + windowMs - tail) continue
        if (entry.at.size < AGGREGATORS) { missed++; continue }
        const latencies = [...entry.at].map(([i, at]) => [i, at - entry.sentAt] as const)
        for (const [i, ms] of latencies) (i === entry.holder ? toOwn : toOthers).push(ms)
        toEvery.push(Math.max(...latencies.map(([, ms]) => ms)))
      }
      const rate = (key: string): number => ((db1.tables[key] ?? 0) - (db0.tables[key] ?? 0)) / seconds
      const rowsPerSecond = Object.keys(db1.tables).reduce((sum, k) => sum + rate(k), 0)
      const finals = await Promise.all(aggregators.map(async (a) => await fleet(a)))
      rows.push({
        agents,
        'beat period (s)': BEAT_PERIOD_MS / 1000,
        'connect all (s)': Number((connectedMs / 1000).toFixed(1)),
        'to own view p50 ms': Math.round(percentile(toOwn, 50)),
        'to other views p50 ms': Math.round(percentile(toOthers, 50)),
        'to every view p99 ms': Math.round(percentile(toEvery, 99)),
        'to every view max ms': Math.round(Math.max(...toEvery)),
        'db transactions/s (reads too)': Math.round((db1.commits - db0.commits) / seconds),
        'db rows/s': Math.round(rowsPerSecond),
        'node upserts/s': Math.round(rate('nodes')),
        'agg CPU % (each)': cpu.map((c) => Math.round(c)).join(' / '),
        'agg RSS MiB (each)': aggregators.map((a) => Math.round(rssMiB(a.process.proc.pid!))).join(' / '),
        'postgres CPU %': Math.round(pgCpu),
      })
      if (dropped.count > 0) notes.push(`the aggregators dropped this benchmark's feed ${dropped.count} times (it fell behind reading): it reconnected`)
      notes.push(`${toEvery.length} beats followed to every view (${probes.size} nodes, ${PROBES_PER_AGGREGATOR} per aggregator), ${missed} not seen by every view within the window`)
      notes.push(`every aggregator listed all ${agents}: ${finals.map((f) => `${f.summary.total} (${f.summary.byStatus.healthy} healthy)`).join(', ')}`)
      data.perTable = Object.fromEntries(Object.keys(db1.tables).map((k) => [k, Math.round(rate(k))]))
      data.latencies = { toOwn, toOthers, toEvery }
    } finally {
      await stopSwarm(workers)
      await Promise.all(aggregators.map(async (a) => { await a.process.stop() }))
      await server.close()
    }
    return { name: 'shared-store', params: { agents, aggregators: AGGREGATORS, beatPeriodMs: BEAT_PERIOD_MS, windowMs, kind: KIND }, rows, notes, data }
  },
}
