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

async function listen (server: Server): Promise<number> {
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  return (server.address() as AddressInfo).port
}

/** A real HTTP server on 127.0.0.1 with an ephemeral port. */
export async function startHttpServer (handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<RunningServer> {
  const server = createHttpServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => { body += chunk.toString() })
    req.on('end', () => { handler(req, res, body) })
  })
  const destroyAll = trackSockets(server)
  const port = await listen(server)
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    httpServer: server,
    close: async () => {
      destroyAll()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    },
  }
}

/** A TCP server that accepts connections and says nothing. */
export async function startTcpServer (): Promise<RunningServer> {
  const server = createTcpServer(() => {})
  const destroyAll = trackSockets(server)
  const port = await listen(server)
  return {
    url: `127.0.0.1:${port}`,
    port,
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
