import { ErrorCodes } from '../../shared/errors.ts'
import { describeFetchError } from '../http-body.ts'
import { describeEndpoint } from '../sources/jsonrpc.ts'
import { CheckFailure, type Probe } from './types.ts'

/** GETs `url`; any 2xx answer is ready. The body is not read: only that the service answers counts. */
export function httpProbe (url: URL): Probe {
  const endpoint = describeEndpoint(url)
  return async (signal) => {
    let res: Response
    try {
      res = await fetch(url, { signal, headers: { accept: '*/*' } })
    } catch (err) {
      if (signal.aborted) throw new CheckFailure(ErrorCodes.TIMEOUT, `no answer from ${endpoint} in time`)
      throw new CheckFailure(ErrorCodes.SOURCE_FAILED, `cannot reach ${endpoint}: ${describeFetchError(err)}`)
    }
    await res.body?.cancel().catch(() => {})
    if (res.status < 200 || res.status > 299) {
      throw new CheckFailure(ErrorCodes.BAD_ANSWER, `${endpoint} answered HTTP ${res.status}`, { httpStatus: res.status })
    }
    return { status: 'ready', details: { httpStatus: res.status } }
  }
}
