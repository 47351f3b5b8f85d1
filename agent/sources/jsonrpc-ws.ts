import WebSocket from 'ws'
import type { z } from 'zod'
import { raceAbort } from '../../shared/abort.ts'
import { ErrorCodes, HeartbeatError } from '../../shared/errors.ts'
import { MAX_RPC_ANSWER_BYTES } from '../constants.ts'
import {
  authHint, checkResult, describeEndpoint, JsonRpcClient, parseEnvelope, parseRpcUrl, resultOf,
  type JsonRpcCaller, type JsonRpcClientOptions,
} from './jsonrpc.ts'

/** Calls waiting for an answer on one socket; more is a node that has stopped answering (they time out anyway). */
const MAX_PENDING_CALLS = 64

interface Pending {
  method: string
  resolve: (body: unknown) => void
  reject: (err: Error) => void
}

/**
 * JSON-RPC 2.0 over a websocket (Lotus serves its API as ws://HOST:1234/rpc/v1
 * too; so do Forest, Venus and Ethereum clients). One socket, opened on the
 * first call and kept, answers matched to calls by id. Bounded like the HTTP
 * client: an answer over MAX_RPC_ANSWER_BYTES closes the socket, every call
 * ends at its signal (and a call that timed out drops the socket, so the next
 * poll starts on a fresh one), and answers are validated the same way. The
 * token goes in the Authorization header of the upgrade request, which is
 * what Lotus reads first (lib/auth/handler.go); it never appears in a URL,
 * an error or a log.
 */
export class WebSocketJsonRpcClient implements JsonRpcCaller {
  readonly endpoint: string
  private readonly url: URL
  private readonly token: string | undefined
  private readonly maxAnswerBytes: number
  private socket: WebSocket | undefined
  private opening: Promise<WebSocket> | undefined
  /** The socket being opened, so a call whose deadline passes can give it up. */
  private openingSocket: WebSocket | undefined
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  constructor (options: JsonRpcClientOptions) {
    this.url = parseRpcUrl(options.url, 'JSON-RPC URL')
    if (this.url.protocol !== 'ws:' && this.url.protocol !== 'wss:') {
      throw new HeartbeatError(ErrorCodes.INVALID_ARGUMENT, `${describeEndpoint(this.url)} is not a websocket URL`)
    }
    this.endpoint = describeEndpoint(this.url)
    this.token = options.token !== undefined && options.token !== '' ? options.token : undefined
    this.maxAnswerBytes = options.maxAnswerBytes ?? MAX_RPC_ANSWER_BYTES
  }

  async call<S extends z.ZodType> (method: string, params: unknown[], schema: S, options: { signal: AbortSignal }): Promise<z.output<S>> {
    return checkResult(method, this.endpoint, await this.callRaw(method, params, options), schema)
  }

