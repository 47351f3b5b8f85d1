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
  /** http:// or https:// endpoint. */
  url: string
  /** Sent as `Authorization: Bearer <token>`; never appears in errors or logs. */
  token?: string
  maxAnswerBytes?: number
}

const rpcErrorSchema = z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() })

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
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what} "${text}": expected an http:// or https:// URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(ErrorCodes.INVALID_ARGUMENT, `invalid ${what} "${describeEndpoint(url)}": only http:// and https:// are supported`)
  }
  return url
}

/**
 * A small JSON-RPC 2.0 client over HTTP POST (Lotus, Ethereum clients). Every
 * answer is validated twice: the envelope here, the result by the caller's
 * schema, so a node that answers nonsense gives a clear error instead of a
 * wrong head.
 */
export class JsonRpcClient {
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
    const result = await this.callRaw(method, params, options)
    const parsed = schema.safeParse(result)
    if (!parsed.success) {
      throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: unexpected answer from ${this.endpoint}: ${describeIssues(parsed.error, { prefix: ['result'] })}`)
    }
    return parsed.data
  }

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
    const envelope = envelopeSchema.safeParse(body)
    if (!envelope.success) {
      throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: ${this.endpoint} answered HTTP ${res.status} with JSON that is not a JSON-RPC 2.0 answer (${describeIssues(envelope.error)})${authHint(res.status)}`)
    }
    const answer = envelope.data
    if (answer.error !== undefined) throw new JsonRpcError(method, answer.error.code, answer.error.message)
    if (!res.ok) {
      throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: ${this.endpoint} answered HTTP ${res.status}${authHint(res.status)}`)
    }
    if (answer.id !== id) {
      throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: ${this.endpoint} answered request ${id} with id ${JSON.stringify(answer.id)}`)
    }
    if (!Object.hasOwn(body as object, 'result')) {
      throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `${method}: ${this.endpoint} answered with neither a result nor an error`)
    }
    return answer.result
  }
}

function authHint (status: number): string {
  return status === 401 || status === 403 ? ' (the node refused the request: check the API token)' : ''
}

