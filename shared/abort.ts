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
