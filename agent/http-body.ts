import { ErrorCodes, HeartbeatError } from '../shared/errors.ts'

/**
 * Reads a response body as text, refusing one larger than `maxBytes` (a node
 * or a checked service gone mad must not fill the agent's memory). The body
 * read honours the signal given to fetch.
 */
export async function readLimited (res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > maxBytes) {
    await res.body?.cancel()
    throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `an answer of ${declared} bytes (more than ${maxBytes}) came`)
  }
  if (res.body === null) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel()
      throw new HeartbeatError(ErrorCodes.BAD_ANSWER, `an answer of more than ${maxBytes} bytes came`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** fetch hides the socket error in `cause`: that is the useful part (ECONNREFUSED, ENOTFOUND...). */
export function describeFetchError (err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause
  if (cause instanceof Error) return cause.message
  return err instanceof Error ? err.message : String(err)
}
