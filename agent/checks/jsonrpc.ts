import { ErrorCodes } from '../../shared/errors.ts'
import { JsonRpcClient, JsonRpcError } from '../sources/jsonrpc.ts'
import { CheckFailure, type Probe } from './types.ts'

/** A result this short is shown in the details (eth_blockNumber's "0x1b4"); longer ones are not. */
const MAX_SHOWN_RESULT_CHARS = 100

/** Calls `method`; ready when the server answers with a result (any result), in time. */
export function jsonRpcProbe (url: string, method: string, params: unknown[] = []): Probe {
  const client = new JsonRpcClient({ url })
  return async (signal) => {
    let result: unknown
    try {
      result = await client.callRaw(method, params, { signal })
    } catch (err) {
      if (err instanceof JsonRpcError) throw new CheckFailure(err.code, err.message, { method, rpcCode: err.rpcCode })
      if (err instanceof Error) throw new CheckFailure(ErrorCodes.SOURCE_FAILED, err.message, { method })
      throw err
    }
    const details: Record<string, unknown> = { method }
    const shown = JSON.stringify(result)
    if (shown !== undefined && shown.length <= MAX_SHOWN_RESULT_CHARS) details.result = result
    return { status: 'ready', details }
  }
}
