import type { PrivateKey } from '@libp2p/interface'
import { Agent, type AgentOptions, type ServiceSpec } from '../../agent/agent.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import { parseWeightedTarget, type WeightedTarget } from '../../agent/targets.ts'
import { createLogger, type Logger } from '../../shared/log.ts'
import type { LogLine } from './processes.ts'

/** A logger that keeps its JSON lines in memory, for tests that assert what was logged. */
export function captureLogger (name = 'test-agent'): { logger: Logger, lines: LogLine[] } {
  const lines: LogLine[] = []
  const logger = createLogger({
    name,
    level: 'debug',
    destination: { write (line: string) { lines.push(JSON.parse(line) as LogLine) } },
  })
  return { logger, lines }
}

/** `weight=multiaddr` for an aggregator's first address. */
export function weighted (multiaddr: string, weight = 100): WeightedTarget {
  return parseWeightedTarget(`${weight}=${multiaddr}`)
}

export interface TestAgentOptions extends Partial<AgentOptions> {
  targets?: WeightedTarget[]
  beatPeriodMs?: number
  reconnectPeriodMs?: number
  privateKey?: PrivateKey
}

/** An agent in this process with the demo source and one "primary" service over `targets`. */
export async function startTestAgent (options: TestAgentOptions): Promise<Agent> {
  const services: ServiceSpec[] = options.services ?? [{
    name: 'primary',
    targets: options.targets ?? [],
    beatPeriodMs: options.beatPeriodMs ?? 200,
    reconnectPeriodMs: options.reconnectPeriodMs ?? 1_000,
  }]
  const agent = await Agent.create({
    source: new DemoChainSource({ blockTimeMs: 1_000 }),
    nickname: 'test-agent',
    dialTimeoutMs: 2_000,
    logger: createLogger({ name: 'test-agent', level: 'silent' }),
    ...options,
    services,
  })
  await agent.start()
  return agent
}
