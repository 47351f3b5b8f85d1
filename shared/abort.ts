/** Resolves after `ms`, or at once (without throwing) when `signal` aborts. */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms))
    function done (): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** A signal that aborts when any input does or after `timeoutMs`. */
export function withTimeout (timeoutMs: number, ...signals: Array<AbortSignal | undefined>): AbortSignal {
  const all = signals.filter((s): s is AbortSignal => s !== undefined)
  return AbortSignal.any([...all, AbortSignal.timeout(timeoutMs)])
}

/**
 * Settles with `promise`, or rejects with `onAbort()` as soon as `signal`
 * aborts: an I/O call that ignores its signal still cannot hang the caller.
 */
export async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {})
    throw onAbort()
  }
  return await new Promise<T>((resolve, reject) => {
    const abort = (): void => { reject(onAbort()) }
    signal.addEventListener('abort', abort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', abort) })
  })
}
