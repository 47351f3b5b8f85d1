// Many LeanAgents in one process, driven by one scheduler: a wheel of beat
// slots turned by a single timer (an agent's beats keep the phase of its
// connection, like the real agent's fixed-phase ticker), the same for the
// connection-monitor pings, and a dial queue that runs at most a few
// handshakes at once. On this 2-core machine, dialling hundreds at once turns
// slow handshakes into timeouts and the retries into a storm of their own.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { ChainMonitor } from '../../agent/chain-monitor.ts'
import { buildHeartbeat } from '../../agent/beat.ts'
import { DEFAULT_SOURCE_TIMEOUT_MS } from '../../agent/constants.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import type { WeightedTarget } from '../../agent/targets.ts'
import { systemClock } from '../../shared/clock.ts'
import { PRODUCT_VERSION } from '../../shared/version.ts'
import { leanIdentity } from '../../test/support/lean-connection.ts'
import { DIAL_FAILURES, LeanAgent, type DialFailure } from './lean-agent.ts'

/** The scheduler's resolution: beats go out within this of their slot. */
export const SWARM_TICK_MS = 50
/** Handshakes one worker runs at once (see the header). */
export const DEFAULT_CONCURRENT_HANDSHAKES = 4
/** The demo chain's block time, as `heartbeat-agent --source demo` uses by default. */
const DEMO_BLOCK_TIME_MS = 5_000

export interface LeanSwarmOptions {
  count: number
  target: WeightedTarget
  beatPeriodMs: number
  reconnectPeriodMs: number
  /** Names are `${nicknamePrefix}-${i}`. */
  nicknamePrefix: string
  concurrentHandshakes?: number
  /** A yamux PING per connection this often, answered within LINK_PING_TIMEOUT_MS or the connection is dropped, as the real agent's link watcher does; 0 = off. */
  linkPingMs?: number
  /** One origin for every demo chain: the whole fleet agrees on heads, like nodes of one network. */
  originMs: number
}

export interface LeanSwarmStatus {
  agents: number
  connected: number
  dialing: number
  beatsSent: number
  connectFailures: number
  /** Failed connection attempts so far, by cause (lean-agent.ts, classifyDialFailure). */
  failures: Record<DialFailure, number>
  /** Why agents are not connected, by cause. */
  errors: Record<string, number>
}

/** Entries of a wheel slot: the agent and the connection (generation) it was scheduled for. */
interface Entry { agent: LeanAgent, generation: number }

/** Fires each entry once per turn, in the slot it was added to; an entry whose connection is gone is dropped. */
class Wheel {
  private readonly slots: Entry[][]
  private cursor = 0
  constructor (periodMs: number) {
    this.slots = Array.from({ length: Math.max(1, Math.round(periodMs / SWARM_TICK_MS)) }, () => [])
  }

  /** Fires one turn from the current slot on (so the first firing is one period away). */
  add (agent: LeanAgent): void {
    this.slots[this.cursor]!.push({ agent, generation: agent.generation })
  }

  /** Advances one slot and fires its entries that are still current. */
  step (fire: (agent: LeanAgent) => void): void {
    this.cursor = (this.cursor + 1) % this.slots.length
    const due = this.slots[this.cursor]!
    const kept: Entry[] = []
    for (const entry of due) {
      if (entry.agent.status !== 'connected' || entry.agent.generation !== entry.generation) continue
      fire(entry.agent)
      if (entry.agent.status === 'connected' && entry.agent.generation === entry.generation) kept.push(entry)
    }
    this.slots[this.cursor] = kept
  }
}

export class LeanSwarm {
  readonly agents: LeanAgent[] = []
  private readonly options: LeanSwarmOptions
  private readonly beats: Wheel
  private readonly pings: Wheel | undefined
  private readonly monitor: ChainMonitor
  private readonly pending = new Set<LeanAgent>()
  private inFlight = 0
  private timer: ReturnType<typeof setInterval> | undefined
  private lastTickAt = 0
  private lastPollAt = 0
  private stopped = false
  private readonly startedAt = Date.now()

  constructor (options: LeanSwarmOptions) {
    this.options = options
    this.beats = new Wheel(options.beatPeriodMs)
    this.pings = (options.linkPingMs ?? 0) > 0 ? new Wheel(options.linkPingMs!) : undefined
    this.monitor = new ChainMonitor(new DemoChainSource({ blockTimeMs: DEMO_BLOCK_TIME_MS, originMs: options.originMs }), { timeoutMs: DEFAULT_SOURCE_TIMEOUT_MS })
  }

