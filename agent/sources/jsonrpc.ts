import { z } from 'zod'
import { ErrorCodes, HeartbeatError, UsageError } from '../../shared/errors.ts'
import { describeIssues } from '../../shared/validation.ts'
import { MAX_RPC_ANSWER_BYTES } from '../constants.ts'
import { describeFetchError, readLimited } from '../http-body.ts'

/** A node's own error text is cut to this in our messages (some send whole stack traces). */
const MAX_ERROR_MESSAGE_CHARS = 300

/** The node answered a call with a JSON-RPC error object. */
export class JsonRpcError extends HeartbeatError {
  readonly method: string
  readonly rpcCode: number
  constructor (method: string, rpcCode: number, message: string) {
    super(ErrorCodes.RPC_ERROR, `${method}: the node answered with error ${rpcCode}: ${message.slice(0, MAX_ERROR_MESSAGE_CHARS)}`)
    this.name = 'JsonRpcError'
    this.method = method
    this.rpcCode = rpcCode
  }
}

export interface JsonRpcClientOptions {
  /** http:// or https:// endpoint (ws:// and wss:// through createJsonRpcClient). */
  url: string
  /** Sent as `Authorization: Bearer <token>`; never appears in errors or logs. */
  token?: string
  maxAnswerBytes?: number
}

const rpcErrorSchema = z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() })

/** What a source needs of a JSON-RPC client, over HTTP or websocket: calls, validated answers, a close. */
export interface JsonRpcCaller {
  /** scheme://host:port only, for messages. */
  readonly endpoint: string
  call<S extends z.ZodType> (method: string, params: unknown[], schema: S, options: { signal: AbortSignal }): Promise<z.output<S>>
  callRaw (method: string, params: unknown[], options: { signal: AbortSignal }): Promise<unknown>
  close (): Promise<void>
}

const envelopeSchema = z.object({
  // Required by the spec; some proxies drop it, and its absence alone does not make an answer nonsense.
  jsonrpc: z.literal('2.0').optional(),
  id: z.union([z.number(), z.string(), z.null()]),
  result: z.unknown().optional(),
  error: rpcErrorSchema.optional(),
})

/**
 * The endpoint as it may appear in messages: scheme, host and port only, since
 * paths and user info often carry API keys (…/v3/<key>).
 */
export function describeEndpoint (url: URL): string {
  return `${url.protocol}//${url.host}`
}

export function parseHttpUrl (text: string, what: string): URL {
  return parseUrl(text, what, ['http:', 'https:'])
}

/** A JSON-RPC endpoint of a node: HTTP POST, or a websocket (Lotus serves both on one path). */
export function parseRpcUrl (text: string, what: string): URL {
  return parseUrl(text, what, ['http:', 'https:', 'ws:', 'wss:'])
}

function parseUrl (text: string, what: string, schemes: string[]): URL {
  const names = schemes.map((s) => `${s}//`)
  const expected = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}` : names.join('')
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what} "${text}": expected an ${names.join(' or ')} URL`)
  }
  if (!schemes.includes(url.protocol)) {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what} "${describeEndpoint(url)}": only ${expected} are supported`)
  }
  return url
}

/** Checks a call's result against the caller's schema: nonsense is a clear error, never a wrong head. */
export function checkResult<S extends z.ZodType> (method: string, endpoint: string, result: unknown, schema: S): z.output<S> {
  const parsed = schema.safeParse(result)
  if (!parsed.success) {
    throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: unexpected answer from ${endpoint}: ${describeIssues(parsed.error, { prefix: ['result'] })}`)
  }
  return parsed.data
}

export type JsonRpcEnvelope = z.output<typeof envelopeSchema>

/** Validates the JSON-RPC 2.0 answer envelope; `where` says how it came ("HTTP 200", "over the websocket"). */
export function parseEnvelope (method: string, endpoint: string, body: unknown, where: string, hint = ''): JsonRpcEnvelope {
  const envelope = envelopeSchema.safeParse(body)
  if (!envelope.success) {
    throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: ${endpoint} answered ${where} with JSON that is not a JSON-RPC 2.0 answer (${describeIssues(envelope.error)})${hint}`)
  }
  return envelope.data
}

/** The result of a validated envelope: the node's error as a JsonRpcError, a wrong id or no result as BAD_ANSWER. */
export function resultOf (method: string, endpoint: string, envelope: JsonRpcEnvelope, body: unknown, id: number): unknown {
  if (envelope.error !== undefined) throw new JsonRpcError(method, envelope.error.code, envelope.error.message)
  if (envelope.id !== id) {
    throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: ${endpoint} answered request ${id} with id ${JSON.stringify(envelope.id)}`)
  }
  if (!Object.hasOwn(body as object, 'result')) {
    throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: ${endpoint} answered with neither a result nor an error`)
  }
  return envelope.result
}

/**
 * A small JSON-RPC 2.0 client over HTTP POST (Lotus, Ethereum clients). Every
 * answer is validated twice: the envelope here, the result by the caller's
 * schema, so a node that answers nonsense gives a clear error instead of a
 * wrong head.
 */
export class JsonRpcClient implements JsonRpcCaller {
  readonly endpoint: string
  private readonly url: URL
  private readonly token: string | undefined
  private readonly maxAnswerBytes: number
  private nextId = 1

  constructor (options: JsonRpcClientOptions) {
    this.url = parseHttpUrl(options.url, 'JSON-RPC URL')
    this.endpoint = describeEndpoint(this.url)
    this.token = options.token !== undefined && options.token !== '' ? options.token : undefined
    this.maxAnswerBytes = options.maxAnswerBytes ?? MAX_RPC_ANSWER_BYTES
  }

  /** Calls `method` and returns its result, validated by `schema`. */
  async call<S extends z.ZodType> (method: string, params: unknown[], schema: S, options: { signal: AbortSignal }): Promise<z.output<S>> {
    return checkResult(method, this.endpoint, await this.callRaw(method, params, options), schema)
  }

  /** Nothing to close: every call is its own request. */
  async close (): Promise<void> {}

  /** Calls `method` and returns its result unvalidated (for checks that only care that it answers). */
  async callRaw (method: string, params: unknown[], options: { signal: AbortSignal }): Promise<unknown> {
    const id = this.nextId++
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`
    let res: Response
    let text: string
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: options.signal,
        redirect: 'error',
      })
      text = await readLimited(res, this.maxAnswerBytes)
    } catch (err) {
      if (err instanceof HeartbeatError) throw new HeartbeatError(err.code, `${method}: ${err.message} from ${this.endpoint}`)
      if (options.signal.aborted) throw new HeartbeatError(ErrorCodes.TIMEOUT, `${method}: no answer from ${this.endpoint} in time`)
      throw new HeartbeatError(ErrorCodes.SOURCE_FAILED, `${method}: cannot reach ${this.endpoint}: ${describeFetchError(err)}`)
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: ${this.endpoint} answered HTTP ${res.status} with ${text === '' ? 'an empty body' : `something that is not JSON: ${JSON.stringify(text.slice(0, 120))}`}${authHint(res.status)}`)
    }
    const envelope = parseEnvelope(method, this.endpoint, body, `HTTP ${res.status}`, authHint(res.status))
    if (envelope.error === undefined && !res.ok) {
      throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: ${this.endpoint} answered HTTP ${res.status}${authHint(res.status)}`)
    }
    return resultOf(method, this.endpoint, envelope, body, id)
  }
}

export function authHint (status: number): string {
  return status === 401 || status === 403 ? ' (the node refused the request: check the API token)' : ''
}

