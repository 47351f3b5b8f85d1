import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'

export interface Received { body: any, headers: IncomingHttpHeaders, at: number }

export interface WebhookSink {
  url: string
  received: Received[]
  /** Answers the next `n` requests with this status (e.g. 503) before accepting again. */
  failNext: (n: number, status?: number, headers?: Record<string, string>) => void
  /** Requests answered with an error so far. */
  refused: number
  close: () => Promise<void>
}

/** A local HTTP server standing in for a chat tool or pager: records every JSON POST. */
export async function startWebhookSink (): Promise<WebhookSink> {
  let failures = 0
  let failStatus = 503
  let failHeaders: Record<string, string> = {}
  const sink: Partial<WebhookSink> & { received: Received[], refused: number } = { received: [], refused: 0 }
  const server: Server = createServer((req, res) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { text += chunk })
    req.on('end', () => {
      if (failures > 0) {
        failures--
        sink.refused++
        res.writeHead(failStatus, failHeaders).end('not now')
        return
      }
      let body: unknown
      try { body = JSON.parse(text) } catch { body = text }
      sink.received.push({ body, headers: req.headers, at: Date.now() })
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  sink.url = `http://127.0.0.1:${port}/hook`
  sink.failNext = (n, status = 503, headers = {}) => { failures = n; failStatus = status; failHeaders = headers }
  sink.close = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }
  return sink as WebhookSink
}
