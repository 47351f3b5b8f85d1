import { spawnSync } from 'node:child_process'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Agent, type AgentOptions } from '../../agent/agent.ts'
import { DemoChainSource } from '../../agent/sources/demo.ts'
import { createLogger } from '../../shared/log.ts'
import { parseTarget } from '../../shared/target.ts'

export const PROMTOOL = '/usr/bin/promtool'
export const PROMETHEUS = '/usr/bin/prometheus'

export interface HttpAnswer {
  status: number
  contentType: string
  text: string
}

/** One real HTTP request; the body as text (probe answers are text or JSON). */
export async function get (url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000), ...init })
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() }
}

export async function getJson<T = any> (url: string): Promise<{ status: number, contentType: string, body: T }> {
  const answer = await get(url)
  return { status: answer.status, contentType: answer.contentType, body: JSON.parse(answer.text) as T }
}

/** An in-process agent beating fast to one target, quiet logs. */
export async function startTestAgent (target: string, options: Partial<AgentOptions> = {}): Promise<Agent> {
  const agent = await Agent.create({
    services: [{ name: 'primary', targets: [{ target: parseTarget(target), weight: 100 }], beatPeriodMs: 200, reconnectPeriodMs: 300 }],
    source: new DemoChainSource({ blockTimeMs: 1_000 }),
    nickname: 'test-agent',
    privateKey: await generateKeyPair('Ed25519'),
    logger: createLogger({ name: 'test-agent', level: 'silent' }),
    ...options,
  })
  await agent.start()
  return agent
}

/** `promtool check metrics` over an exposition; returns its exit status and what it said. */
export function promtoolCheck (exposition: string): { status: number | null, output: string } {
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 30_000 })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}
