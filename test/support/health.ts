import { spawnSync } from 'node:child_process'

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

/** `promtool check metrics` over an exposition; returns its exit status and what it said. */
export function promtoolCheck (exposition: string): { status: number | null, output: string } {
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 30_000 })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}
