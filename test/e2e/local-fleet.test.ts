import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { FAULT_SHOWS, FAULTS } from '../../scripts/chaos.ts'
import { NODE_STATUSES } from '../../aggregator/fleet/types.ts'
import { freePort } from '../support/ports.ts'
import { fetchJson, ROOT, tempDir } from '../support/processes.ts'
import { waitFor } from '../support/wait.ts'

const NICKNAMES = ['lotus-alpha', 'lotus-bravo', 'lotus-charlie']

/** `npm start` (scripts/local-fleet.ts) on free ports and its own data dir; its output kept. */
class LocalFleet {
  readonly proc: ChildProcess
  readonly url: string
  out = ''
  readonly exited: Promise<number | null>

  constructor (httpPort: number, p2pPort: number, args: string[] = []) {
    this.url = `http://127.0.0.1:${httpPort}`
    this.proc = spawn(process.execPath, [join(ROOT, 'scripts', 'local-fleet.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(httpPort), P2P_PORT: String(p2pPort), LOCAL_FLEET_DIR: tempDir('hb-local-fleet-') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.proc.stdout?.on('data', (d: Buffer) => { this.out += d.toString() })
    this.proc.stderr?.on('data', (d: Buffer) => { this.out += d.toString() })
    this.exited = new Promise((resolve) => { this.proc.on('exit', (code) => { resolve(code) }) })
  }

  static async start (args: string[] = []): Promise<LocalFleet> {
    const fleet = new LocalFleet(await freePort(), await freePort(), args)
    await fleet.said(/Press Ctrl-C to stop\./, 30_000)
    return fleet
  }

  async said (line: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    return await waitFor(() => line.exec(this.out) ?? undefined, { timeoutMs, what: `${String(line)} in:\n${this.out}` })
  }

  /** The pids it printed for "kill -STOP <pid> to make it stale". */
  pids (): Map<string, number> {
    return new Map([...this.out.matchAll(/^ {2}(lotus-\w+) +kill -STOP (\d+) to make it stale/gm)].map((m) => [m[1]!, Number(m[2])]))
  }

  async statuses (): Promise<Map<string, string>> {
    const fleet = await fetchJson(`${this.url}/api/v1/fleet`)
    return new Map((fleet.nodes as Array<{ nickname: string, status: string }>).map((n) => [n.nickname, n.status]))
  }

  async stop (): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGINT')
    return await this.exited
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('npm start', () => {
  it('survives a kill -9 of one agent: it says so, the others stay healthy, the killed one turns down; Ctrl-C stops all', async (t) => {
    const fleet = await LocalFleet.start()
    t.after(async () => { await fleet.stop() })
    const pids = fleet.pids()
    assert.deepEqual([...pids.keys()], NICKNAMES, `a pid per agent in:\n${fleet.out}`)
    assert.match(fleet.out, /kill -9 \d+ to make it down/)
    await waitFor(async () => [...(await fleet.statuses()).values()].filter((s) => s === 'healthy').length === 3,
      { timeoutMs: 30_000, what: 'three healthy nodes' })

    process.kill(pids.get('lotus-bravo')!, 'SIGKILL')
    await fleet.said(/^lotus-bravo exited \(SIGKILL\); the fleet goes on — its node turns down on the page/m)
    const after = await waitFor(async () => {
      const s = await fleet.statuses()
      return s.get('lotus-bravo') === 'down' ? s : undefined
    }, { what: 'lotus-bravo down' })
    assert.equal(after.get('lotus-alpha'), 'healthy')
    assert.equal(after.get('lotus-charlie'), 'healthy')
    assert.equal(fleet.proc.exitCode, null, 'npm start is still running')

    assert.equal(await fleet.stop(), 0)
    assert.match(fleet.out, /local fleet stopped/)
    for (const name of ['lotus-alpha', 'lotus-charlie']) assert.equal(alive(pids.get(name)!), false, `${name} stopped with it`)
  })

  it('stops everything, with a line saying why, when the aggregator dies', async (t) => {
    const fleet = await LocalFleet.start()
    t.after(async () => { await fleet.stop() })
    const aggregatorPid = Number((await fleet.said(/Aggregator: .+ \(pid (\d+)\)/))[1])
    const agents = [...fleet.pids().values()]
    process.kill(aggregatorPid, 'SIGKILL')
    await fleet.said(/^the aggregator exited \(SIGKILL\); stopping the agents/m)
    assert.equal(await fleet.exited, 1)
    for (const pid of agents) assert.equal(alive(pid), false, `agent ${pid} stopped`)
  })

  it('--chaos: every fault and its undoing within a bounded time, and every status shows on the page', async (t) => {
    const everyMs = 6_000
    const fleet = await LocalFleet.start(['--chaos', '--chaos-seed', '11', '--chaos-every', `${everyMs}ms`])
    t.after(async () => { await fleet.stop() })
    assert.match(fleet.out, /Chaos: a fault every 6s \(seed 11\)/)
    const seen = new Set<string>()
    let watching = true
    const watcher = (async () => {
      while (watching) {
        for (const status of (await fleet.statuses().catch(() => new Map<string, string>())).values()) seen.add(status)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    })()
    t.after(async () => { watching = false; await watcher })
    // One round of faults: FAULTS.length of them, one every `everyMs`; a little more for the last one's undoing.
    const boundMs = (FAULTS.length + 1) * everyMs + 5_000
    const chaosStarted = Date.now()
    for (const fault of FAULTS) {
      await fleet.said(new RegExp(`^chaos: .*it turns ${FAULT_SHOWS[fault]}$`, 'm'), boundMs - (Date.now() - chaosStarted))
    }
    await waitFor(() => (fleet.out.match(/^chaos: .*back to healthy$/gm) ?? []).length >= FAULTS.length, { timeoutMs: boundMs - (Date.now() - chaosStarted), what: `every fault undone in:\n${fleet.out}` })
    await waitFor(() => NODE_STATUSES.every((s) => seen.has(s)), { timeoutMs: 5_000, what: `every status on the page (seen: ${[...seen].join(', ')})` })
    // Chaos's own kills are not reported as deaths.
    assert.doesNotMatch(fleet.out, /exited \(SIGKILL\); the fleet goes on/)
    assert.equal(await fleet.stop(), 0)
  })
})