  /** Makes every identity (Ed25519 keys), then starts dialling; resolves at once. */
  async start (): Promise<void> {
    await this.monitor.poll()
    for (let i = 0; i < this.options.count; i++) {
      const nickname = `${this.options.nicknamePrefix}-${i}`
      const agent: LeanAgent = new LeanAgent({
        // As the real agent's host (agent/host.ts): yamux's own keep-alive off, the link pinged by the swarm's wheel.
        identity: leanIdentity(await generateKeyPair('Ed25519'), { enableKeepAlive: false }),
        target: this.options.target,
        beatPeriodMs: this.options.beatPeriodMs,
        reconnectPeriodMs: this.options.reconnectPeriodMs,
        now: systemClock.monotonic,
        makeBeat: (seq, state, periodMs) => buildHeartbeat({
          snapshot: this.monitor.snapshot(),
          nickname,
          minerAddress: '',
          seq,
          sentAt: Date.now(),
          periodMs,
          agentVersion: PRODUCT_VERSION,
          agentStartedAt: this.startedAt,
          state,
        }),
        onDown: (down) => { this.pending.add(down) },
      })
      this.agents.push(agent)
      this.pending.add(agent)
    }
    this.lastTickAt = systemClock.monotonic()
    this.timer = setInterval(() => { this.tick() }, SWARM_TICK_MS)
    this.pumpDials()
  }

  /** True once every agent has sent at least one beat. */
  get allBeating (): boolean {
    return this.agents.every((a) => a.beatsSent > 0)
  }

  status (): LeanSwarmStatus {
    let connected = 0
    let dialing = 0
    let beatsSent = 0
    let connectFailures = 0
    const errors: Record<string, number> = {}
    const failures = Object.fromEntries(DIAL_FAILURES.map((f) => [f, 0])) as Record<DialFailure, number>
    for (const agent of this.agents) {
      for (const f of DIAL_FAILURES) failures[f] += agent.failures[f]
      if (agent.status === 'connected') connected++
      else if (agent.lastError !== undefined) {
        const cause = agent.lastError.slice(0, 80)
        errors[cause] = (errors[cause] ?? 0) + 1
      }
      if (agent.status === 'dialing') dialing++
      beatsSent += agent.beatsSent
      connectFailures += agent.connectFailures
    }
    return { agents: this.agents.length, connected, dialing, beatsSent, connectFailures, failures, errors }
  }

  /** Every agent's last "stopping" beat and close, as SIGTERM does to a real agent. */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    await Promise.all(this.agents.map(async (a) => { await a.stop() }))
  }

  /** Catches up every slot that is due (a busy event loop fires timers late), then starts what dials it may. */
  private tick (): void {
    const now = systemClock.monotonic()
    let due = Math.floor((now - this.lastTickAt) / SWARM_TICK_MS)
    this.lastTickAt += due * SWARM_TICK_MS
    while (due-- > 0) {
      this.beats.step((agent) => { agent.beat() })
      this.pings?.step((agent) => { void agent.linkPing() })
    }
    this.pollChainIfDue(now)
    this.pumpDials()
  }

  /** One chain poll per block for the whole swarm: every agent's beat carries the latest snapshot. */
  private pollChainIfDue (now: number): void {
    if (now - this.lastPollAt < DEMO_BLOCK_TIME_MS) return
    this.lastPollAt = now
    void this.monitor.poll()
  }

  private pumpDials (): void {
    if (this.stopped) return
    const limit = this.options.concurrentHandshakes ?? DEFAULT_CONCURRENT_HANDSHAKES
    if (this.inFlight >= limit || this.pending.size === 0) return
    const now = systemClock.monotonic()
    for (const agent of this.pending) {
      if (this.inFlight >= limit) break
      if (agent.status !== 'idle' || !agent.mayAttempt(now)) continue
      this.pending.delete(agent)
      this.inFlight++
      void agent.connect().then((ok) => {
        this.inFlight--
        if (ok) {
          this.beats.add(agent)
          this.pings?.add(agent)
        } else if (!this.stopped && agent.status === 'idle') {
          this.pending.add(agent)
        }
        this.pumpDials()
      })
    }
  }
}
