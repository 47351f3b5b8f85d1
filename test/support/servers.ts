import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net'

export interface RunningServer {
  url: string
  port: number
  /** The node:http server itself (for 'upgrade' handlers); undefined for plain TCP servers. */
  httpServer?: HttpServer
  /** Closes the server and every connection still open (a hanging request included). */
  close: () => Promise<void>
}

function trackSockets (server: Server): () => void {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => { sockets.delete(socket) })
  })
  return () => { for (const socket of sockets) socket.destroy() }
}

async function listen (server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  return (server.address() as AddressInfo).port
}

/** A real HTTP server on 127.0.0.1, on an ephemeral port unless given one (a node that comes back where it was). */
export async function startHttpServer (handler: (req: IncomingMessage, res: ServerResponse, body: string) => void, port = 0): Promise<RunningServer> {
  const server = createHttpServer((req, res) => {
    let body = ''
    // Decoded as a stream: a character split across two chunks stays one character.
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => { handler(req, res, body) })
  })
  const destroyAll = trackSockets(server)
  const bound = await listen(server, port)
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    httpServer: server,
    close: async () => {
      destroyAll()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    },
  }
}

/** A TCP server that accepts connections and says nothing (on `port` when given). */
export async function startTcpServer (port = 0): Promise<RunningServer> {
  const server = createTcpServer(() => {})
  const destroyAll = trackSockets(server)
  const bound = await listen(server, port)
  return {
    url: `127.0.0.1:${bound}`,
    port: bound,
    close: async () => {
      destroyAll()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    },
  }
}

/** A port nothing listens on (it was free a moment ago): connections are refused. */
export async function refusedPort (): Promise<number> {
  const server = createTcpServer()
  const port = await listen(server)
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  return port
}

export function sendJson (res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