  async callRaw (method: string, params: unknown[], options: { signal: AbortSignal }): Promise<unknown> {
    const { signal } = options
    const late = (): Error => new HeartbeatError(ErrorCodes.TIMEOUT, `${method}: no answer from ${this.endpoint} in time`)
    let socket: WebSocket
    try {
      socket = await raceAbort(this.connect(method), signal, late)
    } catch (err) {
      // No handshake outlives the deadline of the call that started it (a blackholed host would hold it for minutes).
      if (signal.aborted) this.openingSocket?.terminate()
      throw err
    }
    if (this.pending.size >= MAX_PENDING_CALLS) {
      this.drop(new HeartbeatError(ErrorCodes.TIMEOUT, `${this.endpoint} leaves ${MAX_PENDING_CALLS} calls unanswered`))
      throw new HeartbeatError(ErrorCodes.TIMEOUT, `${method}: ${this.endpoint} leaves ${MAX_PENDING_CALLS} calls unanswered`)
    }
    const id = this.nextId++
    const body = await new Promise<unknown>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.pending.delete(id)) return
        reject(late())
        // A socket on which an answer did not come in time is not trusted with the next poll.
        this.drop(new HeartbeatError(ErrorCodes.TIMEOUT, `no answer from ${this.endpoint} in time`), socket)
      }
      const done = (): void => { signal.removeEventListener('abort', onAbort) }
      this.pending.set(id, {
        method,
        resolve: (value) => { done(); resolve(value) },
        reject: (err) => { done(); reject(err) },
      })
      signal.addEventListener('abort', onAbort, { once: true })
      if (signal.aborted) {
        onAbort()
        return
      }
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }), (err) => {
        if (err === undefined || err === null) return
        const entry = this.pending.get(id)
        this.pending.delete(id)
        entry?.reject(new HeartbeatError(ErrorCodes.SOURCE_FAILED, `${method}: cannot send to ${this.endpoint}: ${err.message}`))
      })
    })
    return resultOf(method, this.endpoint, parseEnvelope(method, this.endpoint, body, 'over the websocket'), body, id)
  }

  /** Closes the socket (the agent stops); calls still waiting fail. */
  async close (): Promise<void> {
    this.drop(new HeartbeatError(ErrorCodes.SOURCE_FAILED, 'the agent is stopping'))
  }

  private async connect (method: string): Promise<WebSocket> {
    if (this.socket?.readyState === WebSocket.OPEN) return this.socket
    this.opening ??= this.open(method).finally(() => { this.opening = undefined })
    return await this.opening
  }

  private async open (method: string): Promise<WebSocket> {
    const headers: Record<string, string> = {}
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`
    const socket = new WebSocket(this.url, {
      headers,
      maxPayload: this.maxAnswerBytes,
      // A compressed answer could inflate past any limit before it is counted; nodes answer plain text anyway.
      perMessageDeflate: false,
      followRedirects: false,
    })
    this.openingSocket = socket
    return await new Promise<WebSocket>((resolve, reject) => {
      let opened = false
      socket.on('open', () => {
        opened = true
        if (this.openingSocket === socket) this.openingSocket = undefined
        this.socket = socket
        resolve(socket)
      })
      socket.on('message', (data, isBinary) => { this.onMessage(socket, data, isBinary) })
      socket.on('error', (err: Error & { code?: string }) => {
        const failure = this.describeSocketError(method, err, opened)
        if (!opened) {
          if (this.openingSocket === socket) this.openingSocket = undefined
          socket.terminate()
          reject(failure)
          return
        }
        this.drop(failure, socket)
      })
      socket.on('close', (code, reason) => {
        if (this.socket === socket) this.socket = undefined
        const text = reason.toString('utf8').slice(0, 120)
        this.failAll(new HeartbeatError(ErrorCodes.SOURCE_FAILED, `${this.endpoint} closed the websocket (code ${code}${text !== '' ? `: ${text}` : ''})`))
        if (!opened) reject(new HeartbeatError(ErrorCodes.SOURCE_FAILED, `${method}: ${this.endpoint} closed the websocket before it opened (code ${code})`))
      })
    })
  }

  private onMessage (socket: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    let body: unknown
    try {
      if (isBinary) throw new Error('binary')
      body = JSON.parse(textOf(data))
    } catch {
      this.drop(new HeartbeatError(ErrorCodes.BAD_ANSWER, `${this.endpoint} sent something that is not JSON over the websocket`), socket)
      return
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      this.drop(new HeartbeatError(ErrorCodes.BAD_ANSWER, `${this.endpoint} sent JSON that is not a JSON-RPC 2.0 answer over the websocket`), socket)
      return
    }
    const id = (body as { id?: unknown }).id
    // Notifications (Lotus's xrpc.* channel messages) and late answers to calls that timed out carry no id we wait for.
    if (typeof id !== 'number') return
    const entry = this.pending.get(id)
    if (entry === undefined) return
    this.pending.delete(id)
    entry.resolve(body)
  }

  private describeSocketError (method: string, err: Error & { code?: string }, opened: boolean): HeartbeatError {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      return new HeartbeatError(ErrorCodes.BAD_ANSWER, `${this.endpoint} sent an answer larger than ${this.maxAnswerBytes} bytes over the websocket`)
    }
    const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1]
    if (status !== undefined) {
      return new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: ${this.endpoint} refused the websocket with HTTP ${status}${authHint(Number(status))}`)
    }
    const detail = err.code !== undefined ? `${err.code} ${err.message}` : err.message
    return new HeartbeatError(ErrorCodes.SOURCE_FAILED, opened ? `the websocket to ${this.endpoint} failed: ${detail}` : `${method}: cannot reach ${this.endpoint}: ${detail}`)
  }

  /** Drops the socket (a new one opens on the next call) and fails what waits on it. */
  private drop (err: Error, socket: WebSocket | undefined = this.socket): void {
    if (socket !== undefined) {
      if (this.socket === socket) this.socket = undefined
      socket.terminate()
    }
    this.failAll(err)
  }

  private failAll (err: Error): void {
    const waiting = [...this.pending.values()]
    this.pending.clear()
    for (const entry of waiting) entry.reject(new HeartbeatError((err as HeartbeatError).code ?? ErrorCodes.SOURCE_FAILED, `${entry.method}: ${err.message}`))
  }
}

/** The client for a node's URL: a websocket for ws:// and wss://, HTTP POST otherwise. */
export function createJsonRpcClient (options: JsonRpcClientOptions): JsonRpcCaller {
  const url = parseRpcUrl(options.url, 'JSON-RPC URL')
  return url.protocol === 'ws:' || url.protocol === 'wss:' ? new WebSocketJsonRpcClient(options) : new JsonRpcClient(options)
}

function textOf (data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8')
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return Buffer.from(data).toString('utf8')
}
