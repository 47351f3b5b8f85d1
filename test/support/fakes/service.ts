import type { IncomingHttpHeaders } from 'node:http'
import { startHttpServer } from '../servers.ts'

/** One request a fake service got. */
export interface Recorded {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  text: string
  /** The body as JSON, or undefined when it is not JSON. */
  json: any
  /** Date.now() when it arrived. */
  at: number
}

/** What a fake answers: a status, headers, and a body (JSON unless a string). */
export interface Answer {
  status: number
  headers?: Record<string, string>
  body?: unknown
}

export interface FakeService {
  /** http://127.0.0.1:PORT (no trailing slash). */
  url: string
  /** Every request, in order, whatever it was answered. */
  requests: Recorded[]
  /** The requests the service accepted (answered 2xx). */
  accepted: Recorded[]
  /** The next requests get these answers instead of the service's own (429s, 5xx...), one each, in order. */
  answerNext: (...answers: Answer[]) => void
  close: () => Promise<void>
}

/**
 * The base every fake service (Telegram, Discord, Slack, PagerDuty, Matrix,
 * a dead man's switch) shares: a real HTTP server on 127.0.0.1 that records
 * every request and answers it as the service's documented API would
 * (`handle`), unless the test scripted the next answers. A service's file
 * only says how it validates a request and what it answers.
 */
export async function startFakeService (handle: (request: Recorded) => Answer): Promise<FakeService> {
  const requests: Recorded[] = []
  const accepted: Recorded[] = []
  const scripted: Answer[] = []
  const server = await startHttpServer((req, res, text) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    let json: unknown
    try { json = JSON.parse(text) } catch { json = undefined }
    const recorded: Recorded = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, text, json, at: Date.now() }
    requests.push(recorded)
    const answer = scripted.shift() ?? handle(recorded)
    if (answer.status >= 200 && answer.status < 300) accepted.push(recorded)
    const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
    const type = typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'
    res.writeHead(answer.status, { ...(body !== '' ? { 'content-type': type } : {}), ...answer.headers }).end(body)
  })
  return {
    url: server.url,
    requests,
    accepted,
    answerNext: (...answers) => { scripted.push(...answers) },
    close: server.close,
  }
}

/** A JSON answer. */
export function json (status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return { status, body, headers }
}
